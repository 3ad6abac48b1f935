#!/usr/bin/env python3
"""Cuts the fuzzers' seed corpus from the real streams in tests/data: small, well-formed
pieces (header + configuration, RAM sections with each page kind, device sections, commands,
a postcopy PACKAGED with LISTEN and RUN, a vmdesc, return-path messages), so afl starts from
inputs that reach deep into the readers instead of dying at the magic.

Record offsets come from tests/fixtures/walk_stream.py --log, the independent walker.
    make-seed-corpus.py   (writes corpus/stream/seed-* and corpus/return-path/seed-*)
"""
import glob, os, re, struct, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
WALK = os.path.join(ROOT, "tests", "fixtures", "walk_stream.py")
LINE = re.compile(r"^([0-9a-f]{8})\s+(\d+) (\S+)(.*)$")


def records(path, return_path=False):
    args = [sys.executable, WALK, path, "--log"] + (["--return-path"] if return_path else [])
    run = subprocess.run(args, capture_output=True, text=True)
    out = run.stdout + run.stderr
    recs = []
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            recs.append((int(m.group(1), 16), int(m.group(2)), m.group(3), m.group(4).strip()))
    return recs


def write(kind, name, data):
    data = data[:16384]  # afl works best on small inputs; a cut seed still reaches its records
    with open(os.path.join(HERE, "corpus", kind, "seed-" + name), "wb") as f:
        f.write(data)


def section_span(recs, i):
    """Bytes of the section whose header is recs[i], up to the end of its footer (or the next header)."""
    start = recs[i][0]
    for off, length, kind, _ in recs[i + 1:]:
        if kind == "SECTION_FOOTER":
            return start, off + length
        if kind in ("SECTION_START", "SECTION_PART", "SECTION_END", "SECTION_FULL", "COMMAND", "EOF"):
            return start, off
    return start, start


def cut(path):
    data = open(path, "rb").read()
    recs = records(path)
    if not recs:
        return
    name = os.path.basename(os.path.dirname(path))
    first_top = next(off for off, _, kind, _ in recs if kind not in ("CONFIGURATION", "SUBSECTION"))
    head = data[:first_top]
    eof = b"\x00"
    write("stream", name + "-head", head + eof)
    write("stream", name + "-prefix", data[:700])

    # Commands before the first section, then EOF.
    cmds = b"".join(data[o:o + n] for o, n, k, _ in recs if k == "COMMAND" and o < first_top + 200 and "PACKAGED" not in _)
    # RAM START section (block list + EOS + footer).
    ram_start = next((i for i, r in enumerate(recs) if r[2] == "SECTION_START" and "ram/" in r[3]), None)
    ram = b""
    if ram_start is not None:
        a, b = section_span(recs, ram_start)
        ram = data[a:b]
    write("stream", name + "-ram-start", head + cmds + ram + eof)

    # One RAM PART per page kind: the part header, the record naming the block, then records of that kind.
    parts = [i for i, r in enumerate(recs) if r[2] == "SECTION_PART"]
    for kind in ("ZERO", "PAGE", "XBZRLE", "COMPRESS_PAGE"):
        hit = next((i for i, r in enumerate(recs) if r[2] == "RAM" and kind in r[3].split()[1].split("|")), None)
        if hit is None or not parts:
            continue
        part = max((p for p in parts if p < hit), default=None)
        if part is None:
            continue
        pieces = [data[recs[part][0]:recs[part][0] + recs[part][1]], data[recs[part + 1][0]:recs[part + 1][0] + recs[part + 1][1]]]
        for o, n, k, rest in recs[hit:hit + 4]:
            if k == "RAM":
                pieces.append(data[o:o + n])
        section_id = struct.unpack(">I", data[recs[part][0] + 1:recs[part][0] + 5])[0]
        eos = struct.pack(">Q", 0x10) + b"\x7e" + struct.pack(">I", section_id)
        write("stream", f"{name}-ram-{kind.lower()}", head + ram + b"".join(pieces) + eos + eof)

    # The first few device sections (FULL), delimited by footer scan (no vmdesc follows).
    fulls = [i for i, r in enumerate(recs) if r[2] == "SECTION_FULL"]
    devices = b"".join(data[slice(*section_span(recs, i))] for i in fulls[:4])
    if devices:
        write("stream", name + "-devices", head + devices + eof)

    # A postcopy stream in miniature: ADVISE, block list, DISCARD, PACKAGED(LISTEN, devices, RUN).
    listen = next((data[o:o + n] for o, n, k, r in recs if k == "COMMAND" and "LISTEN" in r), None)
    run = next((data[o:o + n] for o, n, k, r in recs if k == "COMMAND" and "POSTCOPY_RUN" in r), None)
    discard = next((data[o:o + n] for o, n, k, r in recs if k == "COMMAND" and "DISCARD" in r), b"")
    if listen and run:
        package = listen + b"".join(data[slice(*section_span(recs, i))] for i in fulls[:2]) + run
        packaged = b"\x08" + struct.pack(">HHI", 9, 4, len(package))
        write("stream", name + "-packaged", head + cmds + ram + discard + packaged + package + eof)

    # The end of a stream: EOF and a small vmdesc.
    vmdesc = b'{"page_size": 4096, "devices": [{"name": "timer", "instance_id": 0, "vmsd_name": "timer", "version": 2, "fields": []}]}'
    write("stream", name + "-vmdesc", head + eof + b"\x06" + struct.pack(">I", len(vmdesc)) + vmdesc)


def cut_return_path(path):
    data = open(path, "rb").read()
    name = os.path.basename(os.path.dirname(path))
    write("return-path", name + "-whole", data)
    for o, n, kind, _ in records(path, return_path=True)[:8]:
        write("return-path", f"{name}-{o:04x}-{kind.lower()}", data[o:o + n])


for mig in sorted(glob.glob(os.path.join(ROOT, "tests", "data", "*", "*.mig"))):
    cut(mig)
for rp in sorted(glob.glob(os.path.join(ROOT, "tests", "data", "*", "*.bin"))):
    cut_return_path(rp)

# A RECV_BITMAP message and its blob (no real capture has one): QEMU's layout, end marker included.
blob = struct.pack(">Q", 8) + b"\xff" * 8 + struct.pack(">Q", 0x0123456789ABCDEF)
write("return-path", "synthetic-recv-bitmap", struct.pack(">HH", 5, 7) + b"\x06pc.ram" + blob)
