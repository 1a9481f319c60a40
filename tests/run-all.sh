#!/usr/bin/env bash
# Installs what the tests need (Debian 12 packages), builds, and runs every
# test: unit, end-to-end with real clients, and both again under
# AddressSanitizer and UndefinedBehaviorSanitizer. Run as root (the
# transparent-mode tests create network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(curl openssl python3 python3-requests iproute2 nftables gnutls-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== build (RelWithDebInfo)"
deploy/build.sh
echo "== tests"
ctest --test-dir build --output-on-failure -j2

echo "== build (ASan + UBSan)"
BUILD_DIR=build-sanitize deploy/build.sh -DCHOKEPOINT_SANITIZE=ON -DCHOKEPOINT_BENCH=OFF
echo "== tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j2
echo "== all tests passed"
