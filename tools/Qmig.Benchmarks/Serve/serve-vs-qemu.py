#!/usr/bin/env python3
"""serve-vs-qemu.py [REPS] [MIB]: `qmig serve` of a saved guest against QEMU's own ways of getting
the same guest running, each measured REPS times (default 3) in one run on this machine.

The guest: QEMU 7.2 (Debian's qemu-system-x86_64), TCG, pc-i440fx-7.2, MIB MiB of RAM (default
1024) that start as random bytes (a private mapping of /tmp/random-<MIB>m.bin, kept for the next
run), booted from sweep-guest.asm (beside this script), which then writes a word into every page
from 1 MiB to 1 GiB for ever, so a resumed guest touches pages the source has not sent yet (MIB
below 1024 leaves it writing past the end of RAM, which QEMU ignores; above, it sweeps the first GiB).
It is paused and saved twice: with `migrate exec:cat > FILE` by QEMU 7.2 (saved72.mig) and, the same
way booted on QEMU 10.0 (/opt/qemu10), with `migrate file:` and mapped-ram + multifd (saved10.mig).
Every destination is a fresh QEMU of the same version with the same machine options and
`-incoming defer`, started without -S, so it runs the guest as soon as it may (a postcopy destination
at RUN; one that loaded the file itself keeps the saved guest paused, so it gets `cont` the moment
its load completes). Times are wall-clock
from the first action (QMP command or process start) to the timestamps of the destination's own
RESUME event (the guest runs) and MIGRATION event with status completed (capability events), so
nothing polls the destination while it works.

  (a) time to running: `qmig serve saved72.mig` vs `migrate-incoming exec:cat saved72.mig`, and
      (a') the same for `qmig serve --index IDX saved72.mig` with the page index kept from an
      earlier serve (made once before the rounds), which skips the pass over the file. Each round
      starts with two exec:cat loads in a row, and both are printed: on the machine this was written
      on, a load right after another load took half the kernel CPU of a load after other work (each
      round before ends with a serve, so its first load is of that kind)
  (b) time to completed, and (c) the destination's postcopy-blocktime (capability postcopy-blocktime):
      `qmig serve` vs a QEMU 7.2 source that loaded saved72.mig (paused, as the file is) and
      migrates it with `migrate` + `migrate-start-postcopy` at once (straight to postcopy, no
      bandwidth limit); (b) also against the exec:cat load
  (d) QEMU 10.0 loading saved10.mig itself (`migrate-incoming file:`, mapped-ram + multifd on)
      vs `qmig serve saved10.mig` into a 10.0 postcopy destination: time to running and to completed
  (e) (b) again for `serve --index` and the QEMU source with a core each: the source on core 0, the
      destination (all its threads) on core 1, so the source's CPU is not taken from the destination
  (f) (b) and (c) again for `serve --index --postcopy-preempt` and the QEMU source with
      postcopy-preempt on both sides (requested pages on their own connection)
With (b) it prints each source's CPU seconds: serve's whole process (its rusage), the QEMU source's
from `migrate` until its own migration completed (/proc). The pairs of (e) and (f) alternate which
source goes first from round to round.

qmig is artifacts/native/qmig when it exists (dotnet publish tools/Qmig.Cli -c Release -r linux-x64
-o artifacts/native), else the Release build. Needs nasm and both QEMUs. Prints a Markdown table
per measurement with the load average before and after; nothing is written inside the repository.
"""
import json, os, shutil, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
from qmp import Qmp, guest_sweeping  # noqa: E402

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
MIB = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
QEMU72 = "qemu-system-x86_64"
QEMU10 = "/opt/qemu10/bin/qemu-system-x86_64"
NATIVE = os.path.join(ROOT, "artifacts", "native", "qmig")
QMIG = NATIVE if os.path.exists(NATIVE) else os.path.join(ROOT, "tools", "Qmig.Cli", "bin", "Release", "net10.0", "qmig")
RANDOM_FILE = f"/tmp/random-{MIB}m.bin"
WORK = tempfile.mkdtemp(prefix="qmig-serve-bench.")
started = []


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def on_cores(cores):
    """What makes a child process (and every thread it starts) run only on these cores; None leaves it free."""
    return (lambda: os.sched_setaffinity(0, cores)) if cores else None


