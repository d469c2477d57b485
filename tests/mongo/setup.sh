#!/bin/sh
# Installs the MongoDB stand-in's node modules into TARGET_DIR (a build-tree
# directory; node_modules never goes into the source tree):
#   tests/mongo/setup.sh TARGET_DIR
# Runs `npm ci` from the committed package-lock.json, offline-first; does
# nothing when TARGET_DIR already holds this lock file's install, so calling
# it before every test is cheap. Exit 77 (the tests' "skip") when node or npm
# is missing or the registry cannot be reached (with the reason), 1 when the
# install fails otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
target=${1:?usage: setup.sh TARGET_DIR}

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "mongo stand-in: $tool not found (install nodejs and npm: make test-deps)" >&2
    exit 77
  fi
done

mkdir -p "$target"
stamp="$target/.installed-lock"
if [ -f "$stamp" ] && [ -d "$target/node_modules/@push.rocks/smartmongo" ] &&
   cmp -s "$stamp" "$here/package-lock.json"; then
  exit 0
fi

# Concurrent tests may call this at once: one installs, the others wait.
lock="$target/.install.lock"
exec 9>"$lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi
if [ -f "$stamp" ] && cmp -s "$stamp" "$here/package-lock.json"; then
  exit 0
fi

cp "$here/package.json" "$here/package-lock.json" "$target/"
rm -f "$stamp"
if ! (cd "$target" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline \
        --loglevel=error >"$target/npm-ci.log" 2>&1); then
  if grep -qE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|ENETUNREACH|EHOSTUNREACH' \
       "$target/npm-ci.log"; then
    echo "mongo stand-in: skipped, the npm registry cannot be reached:" >&2
    grep -m 3 -E 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|ENETUNREACH|EHOSTUNREACH' \
      "$target/npm-ci.log" >&2
    exit 77
  fi
  echo "mongo stand-in: npm ci failed in $target:" >&2
  tail -20 "$target/npm-ci.log" >&2
  exit 1
fi
cp "$here/package-lock.json" "$stamp"
