"use strict";
// Usage: node walk.js STREAM.mig [--requests OUT.json]
// Walks a complete precopy main-stream file record by record with the Kaitai oracle (the official
// compiler's JavaScript output of spec/migration/*.ksy) and checks that the records tile the file
// exactly: header, configuration and its subsections, every section header and footer (footer ids
// must match), every RAM record and RAM block list entry, commands, EOF and the VMDESCRIPTION.
// Device bodies (FULL sections other than "ram") are skipped using the sizes in the stream's own
// VMDESCRIPTION JSON, found from the end of the file. Prints a one-line JSON summary; exits 1 with
// the offset and the error at the first record that does not parse. --requests writes every record
// it parsed as an oracle.js request list (the record list for comparisons with other readers).
// Not supported (error): packaged sub-streams, iterative devices other than "ram", streams without
// a VMDESCRIPTION that contain FULL device sections.
const fs = require("fs");
const path = require("path");
const { loadSpecs, parseOne } = require("./oracle");

const text = (hex) => Buffer.from(hex, "hex").toString("latin1");

/** The VMDESCRIPTION JSON: the record at p with data[p] = EOF, 0x06, u32 length up to the end, '{'. */
function findVmdesc(data) {
  for (let p = data.length - 7; p >= 0; p--) {
    if (data[p] === 0x00 && data[p + 1] === 0x06 && data[p + 6] === 0x7b
        && data.readUInt32BE(p + 2) === data.length - (p + 6)) {
      return JSON.parse(data.subarray(p + 6).toString("utf8"));
    }
  }
  return null;
}

/** Bytes of a vmstate body as the VMDESCRIPTION describes it (fields, then framed subsections). */
function vmsdSize(v) {
  const fields = (v.fields || []).reduce((n, f) => n + f.size * (f.array_len || 1), 0);
  const subs = (v.subsections || []).reduce((n, s) => n + 1 + 1 + Buffer.byteLength(s.vmsd_name) + 4 + vmsdSize(s), 0);
  return fields + subs;
}

async function main() {
  const argv = process.argv.slice(2);
  const reqIndex = argv.indexOf("--requests");
  const requestsOut = reqIndex >= 0 ? argv[reqIndex + 1] : null;
  const file = argv.filter((a, i) => reqIndex < 0 || (i !== reqIndex && i !== reqIndex + 1))[0];
  if (!file || (reqIndex >= 0 && !requestsOut)) {
    console.error("usage: node walk.js STREAM.mig [--requests OUT.json]");
    return 2;
  }
  const data = fs.readFileSync(file);
  const specs = await loadSpecs();
  const cache = new Map();
  const requests = [];
  let pos = 0;
  const parse = (type, args) => {
    const req = { file: path.resolve(file), offset: pos, type };
    if (args) req.args = args;
    const r = parseOne(req, specs, cache);
    if (!r.ok) throw new Error(`${type} at offset ${pos}: ${r.error}`);
    requests.push(req);
    pos += r.consumed;
    return r.fields;
  };

  const vmdesc = findVmdesc(data);
  const pageSize = vmdesc ? vmdesc.page_size : 4096;
  const devices = vmdesc ? vmdesc.devices.slice() : [];
  const counts = { sections: 0, commands: 0, ram_records: 0, ram_blocks: 0 };

  parse("migration_stream::file_header");
  let caps = [];
  if (data[pos] === 0x07) {
    parse("migration_stream::configuration");
    while (data[pos] === 0x05) {
      const name = text(parse("migration_stream::subsection_header").name);
      if (name === "configuration/target-page-bits") parse("migration_stream::config_target_page_bits");
      else if (name === "configuration/capabilities") caps = parse("migration_stream::config_capabilities").caps.map((c) => text(c.name));
      else if (name === "configuration/uuid") parse("migration_stream::config_uuid");
      else throw new Error(`unknown configuration subsection '${name}' at offset ${pos}`);
    }
  }
  const hasMrAddr = caps.includes("x-ignore-shared");

  let ramSectionId = null;
  let postcopyAdvised = false;
  const ramBody = () => {
    for (;;) {
      const r = parse("ram_section::ram_record", [pageSize]);
      counts.ram_records++;
      if (r.flags & 0x04) { // MEM_SIZE: the block list, terminated by the byte count
        let remaining = BigInt(r.offset);
        while (remaining > 0n) {
          // A per-block page size appears only with postcopy-ram and huge-page blocks; not supported.
          if (postcopyAdvised) throw new Error("block lists after a 16-byte POSTCOPY_ADVISE are not supported");
          remaining -= BigInt(parse("ram_section::ram_block_entry", [false, hasMrAddr]).used_length);
          counts.ram_blocks++;
        }
        if (remaining !== 0n) throw new Error(`RAM block list overruns its total at offset ${pos}`);
      }
      if (r.flags & 0x10) return; // EOS
    }
  };

  for (;;) {
    const type = data[pos];
    if (type === 0x00) {
      parse("migration_stream::end_of_sections");
      break;
    }
    if (type === 0x08) {
      const c = parse("migration_command::command");
      counts.commands++;
      if (c.cmd === 7) throw new Error(`PACKAGED at offset ${pos} is not supported`);
      if (c.cmd === 3 && c.len_payload === 16) postcopyAdvised = true;
      continue;
    }
    let sectionId;
    if (type === 0x01 || type === 0x04) {
      const h = parse("migration_stream::section_header_start_full");
      sectionId = h.section_id;
      const idstr = text(h.idstr);
      if (idstr === "ram") {
        ramSectionId = sectionId;
        ramBody();
      } else if (type === 0x04) {
        const d = devices.shift();
        if (!d || d.name !== idstr || d.instance_id !== h.instance_id) {
          throw new Error(`FULL section '${idstr}' (${h.instance_id}) does not match the VMDESCRIPTION entry ${d ? `'${d.name}' (${d.instance_id})` : "(none left)"}`);
        }
        pos += d.fields === undefined && d.size !== undefined ? d.size : vmsdSize(d);
      } else {
        throw new Error(`START of iterative device '${idstr}' is not supported`);
      }
    } else if (type === 0x02 || type === 0x03) {
      const h = parse("migration_stream::section_header_part_end");
      sectionId = h.section_id;
      if (sectionId !== ramSectionId) throw new Error(`PART/END of section ${sectionId}, which is not "ram"`);
      ramBody();
    } else {
      throw new Error(`unexpected type byte 0x${type === undefined ? "(end of file)" : type.toString(16)} at offset ${pos}`);
    }
    const footerAt = pos;
    const f = parse("migration_stream::section_footer");
    if (f.section_id !== sectionId) throw new Error(`footer at offset ${footerAt} closes section ${f.section_id}, expected ${sectionId}`);
    counts.sections++;
  }
  if (pos < data.length) parse("migration_stream::vm_description");
  if (pos !== data.length) throw new Error(`the records end at offset ${pos}, the file at ${data.length}`);
  if (requestsOut) fs.writeFileSync(requestsOut, JSON.stringify(requests));
  console.log(JSON.stringify({ file, bytes: data.length, records: requests.length, ...counts, capabilities: caps }));
  return 0;
}

main().then((code) => { process.exitCode = code; }, (e) => { console.error(e && e.message || String(e)); process.exitCode = 1; });