def qemu(binary, name, ram_file=None, extra=(), cores=None):
    """A QEMU with the benchmark's machine options and its own copy of the boot disk; returns (process, QMP)."""
    disk = os.path.join(WORK, name + ".img")
    shutil.copy(os.path.join(WORK, "guest.img"), disk)
    backend = (f"memory-backend-file,id=pc.ram,size={MIB}M,mem-path={ram_file},share=off" if ram_file
               else f"memory-backend-ram,id=pc.ram,size={MIB}M")
    qmp_path = os.path.join(WORK, name + ".qmp")
    args = [binary, "-accel", "tcg", "-display", "none", "-monitor", "none", "-serial", "none", "-nic", "none",
            "-vga", "none", "-M", "pc-i440fx-7.2", "-m", f"{MIB}", "-object", backend, "-machine", "memory-backend=pc.ram",
            "-drive", f"file={disk},format=raw,if=ide", "-qmp", f"unix:{qmp_path},server=on,wait=off",
            "-name", "debug-threads=on", *extra]
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(WORK, name + ".log"), "w"), preexec_fn=on_cores(cores))
    started.append(process)
    return process, Qmp(qmp_path)


def quiet(q, name, args=None):
    return q.execute(name, args, quiet=True)


def caps(q, *names):
    quiet(q, "migrate-set-capabilities", {"capabilities": [{"capability": c, "state": True} for c in names]})


def cpu_seconds(pid):
    """User and system CPU a live process has used so far, all of its threads."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_with_cpu(process, timeout):
    """Waits for a child to exit and returns the CPU seconds it used in all (its rusage)."""
    deadline = time.time() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.time() > deadline:
            raise SystemExit(f"pid {process.pid} still runs after {timeout} s")
        time.sleep(0.01)


def stop(process):
    if process.poll() is None:
        process.kill()
    process.wait()


def wait_migration(q, statuses=("completed",), timeout=600):
    t0 = time.time()
    while True:
        st = quiet(q, "query-migrate")
        if st.get("status") in statuses:
            return st
        if st.get("status") in ("failed", "cancelled") or time.time() - t0 > timeout:
            raise SystemExit("migration ended as %s: %s" % (st.get("status"), json.dumps(st)))
        time.sleep(0.02)


def watch(q, t0, process=None):
    """Seconds from t0 (time.time()) until the destination ran the guest and until its migration completed,
    and its query-migrate then. Both come from the timestamps of the destination's own events (RESUME,
    MIGRATION), which it sends as they happen: nothing polls the destination while it works."""
    running = done = None
    while done is None or running is None:
        event = q.next_event(0.5)
        if event is None:
            if process is not None and process.poll() not in (None, 0):
                raise SystemExit(f"the destination exited with {process.returncode} (see {WORK})")
            if time.time() - t0 > 600:
                raise SystemExit("no completion within 600 s")
            continue
        stamp = event["timestamp"]["seconds"] + event["timestamp"]["microseconds"] / 1e6 - t0
        if event["event"] == "RESUME" and running is None:
            running = stamp
        elif event["event"] == "MIGRATION":
            status = event["data"]["status"]
            if status == "failed":
                raise SystemExit(f"the destination's migration failed (see {WORK})")
            if status == "completed":
                done = stamp
                if running is None and quiet(q, "query-status")["status"] != "running":
                    # A precopy load leaves the guest as it was saved (paused): it may run from now on.
                    quiet(q, "cont")
    q.wait_postcopy_listen_end()
    return running, done, quiet(q, "query-migrate")



def save_guest(binary, name, capabilities, uri):
    process, q = qemu(binary, name, ram_file=RANDOM_FILE)
    deadline = time.time() + 120
    while not guest_sweeping(q):
        if time.time() > deadline:
            raise SystemExit(f"{name}: the sweeping guest did not start")
        time.sleep(0.1)
    quiet(q, "stop")
    if capabilities:
        caps(q, *capabilities)
    quiet(q, "migrate-set-parameters", {"max-bandwidth": 100 << 30})
    quiet(q, "migrate", {"uri": uri})
    wait_migration(q)
    stop(process)


def warm(path):
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def serve_into(binary, name, saved, extra=(), capabilities=(), source_cores=None, destination_cores=None):
    """qmig serve of saved into a fresh postcopy destination: (running, completed, blocktime ms, requests,
    serve's CPU seconds)."""
    process, q = qemu(binary, name, extra=["-incoming", "defer"], cores=destination_cores)
    caps(q, "postcopy-ram", "postcopy-blocktime", "events", *capabilities)
    port = free_port()
    quiet(q, "migrate-incoming", {"uri": f"tcp:127.0.0.1:{port}"})
    stats = os.path.join(WORK, name + ".json")
    t0 = time.time()
    serve = subprocess.Popen([QMIG, "serve", saved, "--to", f"tcp:127.0.0.1:{port}", "--stats", stats, *extra],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(WORK, name + ".serve.log"), "w"),
                             preexec_fn=on_cores(source_cores))
    started.append(serve)
    running, done, st = watch(q, t0, process)
    cpu = wait_with_cpu(serve, 120)
    if serve.returncode != 0:
        raise SystemExit(f"qmig serve exited with {serve.returncode}: see {WORK}/{name}.serve.log")
    s = json.load(open(stats))
    stop(process)
    return running, done, st.get("postcopy-blocktime"), s["requests"], cpu


