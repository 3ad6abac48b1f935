#!/usr/bin/env bash
# make-big-stream.sh OUT.mig [MIB]: a large RAM-heavy real migration stream for the stream
# benchmarks. QEMU 7.2 (Debian's qemu-system-x86_64, or $QEMU), paused (-S), its guest RAM a
# private mapping of a file of random bytes (so every page is a PAGE record, none ZERO), migrated
# with "exec:cat > OUT.mig". The random file (/tmp/random-<MIB>m.bin) is kept for the next run.
# Needs python3 and the repo's tests/fixtures/qmp.py. Nothing is written inside the repository.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(realpath -m "$1")
MIB=${2:-1024}
QEMU=${QEMU:-qemu-system-x86_64}
RANDOM_FILE=/tmp/random-${MIB}m.bin
WORK=$(mktemp -d /tmp/qmig-big.XXXXXX)
QPID=
cleanup() { [ -n "$QPID" ] && kill "$QPID" 2>/dev/null; rm -rf "$WORK" "$OUT.tmp"; }
trap cleanup EXIT

if [ "$(stat -c %s "$RANDOM_FILE" 2>/dev/null || echo 0)" != $((MIB << 20)) ]; then
    echo "make-big-stream: filling $RANDOM_FILE with $MIB MiB from /dev/urandom" >&2
    head -c $((MIB << 20)) /dev/urandom > "$RANDOM_FILE.tmp" && mv "$RANDOM_FILE.tmp" "$RANDOM_FILE"
fi

# share=off: QEMU maps the file privately, so the guest sees the random bytes and the file stays unchanged.
"$QEMU" -accel tcg -S -display none -monitor none -serial none -nic none -vga none \
    -M pc-i440fx-7.2 -m "$MIB" \
    -object "memory-backend-file,id=m0,size=${MIB}M,mem-path=$RANDOM_FILE,share=off" -machine memory-backend=m0 \
    -qmp "unix:$WORK/qmp,server=on,wait=off" </dev/null >"$WORK/qemu.log" 2>&1 &
QPID=$!
echo "make-big-stream: QEMU 7.2 (pid $QPID) migrating $MIB MiB of random guest RAM to $OUT" >&2
python3 "$HERE/../../../tests/fixtures/qmp.py" "$WORK/qmp" \
    'params:{"max-bandwidth": 107374182400}' "migrate:exec:cat > $OUT.tmp" "wait:$WORK/query-migrate.json" quit 2>"$WORK/qmp.log" \
    || { cat "$WORK/qmp.log" "$WORK/qemu.log" >&2; exit 1; }
wait "$QPID" || true
QPID=
mv "$OUT.tmp" "$OUT"
echo "make-big-stream: $OUT: $(stat -c %s "$OUT") bytes" >&2
