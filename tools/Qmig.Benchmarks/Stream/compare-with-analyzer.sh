#!/usr/bin/env bash
# compare-with-analyzer.sh ANALYZE_MIGRATION_PY [STREAM] [ROUNDS]: whole-process speed of native
# qmig against the kernel floors and QEMU's scripts/analyze-migration.py on one large RAM-heavy
# stream. Every command runs once per round, the rounds interleave the commands (the machine may
# be shared: a burst of load then hits all of them, not one), and each command's best wall time
# of ROUNDS (default 5) is compared with the best of its floor from the same run.
#
#   stats                    vs floor: a C program that maps the stream and reads one byte per page
#   extract -o tmpfs         vs floor: dd of the stream to a file in the same tmpfs
#   extract -o disk          vs floor: dd of the stream to a file on the stream's own disk
#
# Neither extract nor dd fsyncs (both leave writeback to the kernel, as analyze-migration.py
# does); before each timed run the output is removed and `sync` runs, untimed, so no run pays
# for an earlier one's writeback.
#
# ANALYZE_MIGRATION_PY: the script from Debian's source package of the installed QEMU
#   (add a deb-src twin of the apt source, `apt-get source qemu`, take scripts/analyze-migration.py),
#   run with /usr/bin/python3 as a reference program, outside the repository.
# STREAM: default /tmp/big.mig, made by make-big-stream.sh when missing (1 GiB of random guest RAM).
# DISK_DIR: where the disk runs write (default: a directory beside STREAM).
# Needs gcc, python3 and the .NET SDK with clang (qmig is published natively with PublishAot).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
ANALYZER=$(realpath "$1")
STREAM=$(realpath -m "${2:-/tmp/big.mig}")
ROUNDS=${3:-5}
WORK=$(mktemp -d /tmp/qmig-compare.XXXXXX)
SHM=/dev/shm/qmig-compare-$$
DISK=${DISK_DIR:-$(dirname "$STREAM")}/qmig-compare-out-$$
trap 'rm -rf "$WORK" "$SHM" "$DISK"' EXIT

[ -f "$STREAM" ] || "$HERE/make-big-stream.sh" "$STREAM"
dotnet publish "$ROOT/tools/Qmig.Cli" -c Release -r linux-x64 -o "$WORK/native" --nologo -v q >&2
gcc -O2 -o "$WORK/touch_every_page" "$HERE/native/touch_every_page.c"
QMIG=$WORK/native/qmig
PY="/usr/bin/python3 $ANALYZER"

# name | prepare (untimed) | command
CASES=(
  "qmig stats|:|$QMIG stats $STREAM"
  "floor: map and touch every page|:|$WORK/touch_every_page $STREAM"
  "analyze-migration.py -d state|:|$PY -f $STREAM -d state"
  "qmig extract -> tmpfs|rm -rf $SHM; mkdir -p $SHM; sync|$QMIG extract $STREAM -o $SHM/q"
  "floor: dd -> tmpfs|rm -rf $SHM; mkdir -p $SHM; sync|dd if=$STREAM of=$SHM/dd bs=4M status=none"
  "analyze-migration.py -x -> tmpfs|rm -rf $SHM; mkdir -p $SHM; sync|cd $SHM && $PY -f $STREAM -x"
  "qmig extract -> disk|rm -rf $DISK $SHM; mkdir -p $DISK; sync|$QMIG extract $STREAM -o $DISK/q"
  "floor: dd -> disk|rm -rf $DISK; mkdir -p $DISK; sync|dd if=$STREAM of=$DISK/dd bs=4M status=none"
  "analyze-migration.py -x -> disk|rm -rf $DISK; mkdir -p $DISK; sync|cd $DISK && $PY -f $STREAM -x"
)

# Warm the page cache with the stream, as every command finds it.
cat "$STREAM" > /dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq "$ROUNDS"); do
  for i in "${!CASES[@]}"; do
    IFS='|' read -r name prepare command <<< "${CASES[$i]}"
    bash -c "$prepare"
    /usr/bin/time -f "$i %e %U %S" -a -o "$WORK/times" bash -c "$command > /dev/null"
  done
  echo "round $round done, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done
rm -rf "$SHM" "$DISK"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

/usr/bin/python3 - "$WORK/times" "${CASES[@]}" <<'EOF'
import sys
times, cases = sys.argv[1], [c.split("|")[0] for c in sys.argv[2:]]
runs = {}
for line in open(times):
    parts = line.split()
    if len(parts) == 4 and parts[0].isdigit():
        i, wall, user, sys_ = int(parts[0]), float(parts[1]), float(parts[2]), float(parts[3])
        runs.setdefault(i, []).append((wall, user, sys_))
best = {i: min(r) for i, r in runs.items()}
groups = [(0, 1, 2), (3, 4, 5), (6, 7, 8)]
print("| command | best wall [s] | its user [s] | its sys [s] | median wall [s] | / floor | analyzer / this |")
print("|:---|---:|---:|---:|---:|---:|---:|")
for tool, floor, script in groups:
    for i in (tool, floor, script):
        wall, user, sys_ = best[i]
        walls = sorted(r[0] for r in runs[i])
        ratio = wall / best[floor][0]
        speedup = best[script][0] / wall
        print(f"| `{cases[i]}` | {wall:.3f} | {user:.2f} | {sys_:.2f} | {walls[len(walls) // 2]:.3f} | {ratio:.2f}x | {speedup:.2f}x |")
EOF