def load_into(binary, name, uri, capabilities=()):
    """The destination loads the file itself (precopy): (running, completed)."""
    process, q = qemu(binary, name, extra=["-incoming", "defer"])
    caps(q, *capabilities, "events")
    t0 = time.time()
    quiet(q, "migrate-incoming", {"uri": uri})
    running, done, _ = watch(q, t0, process)
    stop(process)
    return running, done


def qemu_source_into(name, saved, capabilities=(), source_cores=None, destination_cores=None):
    """A QEMU 7.2 that holds the saved guest migrates it straight into postcopy: (running, completed,
    blocktime ms, requests, the source's CPU seconds from migrate until its own migration completed)."""
    source, sq = qemu(QEMU72, name + "-src", extra=["-incoming", "defer", "-S"], cores=source_cores)
    quiet(sq, "migrate-incoming", {"uri": f"exec:cat {saved}"})
    wait_migration(sq)
    caps(sq, "postcopy-ram", *capabilities)
    quiet(sq, "migrate-set-parameters", {"max-bandwidth": 100 << 30, "max-postcopy-bandwidth": 0})
    destination, dq = qemu(QEMU72, name, extra=["-incoming", "defer"], cores=destination_cores)
    caps(dq, "postcopy-ram", "postcopy-blocktime", "events", *capabilities)
    port = free_port()
    quiet(dq, "migrate-incoming", {"uri": f"tcp:127.0.0.1:{port}"})
    cpu_before = cpu_seconds(source.pid)
    t0 = time.time()
    quiet(sq, "migrate", {"uri": f"tcp:127.0.0.1:{port}"})
    quiet(sq, "migrate-start-postcopy")
    running, done, st = watch(dq, t0, destination)
    source_st = wait_migration(sq)
    cpu = cpu_seconds(source.pid) - cpu_before
    stop(destination)
    stop(source)
    return running, done, st.get("postcopy-blocktime"), source_st.get("ram", {}).get("postcopy-requests"), cpu


