#!/usr/bin/env bash
# The soak: RUNS (default 50) real-QEMU postcopy migrations in one qmig process (tests/Qmig.Soak):
# receive from QEMU 7.2 and 10.0 with and without preempt, over TLS, broken and recovered; serve of
# saved guests into QEMU 7.2 and 10.0. Prints each run's outcome with the process's descriptors,
# threads (and how many of them are the runtime's own), RSS (anonymous, file and shared memory, and
# what glibc's malloc holds), GC-committed memory, managed heap and the JIT's compiled methods,
# writes them as JSON lines to REPORT (default soak.jsonl), and exits non-zero when a run failed,
# descriptors grew after the first cycle, or a runtime thread outlived its run. FILTER (a third
# argument) keeps only the scenarios whose name contains it, e.g. serve, TLS or recover.
# RSS grows while tiered compilation recompiles hot methods (for dozens of runs); with
# DOTNET_TieredCompilation=0 it shows the runs' own memory alone, which stays flat.
# Usage: tests/soak.sh [RUNS] [REPORT] [FILTER]
# Run ./test.sh once before (it installs QEMU 7.2 and 10.0, nasm and the .NET build).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-50}"
report="$(realpath -m "${2:-soak.jsonl}")"
dotnet build tests/Qmig.Soak -c Release -warnaserror --nologo -v q
exec dotnet tests/Qmig.Soak/bin/Release/net10.0/Qmig.Soak.dll "$runs" "$report" ${3:+"$3"}
