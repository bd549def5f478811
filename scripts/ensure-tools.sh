#!/usr/bin/env bash
# Debian tools the test suite drives for real: skopeo reads our OCI layouts; chromium (with a Korean
# font, fonts-nanum, for readable screenshots) runs the browser tests through Playwright. Never
# `playwright install`: the tests use Debian's /usr/bin/chromium.
# Installs the missing ones with apt-get when running as root (CI) or with sudo.
set -euo pipefail
needed=(skopeo chromium)
missing=()
for tool in "${needed[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ -d /usr/share/fonts/truetype/nanum ] || missing+=(fonts-nanum)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "missing Debian packages: ${missing[*]} (install them with apt-get, then run make test again)" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
