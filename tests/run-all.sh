#!/usr/bin/env bash
# Installs what the tests need (Debian 12 packages), builds, and runs every
# test: unit, end-to-end with real clients, and both again under
# AddressSanitizer and UndefinedBehaviorSanitizer. Run as root (the
# transparent-mode tests create network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(curl openssl python3 python3-requests python3-prometheus-client python3-socks iproute2 nftables gnutls-bin clang libclang-rt-14-dev
          python3-yaml python3-pacparser squid suricata-update python3-botocore
          haproxy nginx-light libnginx-mod-stream chromium)
deploy/install-packages.sh "${packages[@]}"

echo "== build (RelWithDebInfo)"
deploy/build.sh
echo "== tests"
ctest --test-dir build --output-on-failure -j2

echo "== build (ASan + UBSan)"
BUILD_DIR=build-sanitize deploy/build.sh -DCHOKEPOINT_SANITIZE=ON -DCHOKEPOINT_BENCH=OFF
echo "== tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j2
echo "== fuzzers (clang, libFuzzer), ${CHOKEPOINT_FUZZ_SECONDS:-60} s each, from the seed corpora"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCHOKEPOINT_FUZZ=ON -DCHOKEPOINT_SANITIZE=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)"
for target in client_hello host request_head connect_response policy_yaml socks proxy_header dns_message audit_log; do
  work=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$target/." "$work/"
  build-fuzz/tests/fuzz/${target}_fuzz -max_total_time="${CHOKEPOINT_FUZZ_SECONDS:-60}" -max_len=20000 \
    -rss_limit_mb=2048 -print_final_stats=1 "$work" 2>&1 | grep -E "^(Done|stat::number_of_executed_units)|ERROR|SUMMARY" || true
  # libFuzzer writes crash-* files into the working directory when it finds one.
  if ls crash-* leak-* timeout-* >/dev/null 2>&1; then
    echo "fuzzer $target found a failing input:"; ls crash-* leak-* timeout-* 2>/dev/null; exit 1
  fi
  rm -rf "$work"
done
echo "== the Debian package: build, lintian, install, serve, upgrade, purge"
tests/package/test-package.sh
echo "== all tests passed"