def main():
    try:
        subprocess.run(["nasm", "-f", "bin", "-o", os.path.join(WORK, "guest.img"),
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "sweep-guest.asm")], check=True)
        if not os.path.exists(RANDOM_FILE) or os.path.getsize(RANDOM_FILE) != MIB << 20:
            log(f"filling {RANDOM_FILE} with {MIB} MiB from /dev/urandom")
            subprocess.run(f"head -c {MIB << 20} /dev/urandom > {RANDOM_FILE}.tmp && mv {RANDOM_FILE}.tmp {RANDOM_FILE}", shell=True, check=True)
        saved72 = os.path.join(WORK, "saved72.mig")
        saved10 = os.path.join(WORK, "saved10.mig")
        log("saving the 7.2 guest")
        save_guest(QEMU72, "save72", (), f"exec:cat > {saved72}")
        log("saving the 10.0 guest with mapped-ram + multifd")
        save_guest(QEMU10, "save10", ("mapped-ram", "multifd"), f"file:{saved10}")
        index72 = os.path.join(WORK, "saved72.idx")
        log("keeping saved72.mig's page index (a serve to a closed port writes it, then fails to connect)")
        subprocess.run([QMIG, "serve", saved72, "--to", f"tcp:127.0.0.1:{free_port()}", "--index", index72],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not os.path.exists(index72):
            raise SystemExit("qmig serve --index wrote no index")
        warm(saved72)
        warm(saved10)
        warm(index72)
        load_before = os.getloadavg()
        if len(os.sched_getaffinity(0)) < 2:
            raise SystemExit("(e) needs two cores to give the source and the destination one each")
        rows = []
        for rep in range(1, REPS + 1):
            log(f"round {rep}")
            row = {"rep": rep}
            row["cat"] = load_into(QEMU72, f"cat{rep}", f"exec:cat {saved72}")
            row["cat_again"] = load_into(QEMU72, f"cat-again{rep}", f"exec:cat {saved72}")
            row["serve"] = serve_into(QEMU72, f"serve{rep}", saved72)
            row["indexed"] = serve_into(QEMU72, f"indexed{rep}", saved72, ("--index", index72))
            row["qemu"] = qemu_source_into(f"qemu{rep}", saved72)
            pinned = {"source_cores": {0}, "destination_cores": {1}}
            preempt = {"capabilities": ("postcopy-preempt",)}
            for source in (("serve", "qemu") if rep % 2 else ("qemu", "serve")):
                if source == "serve":
                    row["pinned_serve"] = serve_into(QEMU72, f"pinned-serve{rep}", saved72, ("--index", index72), **pinned)
                    row["preempt_serve"] = serve_into(QEMU72, f"preempt-serve{rep}", saved72,
                                                      ("--index", index72, "--postcopy-preempt"), **preempt)
                else:
                    row["pinned_qemu"] = qemu_source_into(f"pinned-qemu{rep}", saved72, **pinned)
                    row["preempt_qemu"] = qemu_source_into(f"preempt-qemu{rep}", saved72, **preempt)
            row["file10"] = load_into(QEMU10, f"file10-{rep}", f"file:{saved10}", ("mapped-ram", "multifd"))
            row["serve10"] = serve_into(QEMU10, f"serve10-{rep}", saved10)
            log(json.dumps(row))
            rows.append(row)
        load_after = os.getloadavg()

        def ms(seconds):
            return f"{seconds * 1000:.0f} ms"

        def blocktime_ratio(a, b):
            """a's postcopy blocktime over b's (each a result tuple), or n/a when b's is zero or unknown."""
            return f"{a[2] / b[2]:.2f}" if a[2] is not None and b[2] else "n/a"

        print(f"qmig: {QMIG}; {MIB} MiB guest; saved72.mig {os.path.getsize(saved72)} bytes, saved10.mig {os.path.getsize(saved10)} bytes (apparent)")
        print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; {os.cpu_count()} cores\n")

        def table(columns, cells):
            """A Markdown table: the round, then these columns, with a row of cells(row) per round."""
            print("| round | " + " | ".join(columns) + " |")
            print("|---|" + "---:|" * len(columns))
            for r in rows:
                print(f"| {r['rep']} | " + " | ".join(cells(r)) + " |")
            print()

        def measured(r):
            cat, serve, q = r["cat"], r["serve"], r["qemu"]
            return [ms(cat[0]), ms(serve[0]), f"{cat[0] / serve[0]:.1f}x", ms(r["indexed"][0]), f"{cat[0] / r['indexed'][0]:.1f}x",
                    ms(serve[1]), ms(q[1]), f"{serve[1] / q[1]:.2f}", ms(cat[1]), f"{serve[1] / cat[1]:.2f}",
                    f"{serve[2]} ms", f"{q[2]} ms", blocktime_ratio(serve, q), f"{serve[3]} / {q[3]}", f"{serve[4]:.2f} s", f"{q[4]:.2f} s"]
        table(["(a) exec:cat running", "(a) serve running", "(a) cat / serve", "(a') serve --index running", "(a') cat / serve --index",
               "(b) serve completed", "(b) QEMU source completed", "(b) serve / QEMU", "(b) exec:cat completed", "(b) serve / exec:cat",
               "(c) serve blocktime", "(c) QEMU blocktime", "(c) serve / QEMU", "requests serve / QEMU", "serve CPU", "QEMU source CPU"], measured)
        table(["(a) exec:cat again running", "(a) again / serve", "(a') again / serve --index"],
              lambda r: [ms(r["cat_again"][0]), f"{r['cat_again'][0] / r['serve'][0]:.1f}x", f"{r['cat_again'][0] / r['indexed'][0]:.1f}x"])

        def indexed(r):
            cat, ix, q = r["cat"], r["indexed"], r["qemu"]
            return [ms(ix[0]), f"{cat[0] / ix[0]:.1f}x", ms(ix[1]), f"{ix[1] / q[1]:.2f}", f"{ix[2]} ms", blocktime_ratio(ix, q), f"{ix[3]} / {q[3]}", f"{ix[4]:.2f} s"]
        table(["(a') serve --index running", "(a') exec:cat / serve --index", "(b') serve --index completed", "(b') serve --index / QEMU",
               "(c') serve --index blocktime", "(c') serve --index / QEMU", "requests", "serve --index CPU"], indexed)

        def mapped_ram(r):
            f, s = r["file10"], r["serve10"]
            return [ms(f[0]), ms(s[0]), f"{f[0] / s[0]:.1f}x", ms(f[1]), ms(s[1]), f"{s[1] / f[1]:.2f}"]
        table(["(d) 10.0 file: load running", "(d) serve running", "load / serve", "(d) 10.0 file: load completed", "(d) serve completed", "serve / load"], mapped_ram)

        def pinned_and_preempt(r):
            ps, pq, es, eq = r["pinned_serve"], r["pinned_qemu"], r["preempt_serve"], r["preempt_qemu"]
            return [ms(ps[1]), ms(pq[1]), f"{ps[1] / pq[1]:.2f}", f"{ps[4]:.2f} s", f"{pq[4]:.2f} s", ms(es[1]), ms(eq[1]), f"{es[1] / eq[1]:.2f}",
                    f"{es[2]} ms", f"{eq[2]} ms", blocktime_ratio(es, eq), f"{es[3]} / {eq[3]}"]
        table(["(e) serve --index completed, a core each", "(e) QEMU source completed, a core each", "(e) serve / QEMU", "(e) serve CPU", "(e) QEMU source CPU",
               "(f) serve --index completed, preempt", "(f) QEMU source completed, preempt", "(f) serve / QEMU", "(f) serve blocktime", "(f) QEMU blocktime",
               "(f) serve / QEMU", "(f) requests serve / QEMU"], pinned_and_preempt)

        def blocktime_sum(key):
            return sum(r[key][2] or 0 for r in rows)
        print(f"blocktimes summed over the rounds: (c) serve {blocktime_sum('serve')} ms, serve --index {blocktime_sum('indexed')} ms, "
              f"QEMU source {blocktime_sum('qemu')} ms; (f) serve {blocktime_sum('preempt_serve')} ms, QEMU source {blocktime_sum('preempt_qemu')} ms")
        if len(rows) > 1:
            med = statistics.median
            print(f"\nmedians: (a) cat/serve {med(r['cat'][0] / r['serve'][0] for r in rows):.1f}x, cat/serve --index {med(r['cat'][0] / r['indexed'][0] for r in rows):.1f}x, "
                  f"again/serve {med(r['cat_again'][0] / r['serve'][0] for r in rows):.1f}x, again/serve --index {med(r['cat_again'][0] / r['indexed'][0] for r in rows):.1f}x; "
                  f"(b) serve/QEMU {med(r['serve'][1] / r['qemu'][1] for r in rows):.2f}, serve/cat {med(r['serve'][1] / r['cat'][1] for r in rows):.2f}, "
                  f"serve --index/QEMU {med(r['indexed'][1] / r['qemu'][1] for r in rows):.2f}, "
                  f"CPU serve {med(r['serve'][4] for r in rows):.2f} s, serve --index {med(r['indexed'][4] for r in rows):.2f} s, QEMU source {med(r['qemu'][4] for r in rows):.2f} s; "
                  f"(e) serve/QEMU {med(r['pinned_serve'][1] / r['pinned_qemu'][1] for r in rows):.2f}; "
                  f"(f) serve/QEMU {med(r['preempt_serve'][1] / r['preempt_qemu'][1] for r in rows):.2f}; "
                  f"(d) load/serve running {med(r['file10'][0] / r['serve10'][0] for r in rows):.1f}x, serve/load completed {med(r['serve10'][1] / r['file10'][1] for r in rows):.2f}")
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
