#!/usr/bin/env bash
# compare-with-qemu.sh [RUNS] [AHEAD]: the same postcopy migration of the dirty guest (tests/fixtures/
# dirty-guest.asm, QEMU 7.2, TCG) into a second QEMU 7.2 with postcopy-blocktime on, into
# `qmig receive`, and into `qmig receive --request-ahead AHEAD` (default 32); prints QEMU's
# blocktime next to qmig's fault-to-placed latency for each run. POSTCOPY_BANDWIDTH: see below.
# Needs qemu-system-x86_64, nasm, python3 and a Release build of qmig.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
RUNS=${1:-3}
AHEAD=${2:-32}
QMP="python3 $ROOT/tests/fixtures/qmp.py"
QMIG="$ROOT/tools/Qmig.Cli/bin/Release/net10.0/qmig"
WORK=$(mktemp -d /tmp/qmig-compare.XXXXXX)
trap 'pkill -P $$ || true; rm -rf "$WORK"' EXIT
nasm -f bin -o "$WORK/guest.img" "$ROOT/tests/fixtures/dirty-guest.asm"
G=(-accel tcg -display none -monitor none -serial none -M pc-i440fx-7.2 -m 32 -vga none -nic none -name debug-threads=on)
# Postcopy at 256 KiB/s by default: the background sender is slow enough that the guest faults on
# dirty pages. POSTCOPY_BANDWIDTH=0 leaves postcopy unthrottled (fault latency without rate-limit waits).
POSTCOPY_BANDWIDTH=${POSTCOPY_BANDWIDTH:-262144}
PARAMS='params:{"max-bandwidth": 4194304, "downtime-limit": 1, "max-postcopy-bandwidth": '"$POSTCOPY_BANDWIDTH"'}'
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
source_qemu() {
    cp "$WORK/guest.img" "$WORK/$1.img"
    qemu-system-x86_64 "${G[@]}" -drive "file=$WORK/$1.img,format=raw,if=ide" -qmp "unix:$WORK/$1.qmp,server=on,wait=off" 2>/dev/null &
}
for run in $(seq "$RUNS"); do
    p=$(port)
    cp "$WORK/guest.img" "$WORK/dst$run.img"
    qemu-system-x86_64 "${G[@]}" -drive "file=$WORK/dst$run.img,format=raw,if=ide" -qmp "unix:$WORK/dst$run.qmp,server=on,wait=off" -incoming defer 2>/dev/null &
    $QMP "$WORK/dst$run.qmp" caps:postcopy-ram,postcopy-blocktime "migrate-incoming:tcp:127.0.0.1:$p" 2>/dev/null
    source_qemu "src$run"
    $QMP "$WORK/src$run.qmp" wait-guest:0x10000 caps:postcopy-ram "$PARAMS" "migrate:tcp:127.0.0.1:$p" wait-sync:2 start-postcopy "wait:$WORK/q$run.json" 2>/dev/null
    $QMP "$WORK/dst$run.qmp" "wait:$WORK/d$run.json" quit 2>/dev/null || true
    $QMP "$WORK/src$run.qmp" quit 2>/dev/null || true
    python3 - "$WORK/d$run.json" "$WORK/q$run.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
print(f"qemu  run: postcopy-blocktime {d.get('postcopy-blocktime')} ms, vcpu blocktime {d.get('postcopy-vcpu-blocktime')} ms, postcopy-requests {s['ram'].get('postcopy-requests')}")
PY
    for ahead in 0 "$AHEAD"; do
    p=$(port)
    "$QMIG" receive --listen "tcp:127.0.0.1:$p" -o "$WORK/out$run.mig" --stats "$WORK/s$run.json" --threads 1 --request-ahead "$ahead" 2>/dev/null &
    rp=$!
    sleep 1
    source_qemu "qsrc$run-$ahead"
    $QMP "$WORK/qsrc$run-$ahead.qmp" wait-guest:0x10000 caps:postcopy-ram "$PARAMS" "migrate:tcp:127.0.0.1:$p" wait-sync:2 start-postcopy "wait:$WORK/qq$run.json" quit 2>/dev/null
    wait "$rp"
    python3 - "$WORK/s$run.json" "$ahead" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); f = s["fault_to_placed_us"]
v = s["vcpu_stall_us"]
print(f"qmig  run (request-ahead {sys.argv[2]:>2}): blocked {f['total']/1000:.1f} ms (vCPU saw {v['total']/1000:.1f} ms in {v['count']} stalls), fault-to-placed p50 {f['p50']:.0f} us, p99 {f['p99']:.0f} us, max {f['max']:.0f} us; "
      f"{f['count']} faulted pages, {s['page_requests']} requests ({s['pages_requested_ahead']} pages ahead), {s['faults']} faults, {s['pages']['postcopy_duplicate']} duplicate pages")
PY
    done
done
