#!/usr/bin/env bash
# compare-with-analyzer.sh ANALYZE_MIGRATION_PY [STREAM]: whole-process speed of qmig against QEMU
# 7.2's scripts/analyze-migration.py on one large RAM-heavy stream, in one hyperfine run each, with
# the kernel floors beside them (mapping every page of the stream; copying its bytes to tmpfs).
#
# ANALYZE_MIGRATION_PY: the script from Debian's source package of the installed QEMU
#   (add a deb-src twin of the apt source, `apt-get source qemu`, take scripts/analyze-migration.py).
# STREAM: default /tmp/big.mig, made by make-big-stream.sh when missing (1 GiB of random guest RAM).
# Needs hyperfine, gcc, python3; qmig is published natively (dotnet publish, PublishAot) and also
# run managed (dotnet qmig.dll) to show what start-up and JIT cost.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
ANALYZER=$(realpath "$1")
STREAM=$(realpath -m "${2:-/tmp/big.mig}")
WORK=$(mktemp -d /tmp/qmig-compare.XXXXXX)
trap 'rm -rf "$WORK" /dev/shm/qmig-compare-*' EXIT

[ -f "$STREAM" ] || "$HERE/make-big-stream.sh" "$STREAM"
dotnet publish "$ROOT/tools/Qmig.Cli" -c Release -r linux-x64 -o "$WORK/native" --nologo -v q
dotnet build "$ROOT/tools/Qmig.Cli" -c Release --nologo -v q -o "$WORK/managed"
gcc -O2 -o "$WORK/touch_every_page" "$HERE/native/touch_every_page.c"
PY="/usr/bin/python3 $ANALYZER"

hyperfine -N --warmup 2 --runs 10 --export-markdown "$WORK/stats.md" \
    -n "qmig stats (native)" "$WORK/native/qmig stats $STREAM" \
    -n "qmig stats (managed, JIT)" "dotnet $WORK/managed/qmig.dll stats $STREAM" \
    -n "analyze-migration.py -d state" "$PY -f $STREAM -d state" \
    -n "floor: map and touch every page" "$WORK/touch_every_page $STREAM"

OUT=/dev/shm/qmig-compare-out
hyperfine --warmup 1 --runs 5 --prepare "rm -rf $OUT; mkdir -p $OUT" --export-markdown "$WORK/extract.md" \
    -n "qmig extract -> tmpfs (native)" "$WORK/native/qmig extract $STREAM -o $OUT/q" \
    -n "analyze-migration.py -x -> tmpfs" "cd $OUT && $PY -f $STREAM -x" \
    -n "floor: dd the stream -> tmpfs" "dd if=$STREAM of=$OUT/dd bs=4M status=none"
cat "$WORK/stats.md" "$WORK/extract.md"
