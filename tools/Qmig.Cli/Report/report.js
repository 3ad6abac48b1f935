// Draws qmig report's charts from the JSON in #qmig-data with Chart.js (inlined before this script).
// Every number comes from that JSON; nothing is fetched. window.qmigReport lists the charts when done.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('qmig-data').textContent);
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  const colors = { zero: '#9ecae1', normal: '#3182bd', xbzrle: '#e6550d', compressed: '#31a354', mapped: '#756bb1',
    requests: '#d62728', placements: '#2ca02c', background: '#1f77b4' };
  const charts = [];
  const hex = (n) => '0x' + Number(n).toString(16);
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const canvasIn = (parent, id, height) => {
    const box = el('div', { class: 'chart', style: 'height:' + height + 'px' });
    const canvas = el('canvas', { id: id });
    box.appendChild(canvas);
    parent.appendChild(box);
    return canvas;
  };
  const chart = (canvas, config) => { const c = new Chart(canvas, config); charts.push({ id: canvas.id, chart: c }); return c; };
  const table = (parent, cls, head, rows) => {
    const details = el('details');
    details.appendChild(el('summary', {}, 'table (' + rows.length + ' rows)'));
    parent.appendChild(details);
    parent = details;
    const t = el('table', { class: cls });
    const tr = el('tr');
    head.forEach((h) => tr.appendChild(el('th', {}, h)));
    t.appendChild(tr);
    rows.forEach((r) => { const row = el('tr'); r.forEach((c) => row.appendChild(el('td', {}, String(c)))); t.appendChild(row); });
    parent.appendChild(t);
    return t;
  };
  const stacked = (title, xTitle) => ({
    plugins: { title: { display: true, text: title } },
    scales: { x: { stacked: true, title: { display: true, text: xTitle } }, y: { stacked: true, beginAtZero: true } },
  });

  const root = document.getElementById('report');
  data.streams.forEach((s, n) => {
    const sec = el('section', { class: 'stream', 'data-file': s.file });
    sec.appendChild(el('h2', { title: s.file }, s.file.split('/').pop()));
    sec.appendChild(el('p', { class: 'note' }, s.file));
    sec.appendChild(el('p', {}, s.length + ' bytes read, ' + (s.complete ? 'complete' : 'incomplete') + '; ' + s.iterations + ' precopy rounds' + (s.error ? '; ' + s.error : '')));

    sec.appendChild(el('h3', {}, 'Pages per round'));
    sec.appendChild(el('p', { class: 'note' }, 'A round is one SECTION_PART of the RAM section up to its EOS; setup is the SECTION_START, final the SECTION_END.'));
    const kinds = [['zero', 'zero_pages'], ['normal', 'normal_pages'], ['xbzrle', 'xbzrle_pages'], ['compressed', 'compressed_pages'], ['mapped', 'mapped_pages']]
      .filter(([, key]) => s.rounds.some((r) => r[key] > 0));
    chart(canvasIn(sec, 'rounds-' + n, 300), {
      type: 'bar',
      data: { labels: s.rounds.map((r) => r.round + (r.phase === 'postcopy' ? ' (postcopy)' : '')),
        datasets: kinds.map(([name, key]) => ({ label: name, data: s.rounds.map((r) => r[key]), backgroundColor: colors[name], order: 1 }))
          .concat([{ type: 'line', label: 'all pages (right axis, log scale)', data: s.rounds.map((r) => r.pages), yAxisID: 'log',
            borderColor: '#444', backgroundColor: '#444', pointRadius: 2, order: 0 }]) },
      options: Object.assign(stacked('Pages sent in each round, by encoding', 'round'), {
        scales: { x: { stacked: true, title: { display: true, text: 'round' } }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'pages' } },
          log: { type: 'logarithmic', position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'pages (log)' } } },
      }),
    });
    table(sec, 'rounds', ['round', 'section', 'phase', 'offset', 'pages', 'zero', 'normal', 'xbzrle', 'xbzrle bytes', 'compressed', 'mapped'],
      s.rounds.map((r) => [r.round, r.section, r.phase, hex(r.offset), r.pages, r.zero_pages, r.normal_pages, r.xbzrle_pages, r.xbzrle_bytes, r.compressed_pages, r.mapped_pages]));

    sec.appendChild(el('h3', {}, 'RAM blocks: where pages were sent'));
    sec.appendChild(el('p', { class: 'note' }, 'Each bar is a region of the block: how many times, on average, each of its pages was sent, split by encoding. 1 means every page once; more means pages dirtied again and resent.'));
    s.blocks.forEach((b, i) => {
      const sent = b.regions.reduce((a, r) => a + r.zero + r.normal + r.xbzrle + r.compressed + r.mapped, 0);
      sec.appendChild(el('h4', {}, b.name + ' (' + hex(b.used_length) + ' bytes, ' + b.pages_per_region + ' pages a region): ' + sent + ' pages sent'));
      const pagesIn = (r) => Math.max(1, Math.ceil(r.length / s.page_size));
      const bk = ['zero', 'normal', 'xbzrle', 'compressed', 'mapped'].filter((key) => b.regions.some((r) => r[key] > 0));
      chart(canvasIn(sec, 'block-' + n + '-' + i, 200), {
        type: 'bar',
        data: { labels: b.regions.map((r) => hex(r.offset)),
          datasets: bk.map((key) => ({ label: key, sends: b.regions.map((r) => r[key]), data: b.regions.map((r) => r[key] / pagesIn(r)),
            backgroundColor: colors[key], barPercentage: 1, categoryPercentage: 1 })) },
        options: {
          plugins: { title: { display: true, text: 'Sends per page in each region of ' + b.name },
            tooltip: { callbacks: {
              label: (ctx) => ctx.dataset.label + ': ' + ctx.dataset.sends[ctx.dataIndex] + ' sends',
              afterBody: (items) => { const r = b.regions[items[0].dataIndex]; return r.pages_sent + ' of ' + pagesIn(r) + ' pages sent, one of them ' + r.most_sends + ' times'; } } } },
          scales: { x: { stacked: true, title: { display: true, text: 'offset in block' } }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'sends per page' } } },
        },
      });
    });

    sec.appendChild(el('h3', {}, 'Devices by size'));
    const devices = s.devices.slice().sort((a, b) => b.size - a.size || a.offset - b.offset);
    chart(canvasIn(sec, 'devices-' + n, 60 + 16 * devices.length), {
      type: 'bar',
      data: { labels: devices.map((d) => d.idstr + (d.instance ? ' #' + d.instance : '')), datasets: [{ label: 'body bytes', data: devices.map((d) => d.size), backgroundColor: '#6baed6' }] },
      options: { indexAxis: 'y', plugins: { title: { display: true, text: 'Device state bytes' }, legend: { display: false } }, scales: { x: { beginAtZero: true } } },
    });

    sec.appendChild(el('h3', {}, 'Timeline of the stream'));
    const names = Array.from(new Set(s.commands.map((c) => c.name)));
    const lanes = ['RAM rounds', 'devices'].concat(names);
    const points = (list, lane, label) => list.map((x) => ({ x: x.offset, y: lanes.indexOf(lane), label: label(x) }));
    const datasets = [
      { label: 'RAM rounds', data: points(s.rounds, 'RAM rounds', (r) => 'round ' + r.round + ' ' + r.pages + ' pages'), backgroundColor: colors.normal },
      { label: 'devices', data: points(s.devices, 'devices', (d) => d.idstr + ' ' + d.size + ' bytes'), backgroundColor: '#6baed6' },
    ].concat(names.map((name, k) => ({ label: name, data: points(s.commands.filter((c) => c.name === name), name, (c) => name + ' at ' + hex(c.offset)),
      backgroundColor: 'hsl(' + (k * 67 % 360) + ',70%,45%)', pointStyle: 'triangle', radius: 6 })));
    chart(canvasIn(sec, 'timeline-' + n, 80 + 28 * lanes.length), {
      type: 'scatter',
      data: { datasets: datasets },
      options: {
        plugins: { title: { display: true, text: 'Commands, RAM rounds and device sections by stream offset' },
          tooltip: { callbacks: { label: (ctx) => ctx.raw.label } } },
        scales: { x: { type: 'linear', min: 0, max: s.length, title: { display: true, text: 'stream offset' }, ticks: { callback: (v) => hex(v) } },
          y: { min: -0.5, max: lanes.length - 0.5, reverse: true, ticks: { stepSize: 1, callback: (v) => lanes[v] } } },
      },
    });
    table(sec, 'commands', ['command', 'offset', 'length', 'depth'], s.commands.map((c) => [c.name, hex(c.offset), c.length, c.depth]));
    root.appendChild(sec);
  });

  (data.postcopy || []).forEach((p, n) => {
    const sec = el('section', { class: 'postcopy' });
    sec.appendChild(el('h2', {}, 'Postcopy: ' + p.file));
    const axes = Array.from(new Set(p.series.map((ser) => ser.axis)));
    axes.forEach((axis, a) => {
      const series = p.series.filter((ser) => ser.axis === axis);
      sec.appendChild(el('h3', {}, axis === 'seconds' ? 'Requests and placements over time' : 'Page requests along the return path'));
      chart(canvasIn(sec, 'pc-timeline-' + n + '-' + a, 260), {
        type: 'line',
        data: { datasets: series.map((ser, k) => ({ label: ser.name, data: ser.points, stepped: true, pointRadius: 0,
          borderColor: ['#d62728', '#2ca02c', '#1f77b4', '#9467bd'][k % 4], backgroundColor: ['#d62728', '#2ca02c', '#1f77b4', '#9467bd'][k % 4] })) },
        options: { plugins: { title: { display: true, text: 'Cumulative pages by ' + axis } },
          scales: { x: { type: 'linear', title: { display: true, text: axis } }, y: { beginAtZero: true, title: { display: true, text: 'pages' } } } },
      });
    });
    p.distributions.forEach((d, i) => {
      sec.appendChild(el('h3', {}, d.name + ': p50 ' + d.p50 + ' µs, p99 ' + d.p99 + ' µs, ' + d.count + ' samples'));
      chart(canvasIn(sec, 'pc-hist-' + n + '-' + i, 220), {
        type: 'bar',
        data: { labels: d.buckets.map((b) => '≤ ' + b.le + ' µs'), datasets: [{ label: d.name, data: d.buckets.map((b) => b.count), backgroundColor: '#fd8d3c' }] },
        options: { plugins: { title: { display: true, text: d.name + ' (p50 ' + d.p50 + ' µs, p99 ' + d.p99 + ' µs)' }, legend: { display: false } }, scales: { y: { beginAtZero: true } } },
      });
    });
    if (p.states.length) {
      sec.appendChild(el('h3', {}, 'Time in each postcopy state'));
      chart(canvasIn(sec, 'pc-states-' + n, 60 + 22 * p.states.length), {
        type: 'bar',
        data: { labels: p.states.map((s) => s.state), datasets: [{ label: 'seconds', data: p.states.map((s) => s.seconds), backgroundColor: '#74c476' }] },
        options: { indexAxis: 'y', plugins: { title: { display: true, text: 'Seconds in each state' }, legend: { display: false } }, scales: { x: { beginAtZero: true } } },
      });
    }
    if (p.counts.length) table(sec, 'postcopy-counts', ['count', 'value'], p.counts.map((c) => [c.name, c.value]));
    root.appendChild(sec);
  });

  window.qmigReport = { charts: charts.map((c) => ({ id: c.id, type: c.chart.config.type, datasets: c.chart.data.datasets.map((d) => ({ label: d.label, data: d.data })) })) };
})();
