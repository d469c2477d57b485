#!/bin/sh
# The shell half of the child-server helper (tests/lib/server.sh), checked in
# scripts of its own: a server found by each of the three ways (a port file,
# a port picked beforehand, a line on stdout), stopped with its exit status,
# twice; a missing one skips (77); one that exits first, or never listens,
# fails with why; the EXIT trap stops what is left, then runs the script's
# own cleanup, last registered first; and nothing outlives a script.
# The server is a few lines of Python.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# Debian's python3 when there: it starts faster than a pyenv shim.
py=$(command -v /usr/bin/python3 || command -v python3) || { echo "skip: python3 not found" >&2; exit 77; }
command -v bash >/dev/null 2>&1 || { echo "skip: bash not found" >&2; exit 77; }
T=$(mktemp -d /tmp/ac_server_check.XXXXXX)
trap 'rm -rf "$T"' EXIT

# A server: listens on 127.0.0.1 on argv[1] (0: a port it picks), says the
# port (argv[2]: "-" on stdout, else a file written through a rename), its
# pid to $T/NAME.pid, and answers each connection with "hello".
cat >"$T/server.py" <<'PY'
import os, socket, sys
l = socket.socket()
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen(8)
port = l.getsockname()[1]
open(sys.argv[3], "w").write(str(os.getpid()))
if sys.argv[2] == "-":
    print(port, flush=True)
else:
    open(sys.argv[2] + ".tmp", "w").write(str(port))
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    c, _ = l.accept()
    c.sendall(b"hello")
    c.close()
PY

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# run NAME: runs $T/NAME.sh, which sources server.sh; its exit status to
# $T/NAME.rc, its stdout and stderr to $T/NAME.out.
run() {
  set +e
  sh "$T/$1.sh" >"$T/$1.out" 2>&1
  echo $? >"$T/$1.rc"
  set -e
}

# gone PIDFILE: the process it names has exited (within 5 s).
gone() {
  pid=$(cat "$1")
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
    sleep 0.05
  done
  fail "$1: pid $pid outlived its script"
}

# 1. The three ways, status, twice, a restart; the EXIT trap and on_exit.
cat >"$T/ways.sh" <<EOF
set -eu
. "$here/server.sh"
server_on_exit 'echo "cleanup registered first"'
server_on_exit 'echo "cleanup registered last"'
server_start byfile file:"$T/byfile.port" $py "$T/server.py" 0 "$T/byfile.port" "$T/byfile.pid"
[ "\$(bash -c 'exec 3<>"/dev/tcp/127.0.0.1/\$0"; cat <&3' \$SERVER_PORT)" = hello ] || exit 11
p=\$(server_free_port)
server_start byport port:\$p $py "$T/server.py" \$p - "$T/byport.pid"
[ "\$SERVER_PORT" = "\$p" ] || exit 12
server_start bystdout stdout $py "$T/server.py" 0 - "$T/bystdout.pid"
[ "\$SERVER_PORT" -gt 0 ] || exit 13
cp "$T/bystdout.pid" "$T/bystdout.first.pid"
server_start bystdout stdout $py "$T/server.py" 0 - "$T/bystdout.pid"
server_stop byfile
echo "byfile stopped: \$SERVER_STATUS"
server_stop byfile
echo "byfile again: \$SERVER_STATUS"
echo "left running: byport bystdout"
EOF
run ways
[ "$(cat "$T/ways.rc")" = 0 ] || fail "ways: exit $(cat "$T/ways.rc"): $(cat "$T/ways.out")"
grep -q "byfile stopped: 143" "$T/ways.out" || fail "ways: the status of a TERMed server: $(cat "$T/ways.out")"
grep -q "byfile again: 143" "$T/ways.out" || fail "ways: a second stop: $(cat "$T/ways.out")"
[ "$(sed -n '/left running/,$p' "$T/ways.out" | sed 1d)" = "cleanup registered last
cleanup registered first" ] || fail "ways: the script's cleanup: $(cat "$T/ways.out")"
for s in byfile byport bystdout.first bystdout; do gone "$T/$s.pid"; done

# 2. A missing server: skipped, with its name.
cat >"$T/missing.sh" <<EOF
set -eu
. "$here/server.sh"
server_start nothing port:1 acrawl-no-such-server --port 1
EOF
run missing
[ "$(cat "$T/missing.rc")" = 77 ] || fail "missing: exit $(cat "$T/missing.rc")"
grep -q "skip: acrawl-no-such-server not found" "$T/missing.out" || fail "missing: $(cat "$T/missing.out")"

# 3. A server that exits before listening: its status and its log's end.
cat >"$T/dies.sh" <<EOF
set -eu
. "$here/server.sh"
server_start dies port:1 sh -c 'echo "no configuration here" >&2; exit 3'
echo "not reached"
EOF
run dies
[ "$(cat "$T/dies.rc")" = 1 ] || fail "dies: exit $(cat "$T/dies.rc")"
grep -q "dies (sh -c .*) exited with status 3 before listening" "$T/dies.out" || fail "dies: $(cat "$T/dies.out")"
grep -q "no configuration here" "$T/dies.out" || fail "dies: no log: $(cat "$T/dies.out")"
if grep -q "not reached" "$T/dies.out"; then fail "dies: the script went on"; fi

# 4. A server that never says its port: stopped at the deadline.
cat >"$T/silent.sh" <<EOF
set -eu
SERVER_WAIT=1
. "$here/server.sh"
server_start silent file:"$T/silent.port" sh -c 'echo \$\$ > "$T/silent.pid"; exec sleep 300'
EOF
run silent
[ "$(cat "$T/silent.rc")" = 1 ] || fail "silent: exit $(cat "$T/silent.rc")"
grep -q "silent did not say its port in 1 s" "$T/silent.out" || fail "silent: $(cat "$T/silent.out")"
gone "$T/silent.pid"

# 5. A script that fails midway, or is stopped by a signal: its servers go.
cat >"$T/midway.sh" <<EOF
set -eu
. "$here/server.sh"
server_start up file:"$T/midway.port" $py "$T/server.py" 0 "$T/midway.port" "$T/midway.pid"
echo started
[ -n "\${STOP_BY:-}" ] && kill -\$STOP_BY \$\$
false
EOF
run midway
[ "$(cat "$T/midway.rc")" = 1 ] || fail "midway: exit $(cat "$T/midway.rc")"
gone "$T/midway.pid"
STOP_BY=TERM
export STOP_BY
run midway
[ "$(cat "$T/midway.rc")" = 143 ] || fail "midway, TERM: exit $(cat "$T/midway.rc")"
gone "$T/midway.pid"
echo "ok: tests/lib/server.sh"
