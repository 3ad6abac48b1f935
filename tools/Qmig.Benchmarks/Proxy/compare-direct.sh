#!/usr/bin/env bash
# compare-direct.sh [RUNS]: what `qmig proxy` costs a migration, measured in one run.
#
# 1. Throughput: a paused guest whose 1 GiB of RAM is random bytes (loaded at 16 MiB with QEMU's
#    generic loader, so no page is zero and nothing dirties) migrates precopy at unlimited bandwidth
#    into a second QEMU, directly and through `qmig proxy` (TCP on 127.0.0.1 both ways), RUNS times
#    each, interleaved; each run's time is the source's query-migrate total-time. Prints every run
#    and the ratio of the medians (proxy / direct).
# 2. Postcopy requests: the dirty guest (tests/fixtures/dirty-guest.asm, 32 MiB) switched to postcopy
#    at once with postcopy at 256 KiB/s, destination with postcopy-blocktime, directly and through
#    the proxy: QEMU's own figures (vCPU blocktime, requests) both ways, and the proxy's
#    request-to-page latency p50/p99 as seen in the middle (which has no direct counterpart).
#
# Needs QEMU (QEMU=..., default qemu-system-x86_64), nasm, python3 and a Release build of qmig
# (dotnet build tools/Qmig.Cli -c Release).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
RUNS=${1:-5}
QEMU=${QEMU:-qemu-system-x86_64}
QMP="python3 $ROOT/tests/fixtures/qmp.py"
QMIG=(dotnet "$ROOT/tools/Qmig.Cli/bin/Release/net10.0/qmig.dll")
WORK=$(mktemp -d /tmp/qmig-proxy-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
G=(-accel tcg -display none -monitor none -serial none -M pc-i440fx-7.2 -vga none -nic none -name debug-threads=on)
UNLIMITED='params:{"max-bandwidth": 10737418240, "downtime-limit": 300}'

# proxy_start LOG STATS DPORT: qmig proxy on a fresh TCP port forwarding to DPORT; sets PPORT and PPID_.
proxy_start() {
    PPORT=$(port)
    "${QMIG[@]}" proxy --listen "tcp:127.0.0.1:$PPORT" --to "tcp:127.0.0.1:$3" --stats "$2" 2>"$1" &
    PPID_=$!; PIDS+=("$PPID_")
    for _ in $(seq 300); do grep -q listening "$1" 2>/dev/null && return; sleep 0.1; done
    echo "qmig proxy did not start: $(cat "$1")" >&2; exit 1
}

head -c 1G /dev/urandom > "$WORK/random.bin"
RANDOM_GUEST=(-m 1152 -device "loader,file=$WORK/random.bin,addr=0x1000000,force-raw=on")

precopy_run() {  # MODE RUN
    local mode=$1 run=$2 dport uri
    dport=$(port)
    "$QEMU" "${G[@]}" -m 1152 -qmp "unix:$WORK/d.qmp,server=on,wait=off" -incoming defer 2>/dev/null &
    PIDS+=($!)
    $QMP "$WORK/d.qmp" "migrate-incoming:tcp:127.0.0.1:$dport" 2>/dev/null
    "$QEMU" "${G[@]}" "${RANDOM_GUEST[@]}" -S -qmp "unix:$WORK/s.qmp,server=on,wait=off" 2>/dev/null &
    PIDS+=($!)
    uri="tcp:127.0.0.1:$dport"
    if [ "$mode" = proxy ]; then
        proxy_start "$WORK/qmig-proxy-$run.log" "$WORK/qmig-proxy-$run.json" "$dport"
        uri="tcp:127.0.0.1:$PPORT"
    fi
    $QMP "$WORK/s.qmp" "$UNLIMITED" "migrate:$uri" "wait:$WORK/$mode-$run.json" quit 2>/dev/null
    $QMP "$WORK/d.qmp" "wait:$WORK/$mode-$run-dst.json" quit 2>/dev/null
    wait
    PIDS=()
    python3 - "$WORK/$mode-$run.json" "$mode" "$run" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))
