/*
 * The test runner's child servers (tests/runner/child.h): a server is
 * started with its environment and directory, waited for, stopped with its
 * exit status; a server that is missing skips the test; one that exits
 * first, or never listens, fails it with why; and none outlives a test that
 * fails midway or is killed.
 *
 * The server is a few lines of Python; the failing cases run in a forked
 * copy of the test, whose end and stderr are checked.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "runner.h"

/* Starts `sleep 300`, a child in its process group as a server's workers
 * would be, writes "PID SLEEP_PID" to argv[1].pids, listens on 127.0.0.1 on
 * a port it picks, written to the file argv[1] through a rename, and
 * answers each connection with "$X <cwd>". */
static const char server_py[] =
    "import os, socket, subprocess, sys\n"
    "s = subprocess.Popen(['sleep', '300'])\n"
    "open(sys.argv[1] + '.pids', 'w').write('%d %d' % (os.getpid(), s.pid))\n"
    "l = socket.socket()\n"
    "l.bind(('127.0.0.1', 0))\n"
    "l.listen(8)\n"
    "open(sys.argv[1] + '.tmp', 'w').write(str(l.getsockname()[1]))\n"
    "os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
    "while True:\n"
    "  c, _ = l.accept()\n"
    "  c.sendall((os.environ.get('X', '-') + ' ' + os.getcwd()).encode())\n"
    "  c.close()\n";

static const char *dir(void) {
  static const char *d;
  if (d == NULL) d = ac_test_tmpdir("ac_child_test");
  return d;
}

static void start_server(struct ac_child *c, const char *name) {
  static char portfile[256], log[256];
  static char *env[] = {"X=from the test", NULL};
  char *argv[] = {"python3", "-c", (char *)server_py, portfile, NULL};
  struct ac_child_opts o = {.what = "the python server", .argv = argv,
                            .missing = "apt-get install python3", .env = env, .cwd = dir(),
                            .log = log, .portfile = portfile};
  snprintf(portfile, sizeof(portfile), "%s/%s.port", dir(), name);
  snprintf(log, sizeof(log), "%s/%s.log", dir(), name);
  ac_child_start(c, &o);
}

/* What the server answers on port. */
static char *answer(int port) {
  static char buf[512];
  struct sockaddr_in a;
  ssize_t n, have = 0;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  while ((n = read(fd, buf + have, sizeof(buf) - 1 - (size_t)have)) > 0) have += n;
  close(fd);
  buf[have] = '\0';
  return buf;
}

/* The server's pid (which = 0) or its sleep's (1), from DIR/NAME.port.pids. */
static pid_t pid_of(const char *name, int which) {
  char path[256];
  FILE *f;
  int pid[2] = {0, 0};
  snprintf(path, sizeof(path), "%s/%s.port.pids", dir(), name);
  f = fopen(path, "r");
  ASSERT_NOT_NULL(f);
  ASSERT_EQ(fscanf(f, "%d %d", &pid[0], &pid[1]), 2);
  fclose(f);
  return pid[which];
}

/* 1 while pid runs (a zombie nobody reaped yet does not). */
static int running(pid_t pid) {
  char path[64], buf[256];
  FILE *f;
  size_t n;
  char *paren;
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  f = fopen(path, "r");
  if (f == NULL) return 0;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  paren = strrchr(buf, ')');
  return paren != NULL && paren[1] == ' ' && paren[2] != 'Z';
}

/* Gone within 5 s. */
static void assert_gone(pid_t pid, const char *what) {
  for (int i = 0; i < 500 && running(pid); i++) usleep(10000);
  if (running(pid)) AC__FAIL("%s (pid %d) outlived its test", what, (int)pid);
}

TEST_IMPL(child_start_env_cwd_stop) {
  struct ac_child c;
  char want[512];
  pid_t pid, sleeper;
  start_server(&c, "a");
  ASSERT_GT(c.port, 0);
  snprintf(want, sizeof(want), "from the test %s", dir());
  ASSERT_STR_EQ(answer(c.port), want);
  pid = c.pid;
  ASSERT_EQ(pid, pid_of("a", 0));
  sleeper = pid_of("a", 1);
  /* Python's default SIGTERM: killed by it. Its sleep, in its group, too. */
  ASSERT_EQ(ac_child_stop(&c, SIGTERM), 128 + SIGTERM);
  ASSERT_EQ(c.pid, 0);
  ASSERT(!running(pid));
  assert_gone(sleeper, "the server's own child");
  ASSERT_EQ(ac_child_stop(&c, SIGTERM), 128 + SIGTERM); /* again: nothing */
}

/* Run fn in a forked copy of the test with stderr into a file; the wait
 * status, and that stderr in err. */
