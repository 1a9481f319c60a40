#!/usr/bin/env bash
# Builds the Debian package from this tree (as root on Debian 12; it
# installs what the build needs from Debian's archive):
#
#   deploy/package.sh        ->  build-deb/debs/chokepoint_VERSION_ARCH.deb
#
# VERSION is CMakeLists.txt's project version (VERSION_SUFFIX=+x appends to
# it, for a local rebuild that must upgrade the installed one). The build
# uses debhelper (debian/), in build-deb/, which is kept: a second run
# compiles only what changed, through ccache when it is installed. It
# prints the path of the .deb on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-packages.sh build-essential debhelper dpkg-dev fakeroot help2man \
  cmake ninja-build pkg-config libboost-dev libboost-program-options-dev libssl-dev \
  libre2-dev libyaml-cpp-dev \
  libc-ares-dev publicsuffix libsimdjson-dev zlib1g-dev

version=$(sed -n 's/^project(chokepoint VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[[ -n $version ]] || { echo "package.sh: no project(chokepoint VERSION ...) in CMakeLists.txt" >&2; exit 1; }
version+=${VERSION_SUFFIX:-}

# debian/changelog is written here, never edited: the version has one home.
if commit=$(git rev-parse --short HEAD 2>/dev/null); then
  date=$(git log -1 --format=%aD)
  [[ -z $(git status --porcelain --untracked-files=no) ]] || commit+=" with uncommitted changes"
else
  commit="a tree outside git" date=$(date -R)
fi
maintainer=$(sed -n 's/^Maintainer: //p' debian/control)
cat >debian/changelog <<EOF
chokepoint ($version) bookworm; urgency=medium

  * Built by deploy/package.sh from $commit.

 -- $maintainer  $date
EOF

if command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
fi
# One compiler per core, as dpkg-buildpackage would ask (debhelper builds with -j1 otherwise).
[[ ${DEB_BUILD_OPTIONS:-} == *parallel=* ]] ||
  export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$(nproc)"
# What dpkg-buildpackage -b does, but leaving build-deb/ in place (no clean)
# and the .deb in build-deb/debs/ rather than in the parent directory.
dpkg-checkbuilddeps
rm -f debian/debhelper-build-stamp
debian/rules build
if [[ $(id -u) == 0 ]]; then debian/rules binary; else fakeroot debian/rules binary; fi
arch=$(dpkg --print-architecture)
echo "build-deb/debs/chokepoint_${version}_${arch}.deb"
