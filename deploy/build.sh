#!/usr/bin/env bash
# Installs what is missing from Debian 12's archive, then builds what serving
# needs, build/chokepoint (Release with debug info), and nothing else; run as
# root on a fresh machine. tests/run-all.sh builds the tests and benchmarks.
#
#   deploy/build.sh            build the proxy
#   BUILD_DIR=out deploy/build.sh -DCHOKEPOINT_SANITIZE=ON   extra CMake options pass through
set -euo pipefail
cd "$(dirname "$0")/.."

# Catch2 and Google Benchmark too: the build directory is configured with its
# tests and benchmarks, for tests/run-all.sh to build there later.
packages=(build-essential cmake ninja-build pkg-config libboost-dev libboost-program-options-dev
          libssl-dev libre2-dev
          libyaml-cpp-dev libc-ares-dev publicsuffix libsimdjson-dev zlib1g-dev catch2
          libbenchmark-dev nlohmann-json3-dev)
deploy/install-packages.sh "${packages[@]}"

build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" --target chokepoint
