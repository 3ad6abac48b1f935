#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine: installs what the tests need beyond the
# .NET SDK (node packages for the official Kaitai compiler, Debian's QEMU, Chromium), then `dotnet test`.
# Anything that cannot be installed makes this script fail loudly; no test is skipped for it.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v node >/dev/null || need_apt+=(nodejs npm)
# The receive tests migrate a real QEMU 7.2 guest (Debian's) into qmig; nasm assembles that guest.
command -v qemu-system-x86_64 >/dev/null || need_apt+=(qemu-system-x86)
command -v nasm >/dev/null || need_apt+=(nasm)
# The native qmig (PublishAot) links with clang; its tests compare it with the managed qmig.
command -v clang >/dev/null || need_apt+=(clang)
# The report tests open qmig report's HTML in Debian's headless Chromium (driven by Playwright).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# The receive tests also migrate from Debian's QEMU 10.0 (bookworm-backports), unpacked beside 7.2.
[ -x "${QMIG_QEMU10:-/opt/qemu10/bin/qemu-system-x86_64}" ] || PREFIX=/opt/qemu10 bash tests/fixtures/qemu10-setup.sh

# The official Kaitai compiler (and its JavaScript runtime) pinned by the committed lock file.
if [ ! -d tests/kaitai/node_modules ] || [ tests/kaitai/package-lock.json -nt tests/kaitai/node_modules ]; then
  npm ci --prefix tests/kaitai --no-audit --no-fund --loglevel=error
fi

# Chart.js as npm ships it, which a test compares with the copy qmig report inlines.
if [ ! -d tools/Qmig.Cli/Report/chartjs/node_modules ] || [ tools/Qmig.Cli/Report/chartjs/package-lock.json -nt tools/Qmig.Cli/Report/chartjs/node_modules ]; then
  npm ci --prefix tools/Qmig.Cli/Report/chartjs --no-audit --no-fund --loglevel=error
fi

dotnet build Protocol.sln -c Release -warnaserror --nologo -v q
# The packages a VMM consumes and qmig as a .NET tool; tests install the tool from them, and
# tests/Qmig.Consumer, a VMM-shaped program outside the solution, is built from them alone (its
# packages restored afresh: the same version number may hold an earlier build) for the tests to run.
rm -rf artifacts/packages
for project in runtime/Qmig.Wire.Support runtime/Qmig.Wire runtime/Qmig.Linux runtime/Qmig.Postcopy generators/Qmig.Generators tools/Qmig.Cli; do
  dotnet pack "$project" -c Release --no-build -warnaserror --nologo -v q -o artifacts/packages
done
dotnet publish tools/Qmig.Cli -c Release -r linux-x64 -warnaserror --nologo -v q -o artifacts/native
rm -rf tests/Qmig.Consumer/bin tests/Qmig.Consumer/obj
dotnet build tests/Qmig.Consumer -c Release -warnaserror --nologo -v q
# A test that hangs fails after 10 minutes with a dump that names it, instead of using up CI time.
dotnet test Protocol.sln -c Release --no-build --nologo --blame-hang-timeout 10m "$@"
