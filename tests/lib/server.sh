# Servers for shell scripts (tests, examples, scripts/, bench/): start one in
# the background, wait until it accepts a connection on 127.0.0.1, and stop
# it, at the latest from the EXIT trap this file installs. The shell half of
# tests/runner/child.h. POSIX sh; works under set -eu.
#
#   SERVER_DIR=$T   # before sourcing: where logs go; by default a directory
#                   # of its own, made now and removed at exit
#   . "$(dirname "$0")/../tests/lib/server.sh"   (the path from the script)
#   server_start site file:"$T/s.port" "$ACRAWL" site --port 0 --portfile "$T/s.port"
#   url=http://127.0.0.1:$SERVER_PORT
#   server_stop site
#
# server_start NAME HOW COMMAND [ARGS...]
#   Runs COMMAND in the background, stdin from /dev/null, stdout and stderr
#   appended to $SERVER_DIR/NAME.log, and returns once it accepts a
#   connection: sets SERVER_PORT and SERVER_PID. HOW says how the port is
#   learnt: file:PATH (the server writes it there once it listens), port:N
#   (picked beforehand, see server_free_port) or stdout (the first line the
#   server prints; its stdout then goes to $SERVER_DIR/NAME.out). A NAME
#   still running is stopped first. Waits up to SERVER_WAIT seconds (20).
#   COMMAND not found: exits 77 ("skip: ..."). The server exits first or
#   does not listen in time: exits 1, with its exit status and the end of
#   its log. Call it from the script's own shell, not from $(...) or a
#   pipeline: the server must be this shell's child.
# server_stop NAME [SIGNAL]
#   Sends SIGNAL (TERM) and waits up to SERVER_STOP_WAIT seconds (10), then
#   KILLs it and its children; always reaped. Sets SERVER_STATUS (its exit
#   status, 128 + N for a signal). Again, or for a NAME not running: nothing.
#   (A background job of a script starts with SIGINT ignored: only a server
#   that sets its own handler, as acrawl does, sees INT.)
# server_on_exit COMMAND
#   Runs COMMAND (a string, eval'd) at exit, after every server is stopped;
#   the last registered first. Scripts that source this file use it instead
#   of a trap of their own on EXIT (which would replace this one).
# nginx_start DIR ROOT [WORKERS [CONNECTIONS [MORE]]]
#   nginx (a server acrawl did not write) serving the files under ROOT on a
#   free port of 127.0.0.1, configured and logging in DIR, as server_start
#   NAME nginx: WORKERS worker processes (1), CONNECTIONS each (1024), MORE
#   inside its server block (a location mapping the book list's query to
#   files, say). Sets NGINX_URL.
# server_free_port     prints a free TCP port on 127.0.0.1 (python3).
# server_need PROG WHY exits 77 ("skip: PROG not found (WHY)") when PROG is
#                      not installed.
# server_skip MESSAGE  prints "skip: MESSAGE" and exits 77, ctest's "skipped".

SERVER_DIR=${SERVER_DIR:-}
SERVER_PORT=
SERVER_PID=
SERVER_STATUS=
_server_names=
_server_own_dir=
_server_at_exit=

server_skip() {
  echo "skip: $*" >&2
  exit 77
}

server_need() {
  command -v "$1" >/dev/null 2>&1 || server_skip "$1 not found ($2)"
}

