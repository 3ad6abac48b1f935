#!/bin/sh
# Rewrites a runtime project's PublicAPI.Unshipped.txt to its current public surface minus what
# PublicAPI.Shipped.txt already lists, from the analyzer's own RS0016 messages, so the list is
# spelled exactly as the analyzer expects. Review the diff: it is the API change being made.
# Usage: runtime/update-public-api.sh runtime/Qmig.Wire
set -eu
project=${1%/}
name=$(basename "$project")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '#nullable enable\n' > "$project/PublicAPI.Unshipped.txt"
[ -f "$project/PublicAPI.Shipped.txt" ] || printf '#nullable enable\n' > "$project/PublicAPI.Shipped.txt"
# --no-incremental: a build that skips the compiler reports nothing.
dotnet build "$project" -c Release --no-incremental -p:TreatWarningsAsErrors=false --nologo > "$log" 2>&1 || true
{
  printf '#nullable enable\n'
  grep 'warning RS0016' "$log" | grep "/$name.csproj\]" \
    | sed -n "s/.*Symbol '\(.*\)' is not part of the declared public API.*/\1/p" | LC_ALL=C sort -u
} > "$project/PublicAPI.Unshipped.txt.new"
mv "$project/PublicAPI.Unshipped.txt.new" "$project/PublicAPI.Unshipped.txt"
if grep -q 'warning RS0017' "$log"; then
  echo "PublicAPI.Shipped.txt lists members that are gone (RS0017): mark them *REMOVED* there" >&2
  grep 'warning RS0017' "$log" | sort -u >&2
  exit 1
fi
echo "$project/PublicAPI.Unshipped.txt: $(($(wc -l < "$project/PublicAPI.Unshipped.txt") - 1)) entries"
