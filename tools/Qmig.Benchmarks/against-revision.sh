#!/usr/bin/env bash
# against-revision.sh REV [BENCHMARKDOTNET ARGS...]: REV's generated RAM-record reader and writer
# and page state machine measured beside today's, in one BenchmarkDotNet run.
#
# Two separate runs of unchanged code differ by more than 5 % on a small VM (code placement,
# buffer alignment), so a before/after claim needs both sides in the same run. This script builds
# REV's runtime/Qmig.Wire (and runtime/Qmig.Linux where REV generates the page machine there) in
# a temporary git worktree, every runtime assembly renamed *.AtRevision so it loads beside today's,
# and runs the benchmarks with QmigRevisionDir set in the environment: Qmig.Benchmarks.csproj then
# references those assemblies under the extern alias `atrevision` and compiles the
# AtRevision_* methods (Wire/RamPageStreamBenchmarks.AtRevision.cs, MachineBenchmarks.AtRevision.cs),
# the same loops as today's methods calling REV's types. An environment variable, not -p:, because
# BenchmarkDotNet rebuilds the project for each job in a child build that must see it too.
#
# Defaults, each replaced when ARGS give the option: --filter '*RamPageStream*' '*MachineBenchmarks*',
# --launchCount 3 (every case in three processes). Results go to
# BenchmarkDotNet.Artifacts/against-REV/ at the repository root; the script ends with a table of
# today's mean over REV's for each AtRevision_* pair, from the JSON report.
#
#   tools/Qmig.Benchmarks/against-revision.sh 28c925b~1
#   tools/Qmig.Benchmarks/against-revision.sh 28c925b~1 --filter '*MachineBenchmarks*' --job short
set -euo pipefail
if [[ $# -lt 1 || $1 == -* ]]; then
    echo "usage: $0 REV [BenchmarkDotNet args...]" >&2
    exit 2
fi
REV=$1
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
COMMIT=$(git -C "$ROOT" rev-parse --verify --quiet "$REV^{commit}") || { echo "error: '$REV' is not a commit" >&2; exit 2; }
SHORT=$(git -C "$ROOT" rev-parse --short "$COMMIT")
WORK=$(mktemp -d /tmp/qmig-against-revision.XXXXXX)
SOURCE=$WORK/source
ASSEMBLIES=$WORK/assemblies
ARTIFACTS=$ROOT/BenchmarkDotNet.Artifacts/against-$SHORT

cleanup() {
    if [[ -d $SOURCE ]]; then
        git -C "$ROOT" worktree remove --force "$SOURCE" || true
    fi
    rm -rf "$WORK"
    git -C "$ROOT" worktree prune
}
trap cleanup EXIT

echo "== building $REV ($SHORT) in $SOURCE"
git -C "$ROOT" worktree add --detach --quiet "$SOURCE" "$COMMIT"

# Imported by every project of that build before its own properties; renames only the runtime's
# projects (the generator keeps its name, so the build that loads it as an analyzer finds it).
cat >"$WORK/at-revision.props" <<EOF
<Project>
  <PropertyGroup Condition="\$(MSBuildProjectDirectory.StartsWith('$SOURCE/runtime/'))">
    <AssemblyName>\$(MSBuildProjectName).AtRevision</AssemblyName>
  </PropertyGroup>
</Project>
EOF

projects=(runtime/Qmig.Wire/Qmig.Wire.csproj)
# Where REV generates the page machine: in Qmig.Linux from its own copy of the spec, or in Qmig.Wire.
if git -C "$ROOT" show "$COMMIT:runtime/Qmig.Linux/Qmig.Linux.csproj" 2>/dev/null | grep -q 'page\.fsm\.yaml'; then
    projects+=(runtime/Qmig.Linux/Qmig.Linux.csproj)
fi
for project in "${projects[@]}"; do
    dotnet build "$SOURCE/$project" -c Release -nologo -v quiet \
        "-p:CustomBeforeMicrosoftCommonProps=$WORK/at-revision.props"
done
mkdir -p "$ASSEMBLIES"
# Each runtime project's own assembly, from its own output (the others there are copies of its references).
for output in "$SOURCE"/runtime/*/bin/Release/net10.0; do
    project=$(basename "$(dirname "$(dirname "$(dirname "$output")")")")
    cp "$output/$project.AtRevision.dll" "$ASSEMBLIES"/
done
echo "== $REV's assemblies: $(cd "$ASSEMBLIES" && echo *.dll)"
# The assemblies are copied out; the checkout is not needed for the run.
git -C "$ROOT" worktree remove --force "$SOURCE"

args=("$@")
has() { local option; for option in "${args[@]}"; do [[ $option == "$1" ]] && return 0; done; return 1; }
has --filter || has -f || args+=(--filter '*RamPageStream*' '*MachineBenchmarks*')
has --launchCount || args+=(--launchCount 3)
rm -rf "$ARTIFACTS"

echo "== running: dotnet run -c Release --project tools/Qmig.Benchmarks -- ${args[*]} --exporters json --artifacts $ARTIFACTS"
QmigRevisionDir=$ASSEMBLIES dotnet run -c Release --project "$ROOT/tools/Qmig.Benchmarks" -- \
    "${args[@]}" --exporters json --artifacts "$ARTIFACTS"

python3 - "$ARTIFACTS/results" "$REV" <<'EOF'
import glob, json, os, sys
from collections import defaultdict

results, rev = sys.argv[1], sys.argv[2]
reports = sorted(glob.glob(os.path.join(results, "*-report-full*.json")))
if not reports:
    sys.exit(f"error: no JSON report in {results}")

PREFIX = "AtRevision_"
cases = {}
for report in reports:
    with open(report) as f:
        for b in json.load(f)["Benchmarks"]:
            if b.get("Statistics") is None:
                continue  # the case failed; BenchmarkDotNet has printed why
            launches = defaultdict(lambda: [0.0, 0])
            for m in b.get("Measurements", []):
                if m["IterationMode"] == "Workload" and m["IterationStage"] == "Result":
                    launches[m["LaunchIndex"]][0] += m["Nanoseconds"]
                    launches[m["LaunchIndex"]][1] += m["Operations"]
            per_launch = [ns / ops for ns, ops in launches.values() if ops]
            cases[(b["Type"], b["Method"], b.get("Parameters", ""))] = (b["Statistics"]["Mean"], per_launch)

pairs = []
for (type_, method, params), revision in cases.items():
    if method.startswith(PREFIX):
        today = cases.get((type_, method[len(PREFIX):], params))
        if today is not None:
            pairs.append((f"{type_}.{method[len(PREFIX):]}" + (f" [{params}]" if params else ""), revision, today))
if not pairs:
    sys.exit("error: no AtRevision_* benchmark ran beside its today's twin: check the filter, and that the "
             "build saw QmigRevisionDir (the run's log lists the benchmarks it found)")

def launches(values):
    return "/".join(f"{v:.4g}" for v in values)

print()
print(f"Today's mean over {rev}'s, same run (ns per operation; per-launch means in brackets)")
width = max(len(name) for name, _, _ in pairs)
print(f"{'case':<{width}}  {rev + ' ns':>12}  {'today ns':>12}  {'today/rev':>9}")
for name, (rev_mean, rev_launches), (today_mean, today_launches) in sorted(pairs):
    ratio = today_mean / rev_mean
    flag = "" if abs(ratio - 1) <= 0.05 else "  (beyond 5 %)"
    print(f"{name:<{width}}  {rev_mean:>12.4g}  {today_mean:>12.4g}  {ratio:>9.3f}{flag}")
    print(f"{'':<{width}}  [{launches(rev_launches)}]  [{launches(today_launches)}]")
EOF