server_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Files as a static server sends them fastest (sendfile, open files cached,
# one connection kept for every request), no access log, and every temp
# path in DIR: nginx's own default is a system directory.
nginx_start() {
  _ngx_dir=$1
  _ngx_port=$(server_free_port)
  mkdir -p "$_ngx_dir/logs"
  cat >"$_ngx_dir/nginx.conf" <<CONF
worker_processes ${3:-1};
daemon off;
pid $_ngx_dir/nginx.pid;
error_log $_ngx_dir/logs/error.log;
events { worker_connections ${4:-1024}; }
http {
  access_log off;
  default_type application/json;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=20000;
  client_body_temp_path $_ngx_dir/logs;
  proxy_temp_path $_ngx_dir/logs;
  fastcgi_temp_path $_ngx_dir/logs;
  uwsgi_temp_path $_ngx_dir/logs;
  scgi_temp_path $_ngx_dir/logs;
  server {
    listen 127.0.0.1:$_ngx_port backlog=4096;
    root $2;
    ${5:-}
  }
}
CONF
  server_start nginx port:"$_ngx_port" nginx -c "$_ngx_dir/nginx.conf" -p "$_ngx_dir"
  NGINX_URL=http://127.0.0.1:$_ngx_port
}

server_on_exit() {
  _server_at_exit="$1
$_server_at_exit"
}

# 0 when something accepts a connection on 127.0.0.1:PORT (bash's /dev/tcp:
# bash is always there on Debian, unlike nc or python3).
_server_accepts() {
  bash -c ': <>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null
}

# 0 while PID runs: kill -0 answers for a zombie too, /proc tells it apart.
_server_alive() {
  kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# _server_fail NAME WHAT...: says why NAME did not start, with the end of its
# log, and exits 1.
_server_fail() {
  echo "server_start: $*" >&2
  if [ -s "$SERVER_DIR/$1.log" ]; then
    echo "--- the end of $1's log ($SERVER_DIR/$1.log):" >&2
    tail -n 20 "$SERVER_DIR/$1.log" >&2
    echo "---" >&2
  fi
  exit 1
}

server_start() {
  _name=$1 _how=$2
  shift 2
  case $_name in *[!A-Za-z0-9_]* | '') echo "server_start: bad name '$_name'" >&2; exit 1 ;; esac
  command -v "$1" >/dev/null 2>&1 || server_skip "$1 not found"
  server_stop "$_name"
  _portfile=
  SERVER_PORT=
  case $_how in
    file:?*) _portfile=${_how#file:} ;;
    port:[0-9]*) SERVER_PORT=${_how#port:} ;;
    stdout) _portfile=$SERVER_DIR/$_name.out ;;
    *) echo "server_start: HOW is file:PATH, port:N or stdout, not '$_how'" >&2; exit 1 ;;
  esac
  [ -z "$_portfile" ] || rm -f "$_portfile"
  if [ "$_how" = stdout ]; then
    "$@" </dev/null >"$_portfile" 2>>"$SERVER_DIR/$_name.log" &
  else
    "$@" </dev/null >>"$SERVER_DIR/$_name.log" 2>&1 &
  fi
  SERVER_PID=$!
  eval "_server_pid_$_name=$SERVER_PID"
  case " $_server_names " in *" $_name "*) ;; *) _server_names="$_server_names $_name" ;; esac
  _deadline=$(($(date +%s) + ${SERVER_WAIT:-20}))
  while :; do
    # The first line, read again until a connection is accepted: the file
    # may have been caught half written.
    [ -z "$_portfile" ] ||
      SERVER_PORT=$(sed -n '1{/^[0-9][0-9]*$/p;q;}' "$_portfile" 2>/dev/null || true)
    [ -n "$SERVER_PORT" ] && _server_accepts "$SERVER_PORT" && return 0
    if ! _server_alive "$SERVER_PID"; then
      _st=0
      wait "$SERVER_PID" || _st=$?
      eval "_server_pid_$_name="
      _server_fail "$_name" "$_name ($*) exited with status $_st before listening"
    fi
    if [ "$(date +%s)" -gt "$_deadline" ]; then
      server_stop "$_name" KILL
      [ -z "$SERVER_PORT" ] ||
        _server_fail "$_name" "$_name did not accept a connection on 127.0.0.1:$SERVER_PORT in ${SERVER_WAIT:-20} s"
      _server_fail "$_name" "$_name did not say its port in ${SERVER_WAIT:-20} s"
    fi
    sleep 0.05
  done
}

server_stop() {
  eval "_pid=\${_server_pid_$1:-}"
  [ -n "$_pid" ] || return 0
  eval "_server_pid_$1="
  kill -"${2:-TERM}" "$_pid" 2>/dev/null || true
  _deadline=$(($(date +%s) + ${SERVER_STOP_WAIT:-10}))
  while _server_alive "$_pid"; do
    if [ "$(date +%s)" -gt "$_deadline" ]; then
      # Its children (nginx's workers) first: once it is gone they are
      # nobody's.
      for _c in $(cat /proc/"$_pid"/task/*/children 2>/dev/null || true); do
        kill -KILL "$_c" 2>/dev/null || true
      done
      kill -KILL "$_pid" 2>/dev/null || true
      break
    fi
    sleep 0.05
  done
  SERVER_STATUS=0
  wait "$_pid" 2>/dev/null || SERVER_STATUS=$?
}

server_stop_all() {
  for _n in $_server_names; do server_stop "$_n"; done
  _server_names=
}

_server_exit() {
  _rc=$?
  set +e
  server_stop_all
  [ -z "$_server_own_dir" ] || rm -rf "$_server_own_dir"
  eval "$_server_at_exit"
  exit $_rc
}
trap _server_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
if [ -z "$SERVER_DIR" ]; then
  SERVER_DIR=$(mktemp -d /tmp/ac_servers.XXXXXX)
  _server_own_dir=$SERVER_DIR
fi
