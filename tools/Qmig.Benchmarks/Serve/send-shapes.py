#!/usr/bin/env python3
"""send-shapes.py ROUNDS FILE: what it costs a receiving thread to take FILE off loopback TCP, by how it was sent.

Builds send-shapes.c (with $CC, else cc, clang or gcc), reads FILE once so it is cached, then alternates the four ways of sending
(send, sendfile, sendfile-warm, sendfile-1mib; send-shapes.c says what each is) ROUNDS times, each
with the receiver copying every page into memory of its own as a QEMU destination does, and without
that copy. Prints every run, then per way the receiver's CPU seconds (min, median, max) and the
median against `send`'s. All runs of one call of the script are on the same machine in one sitting."""
import os, shutil, statistics, subprocess, sys, tempfile

if len(sys.argv) != 3:
    sys.exit(__doc__)
rounds, path = int(sys.argv[1]), sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
binary = os.path.join(tempfile.mkdtemp(prefix="send-shapes-"), "send-shapes")
compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("clang") or "gcc"
subprocess.run([compiler, "-O2", "-Wall", "-Werror", "-o", binary, os.path.join(here, "send-shapes.c")], check=True)
with open(path, "rb") as f:
    while f.read(1 << 22):
        pass

modes = ["send", "sendfile", "sendfile-warm", "sendfile-1mib"]
cpu = {}
for _ in range(rounds):
    for copy in ([], ["--no-copy"]):
        for mode in modes:
            line = subprocess.run([binary, mode, path, *copy], check=True, capture_output=True, text=True).stdout.strip()
            print(line, flush=True)
            fields = line.split()
            cpu.setdefault(fields[0], []).append(float(fields[2]))

for suffix in ("", "/no-copy"):
    anchor = statistics.median(cpu["send" + suffix])
    for mode in modes:
        values = cpu[mode + suffix]
        median = statistics.median(values)
        print(f"{mode + suffix:24} receiver cpu {min(values):.3f} / {median:.3f} / {max(values):.3f} s, median {median / anchor:.2f}x send's")
