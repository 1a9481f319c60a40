#!/usr/bin/env bash
# Installs what the tests need (Debian 12 packages), builds, and runs every
# test: unit, end-to-end with real clients, both again under
# AddressSanitizer and UndefinedBehaviorSanitizer, then every libFuzzer
# target. Run as root (the transparent-mode tests create network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(curl openssl python3 python3-requests python3-prometheus-client python3-socks iproute2 nftables gnutls-bin clang libclang-rt-14-dev
          python3-yaml python3-pacparser squid suricata-update python3-botocore
          haproxy nginx-light libnginx-mod-stream chromium)
deploy/install-packages.sh "${packages[@]}"

# Warnings are errors here (and only here: a newer compiler must not break
# a user's build): GCC at -O3, and clang for the sanitizer run.
echo "== build (GCC, Release, -Werror)"
deploy/build.sh -DCMAKE_BUILD_TYPE=Release -DCHOKEPOINT_WERROR=ON
cmake --build build -j"$(nproc)"
echo "== tests"
ctest --test-dir build --output-on-failure -j2

echo "== build (clang, ASan + UBSan, -Werror)"
BUILD_DIR=build-sanitize deploy/build.sh -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCHOKEPOINT_SANITIZE=ON -DCHOKEPOINT_WERROR=ON
cmake --build build-sanitize -j"$(nproc)"
echo "== tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j2

echo "== fuzzers (clang, libFuzzer), ${CHOKEPOINT_FUZZ_SECONDS:-60} s each, from the seed corpora"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHOKEPOINT_FUZZ=ON -DCHOKEPOINT_SANITIZE=ON \
  -DCHOKEPOINT_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)"
tests/fuzz/run-fuzzers.sh build-fuzz/tests/fuzz tests/fuzz/corpus build-fuzz/fuzz-work
echo "== the Debian package: build, lintian, install, serve, upgrade, purge"
tests/package/test-package.sh
echo "== all tests passed"