r = q["ram"]
print(f"precopy {sys.argv[2]:>6} run {sys.argv[3]}: total-time {q['total-time']} ms, {r['transferred'] / 2**20:.0f} MiB, {r['mbps']:.0f} Mbit/s, normal {r['normal']} pages")
PY
}

echo "== 1 GiB random RAM, precopy, unlimited bandwidth ($QEMU, $RUNS runs each, interleaved)"
for run in $(seq "$RUNS"); do
    precopy_run direct "$run"
    precopy_run proxy "$run"
done
python3 - "$WORK" "$RUNS" <<'PY'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
t = {m: [json.load(open(f"{work}/{m}-{i}.json"))["total-time"] for i in range(1, runs + 1)] for m in ("direct", "proxy")}
d, p = statistics.median(t["direct"]), statistics.median(t["proxy"])
print(f"median total-time: direct {d} ms, through the proxy {p} ms: ratio {p / d:.3f}")
PY

echo "== postcopy at 256 KiB/s, the dirty guest, switched at once (destination with postcopy-blocktime)"
nasm -f bin -o "$WORK/guest.img" "$ROOT/tests/fixtures/dirty-guest.asm"
PARAMS='params:{"max-bandwidth": 4194304, "downtime-limit": 1, "max-postcopy-bandwidth": 262144}'
postcopy_run() {  # MODE RUN
    local mode=$1 run=$2 dport uri
    dport=$(port)
    cp "$WORK/guest.img" "$WORK/d.img"; cp "$WORK/guest.img" "$WORK/s.img"
    "$QEMU" "${G[@]}" -m 32 -drive "file=$WORK/d.img,format=raw,if=ide" -qmp "unix:$WORK/d.qmp,server=on,wait=off" -incoming defer 2>/dev/null &
    PIDS+=($!)
    $QMP "$WORK/d.qmp" caps:postcopy-ram,postcopy-blocktime "migrate-incoming:tcp:127.0.0.1:$dport" 2>/dev/null
    "$QEMU" "${G[@]}" -m 32 -drive "file=$WORK/s.img,format=raw,if=ide" -qmp "unix:$WORK/s.qmp,server=on,wait=off" 2>/dev/null &
    PIDS+=($!)
    uri="tcp:127.0.0.1:$dport"
    if [ "$mode" = proxy ]; then
        proxy_start "$WORK/qmig-pproxy-$run.log" "$WORK/qmig-pproxy-$run.json" "$dport"
        uri="tcp:127.0.0.1:$PPORT"
    fi
    $QMP "$WORK/s.qmp" wait-guest:0x10000 caps:postcopy-ram "$PARAMS" "migrate:$uri" start-postcopy "wait:$WORK/p$mode-$run.json" quit 2>/dev/null
    $QMP "$WORK/d.qmp" "wait:$WORK/p$mode-$run-dst.json" quit 2>/dev/null
    wait
    PIDS=()
    python3 - "$WORK/p$mode-$run.json" "$WORK/p$mode-$run-dst.json" "$WORK/qmig-pproxy-$run.json" "$mode" "$run" <<'PY'
import json, os, sys
s, d = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
requests = s["ram"].get("postcopy-requests", 0)
blocktime = d.get("postcopy-blocktime", 0)
line = f"postcopy {sys.argv[4]:>6} run {sys.argv[5]}: {requests} requests, destination vCPU blocktime {blocktime} ms ({blocktime / max(requests, 1):.1f} ms per request)"
if sys.argv[4] == "proxy" and os.path.exists(sys.argv[3]):
    p = json.load(open(sys.argv[3]))["request_latency_us"]
    line += f"; in the middle: request-to-page p50 {p['p50'] / 1000:.2f} ms, p99 {p['p99'] / 1000:.2f} ms over {p['count']} answered requests"
print(line)
PY
}
for run in $(seq "$RUNS"); do
    postcopy_run direct "$run"
    postcopy_run proxy "$run"
done
