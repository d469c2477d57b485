#!/bin/sh
# Installs every Debian package that acrawl's build, tests and benchmarks need.
set -eu
PACKAGES="build-essential cmake pkg-config git libuv1-dev zlib1g-dev libbrotli-dev libdeflate-dev libcjson-dev libhttp-parser-dev libsqlite3-dev sqlite3 valgrind
  qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross python3
  libcurl4-openssl-dev libpsl-dev libcjson-dev nginx-light python3-httpbin gunicorn curl wrk openssl
  python3-aiohttp python3-uvloop python3-scrapy time
  clang libclang-rt-dev
  libmongoc-dev libbson-dev nodejs npm python3-pymongo"

# The MongoDB stand-in (tests/mongo) runs on node: a node that is already
# there (NodeSource's nodejs provides npm and conflicts with Debian's npm
# package) is kept.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  PACKAGES=$(echo $PACKAGES | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' ')
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "make deps: installing packages needs root. Run it as root (or: sudo make deps)," >&2
  echo "or install these Debian packages yourself: $(echo $PACKAGES)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $PACKAGES 2>/dev/null |
  awk '$NF != "installed" {print $1}'; for p in $PACKAGES; do
    dpkg-query -W "$p" >/dev/null 2>&1 || echo "$p"; done)
missing=$(echo "$missing" | sort -u | tr '\n' ' ')
if [ -z "$(echo "$missing" | tr -d ' ')" ]; then
  echo "make deps: every package is already installed"
  exit 0
fi
echo "make deps: installing $missing"
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