static int in_copy(void (*fn)(void), char *err, size_t size) {
  char path[256];
  int st;
  FILE *f;
  size_t n;
  pid_t pid;
  snprintf(path, sizeof(path), "%s/copy.stderr", dir());
  fflush(NULL);
  pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    ASSERT_NOT_NULL(freopen(path, "w", stderr));
    fn();
    exit(0);
  }
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  f = fopen(path, "r");
  ASSERT_NOT_NULL(f);
  n = fread(err, 1, size - 1, f);
  fclose(f);
  err[n] = '\0';
  return st;
}

static void expect(const char *err, const char *word) {
  if (strstr(err, word) == NULL) AC__FAIL("no \"%s\" in: %s", word, err);
}

static void start_missing(void) {
  struct ac_child c;
  char *argv[] = {"acrawl-no-such-server", NULL};
  struct ac_child_opts o = {.what = "nothing", .argv = argv, .missing = "it does not exist",
                            .port = 1};
  ac_child_start(&c, &o);
}

TEST_IMPL(child_missing_server_skips) {
  char err[4096];
  int st = in_copy(start_missing, err, sizeof(err));
  ASSERT(WIFEXITED(st));
  ASSERT_EQ(WEXITSTATUS(st), 77);
  expect(err, "skip: acrawl-no-such-server not found (it does not exist)");
}

static void start_failing(void) {
  struct ac_child c;
  char log[256];
  char *argv[] = {"sh", "-c", "echo 'no configuration here' >&2; exit 3", NULL};
  struct ac_child_opts o = {.what = "the failing server", .argv = argv, .log = log, .port = 1};
  snprintf(log, sizeof(log), "%s/failing.log", dir());
  ac_child_start(&c, &o);
}

TEST_IMPL(child_exits_before_listening_fails) {
  char err[8192];
  int st = in_copy(start_failing, err, sizeof(err));
  ASSERT(WIFSIGNALED(st));
  ASSERT_EQ(WTERMSIG(st), SIGABRT);
  expect(err, "the failing server exited with status 3 before listening");
  expect(err, "no configuration here"); /* the end of its log */
}

/* Never listens: a shell that says its pid, then sleeps. */
static void start_silent(void) {
  struct ac_child c;
  char portfile[256], cmd[512];
  char *argv[] = {"sh", "-c", cmd, NULL};
  struct ac_child_opts o = {.what = "the silent server", .argv = argv, .portfile = portfile,
                            .timeout_s = 0.3};
  snprintf(portfile, sizeof(portfile), "%s/silent.port", dir());
  snprintf(cmd, sizeof(cmd), "echo $$ > %s/silent.pid; exec sleep 300", dir());
  ac_child_start(&c, &o);
}

TEST_IMPL(child_never_listening_fails_in_time) {
  char err[8192], path[256];
  int st = in_copy(start_silent, err, sizeof(err)), pid = 0;
  FILE *f;
  ASSERT(WIFSIGNALED(st));
  ASSERT_EQ(WTERMSIG(st), SIGABRT);
  expect(err, "the silent server did not write its port to ");
  expect(err, "in time");
  snprintf(path, sizeof(path), "%s/silent.pid", dir());
  f = fopen(path, "r");
  ASSERT_NOT_NULL(f);
  ASSERT_EQ(fscanf(f, "%d", &pid), 1);
  fclose(f);
  assert_gone(pid, "a server that never listened");
}

/* A test that starts a server and fails midway, or is killed (ctest's
 * timeout): the server goes with it. */
static void start_then_abort(void) {
  struct ac_child c;
  start_server(&c, "abort");
  abort();
}

static void start_then_sigkill(void) {
  struct ac_child c;
  start_server(&c, "kill");
  raise(SIGKILL);
}

TEST_IMPL(child_outlives_no_failed_test) {
  char err[8192];
  int st = in_copy(start_then_abort, err, sizeof(err));
  ASSERT(WIFSIGNALED(st));
  ASSERT_EQ(WTERMSIG(st), SIGABRT);
  assert_gone(pid_of("abort", 0), "after an abort, the server");
  assert_gone(pid_of("abort", 1), "after an abort, the server's own child");

  /* SIGKILL leaves no handler to run: the kernel kills the server
   * (PR_SET_PDEATHSIG). Not its own children, which real servers stop
   * themselves (gunicorn's workers watch their parent): ours is stopped
   * here. */
  st = in_copy(start_then_sigkill, err, sizeof(err));
  ASSERT(WIFSIGNALED(st));
  ASSERT_EQ(WTERMSIG(st), SIGKILL);
  assert_gone(pid_of("kill", 0), "after a SIGKILL, the server");
  kill(pid_of("kill", 1), SIGKILL);
}
