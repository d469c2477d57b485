#!/bin/sh
# Installs the Debian packages acrawl needs, by purpose:
#   scripts/deps.sh build   the build and `make books` (the default), and
#                           redis-server for a crawl shared by workers
#   scripts/deps.sh test    those, and what the tests run against: nginx,
#                           httpbin, valgrind, qemu for the aarch64 switch,
#                           clang for the fuzzers, node for the MongoDB stand-in
#   scripts/deps.sh bench   the build's, and the benchmarks' peers: wrk,
#                           Python's aiohttp, uvloop and Scrapy
set -eu
what=${1:-build}
BUILD="build-essential cmake pkg-config git libuv1-dev zlib1g-dev libbrotli-dev libdeflate-dev
  libcjson-dev libhttp-parser-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev libpsl-dev
  libmongoc-dev libbson-dev libhiredis-dev redis-server"
TEST="valgrind qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross python3 nginx-light
  python3-httpbin gunicorn curl openssl clang libclang-rt-dev nodejs npm python3-pymongo
  python3-jsonschema"
BENCH="nginx-light wrk curl python3 python3-aiohttp python3-uvloop python3-scrapy time"
case $what in
  build) PACKAGES=$BUILD ;;
  test) PACKAGES="$BUILD $TEST" ;;
  bench) PACKAGES="$BUILD $BENCH" ;;
  *) echo "usage: scripts/deps.sh [build|test|bench]" >&2; exit 2 ;;
esac

# The MongoDB stand-in (tests/mongo) runs on node: a node that is already
# there (NodeSource's nodejs provides npm and conflicts with Debian's npm
# package) is kept.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  PACKAGES=$(echo $PACKAGES | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' ')
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "make deps: installing packages needs root. Run it as root (or with sudo)," >&2
  echo "or install these Debian packages yourself: $(echo $PACKAGES)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
missing=$(for p in $PACKAGES; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || echo "$p"; done |
  sort -u | tr '\n' ' ')
if [ -z "$(echo "$missing" | tr -d ' ')" ]; then
  echo "make deps ($what): every package is already installed"
  exit 0
fi
echo "make deps ($what): installing $missing"
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
