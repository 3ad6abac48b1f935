#!/usr/bin/env bash
# Runs a coverage-guided fuzz campaign on one harness with Debian's afl++ and SharpFuzz.
#   tests/Qmig.Fuzz/run-campaign.sh stream|return-path|saved-stream SECONDS [FINDINGS_DIR]
# Installs afl++ (apt) and the SharpFuzz.CommandLine tool (into tests/Qmig.Fuzz/tools) when
# missing, publishes the harness into out/HARNESS, instruments only Qmig.Wire.dll (the code
# under test: instrumenting the runtime would drown its paths in the BCL's), runs afl-fuzz for
# SECONDS, then prints executions, corpus size, crashes and hangs. Two harnesses can run at
# once (one per core): each has its own out/ and findings/ directory.
# Not run by test.sh: CI replays the saved corpus instead (FuzzCorpusReplayTests).
set -euo pipefail
cd "$(dirname "$0")"
harness=${1:?usage: run-campaign.sh stream|return-path|saved-stream SECONDS [FINDINGS_DIR]}
seconds=${2:?usage: run-campaign.sh stream|return-path|saved-stream SECONDS [FINDINGS_DIR]}
findings=${3:-findings/$harness}
case $harness in stream|return-path|saved-stream) ;; *) echo "unknown harness $harness" >&2; exit 2 ;; esac
# A saved stream is a stream: that harness starts from the stream corpus.
seeds=corpus/$harness
if [ "$harness" = saved-stream ]; then seeds=corpus/stream; fi

if ! command -v afl-fuzz >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++
fi
if [ ! -x tools/sharpfuzz ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path tools
fi

out=out/$harness
# A fresh publish each time: sharpfuzz refuses (rc 1) to instrument a dll twice.
rm -rf "$out"
dotnet publish Qmig.Fuzz.csproj -c Release -o "$out" --nologo -v q
tools/sharpfuzz "$out/Qmig.Wire.dll"

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
# Resume an earlier campaign on the same findings directory instead of starting over.
input=$seeds
if [ -d "$findings/default/queue" ]; then input=-; fi
mkdir -p "$findings"
start=$(date +%s)
afl-fuzz -i "$input" -o "$findings" -t 5000 -m none -V "$seconds" -- "./$out/Qmig.Fuzz" "$harness" > "$findings/afl.log" 2>&1 || {
  tail -30 "$findings/afl.log" >&2
  exit 1
}
end=$(date +%s)

stats=$findings/default/fuzzer_stats
value() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
echo "harness:   $harness"
echo "duration:  $((end - start)) s (afl run_time $(value run_time) s)"
echo "execs:     $(value execs_done) ($(value execs_per_sec)/s)"
echo "paths:     corpus_count $(value corpus_count), corpus_found $(value corpus_found)"
echo "crashes:   $(value saved_crashes)"
echo "hangs:     $(value saved_hangs)"
echo "edges:     $(value edges_found) / $(value total_edges) ($(value bitmap_cvg))"
