/*
 * See child.h. The children still running and the directories to remove
 * are kept in two small tables, which the exit and fatal-signal handlers go
 * through; those only call async-signal-safe functions (kill, waitid,
 * waitpid, nanosleep, fork, execl). Each entry names the process that made it: a
 * test's forked copy inherits the tables and the handlers, and must leave
 * its parent's servers and directories alone when it ends.
 */
#define _GNU_SOURCE
#include "child.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

#define MAX_CHILDREN 16
#define MAX_DIRS 8

static struct {
  pid_t pid; /* 0: a free slot */
  pid_t owner;
} live[MAX_CHILDREN];
static struct {
  char path[128]; /* "": a free slot */
  pid_t owner;
} dirs[MAX_DIRS];
static int handlers_installed;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void forget(pid_t pid) {
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (live[i].pid == pid) live[i].pid = 0;
}

/* Wait up to wait_s for pid to exit, without reaping it (WNOWAIT): while it
 * is a zombie its pid, the group's id, cannot be reused. 1 if it exited. */
static int exited_within(pid_t pid, double wait_s) {
  double deadline = now_s() + wait_s;
  for (;;) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return 1;
    if (info.si_pid == pid) return 1;
    if (now_s() >= deadline) return 0;
    nap_ms(10);
  }
}

/* SIGKILL what is left of the group of an exited pid (a server's workers),
 * then reap the pid. Returns its wait status. */
static int reap(pid_t pid) {
  int st = 0;
  kill(-pid, SIGKILL);
  return waitpid(pid, &st, 0) == pid ? st : 0;
}

/* Signal the child's group, wait until deadline, then SIGKILL the group;
 * reap. Returns the wait status. Async-signal-safe. */
static int stop_pid(pid_t pid, int sig, double wait_s) {
  if (kill(-pid, sig) != 0) kill(pid, sig); /* no group: it made another */
  if (!exited_within(pid, wait_s)) kill(pid, SIGKILL);
  return reap(pid);
}

static void remove_dir(const char *dir) {
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/rm", "rm", "-rf", dir, (char *)NULL);
    _exit(127);
  }
  if (pid > 0) waitpid(pid, NULL, 0);
}

static void cleanup(void) {
  pid_t self = getpid();
  double deadline = now_s() + 3;
  int i;
  /* SIGTERM to all at once, then 3 s in all for them to exit. */
  for (i = 0; i < MAX_CHILDREN; i++) {
    pid_t pid = live[i].pid;
    if (pid > 0 && live[i].owner == self && kill(-pid, SIGTERM) != 0) kill(pid, SIGTERM);
  }
  for (i = 0; i < MAX_CHILDREN; i++) {
    pid_t pid = live[i].pid;
    if (pid <= 0 || live[i].owner != self) continue;
    if (!exited_within(pid, deadline - now_s())) kill(pid, SIGKILL);
    reap(pid);
    live[i].pid = 0;
  }
  for (i = 0; i < MAX_DIRS; i++) {
    if (dirs[i].path[0] == '\0' || dirs[i].owner != self) continue;
    remove_dir(dirs[i].path);
    dirs[i].path[0] = '\0';
  }
}

static void on_fatal(int sig) {
  cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
}

static void install_handlers(void) {
  if (handlers_installed) return;
  handlers_installed = 1;
  atexit(cleanup);
  /* A failed ASSERT aborts, which skips atexit. (ASan keeps SIGSEGV for its
   * report; its children then go by PR_SET_PDEATHSIG.) */
  signal(SIGABRT, on_fatal);
#ifndef __SANITIZE_ADDRESS__
  signal(SIGSEGV, on_fatal);
#endif
  signal(SIGTERM, on_fatal);
  signal(SIGINT, on_fatal);
}

void ac_test_skip(const char *fmt, ...) {
  va_list ap;
  fputs("skip: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
  exit(77);
}

const char *ac_test_tmpdir(const char *prefix) {
  install_handlers();
  for (int i = 0; i < MAX_DIRS; i++) {
    if (dirs[i].path[0] != '\0') continue;
    snprintf(dirs[i].path, sizeof(dirs[i].path), "/tmp/%s.XXXXXX", prefix);
    if (mkdtemp(dirs[i].path) == NULL) AC__FAIL("mkdtemp %s: %s", dirs[i].path, strerror(errno));
    dirs[i].owner = getpid();
    return dirs[i].path;
  }
  AC__FAIL("more than %d temporary directories in one test", MAX_DIRS);
}

int ac_test_free_port(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0), port;
  ASSERT(fd >= 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

const char *ac_child_find(const char *name, char *buf, size_t size) {
  const char *path = getenv("PATH");
  char dirlist[4096];
  char *save, *d;
  if (strchr(name, '/') != NULL) {
    snprintf(buf, size, "%s", name);
    return access(buf, X_OK) == 0 ? buf : NULL;
  }
  /* nginx is in /usr/sbin, which a user's PATH may lack. */
  snprintf(dirlist, sizeof(dirlist), "%s:/usr/local/sbin:/usr/sbin:/sbin",
           path != NULL ? path : "/usr/local/bin:/usr/bin:/bin");
  for (d = strtok_r(dirlist, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
    if (*d == '\0') continue;
    snprintf(buf, size, "%s/%s", d, name);
    if (access(buf, X_OK) == 0) return buf;
  }
  return NULL;
}

static int accepts(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;
  if (fd < 0) return 0;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
  close(fd);
  return rc == 0;
}

static int read_portfile(const char *path) {
  FILE *f = fopen(path, "r");
  int port = 0;
  if (f == NULL) return 0;
  if (fscanf(f, "%d", &port) != 1 || port <= 0 || port > 65535) port = 0;
  fclose(f);
  return port;
}

/* "exited with status N" or "killed by SIGNAME" (a status from waitpid). */
static const char *describe(int st, char *buf, size_t size) {
  if (WIFEXITED(st))
    snprintf(buf, size, "exited with status %d", WEXITSTATUS(st));
  else if (WIFSIGNALED(st))
    snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
  else
    snprintf(buf, size, "wait status 0x%x", (unsigned)st);
  return buf;
}

/* The last lines of the child's log on stderr, for a failure. */
static void print_tail(const struct ac_child *c) {
  char buf[4096];
  FILE *f;
  long size;
  size_t n;
  if (c->log[0] == '\0') return;
  f = fopen(c->log, "rb");
  if (f == NULL) {
    fprintf(stderr, "(%s: no log at %s)\n", c->what, c->log);
    return;
  }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0, SEEK_SET);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  fprintf(stderr, "--- the end of %s's log (%s):\n%s%s---\n", c->what, c->log, buf,
          n > 0 && buf[n - 1] != '\n' ? "\n" : "");
}

/* The runner's environment with extra's NAME=VALUE added or replacing
 * theirs; NULL-terminated, to free (the strings are borrowed). */
static char **build_env(char *const *extra) {
  size_t n = 0, k = 0, i;
  char **env;
  for (i = 0; environ[i] != NULL; i++) n++;
  for (i = 0; extra[i] != NULL; i++) n++;
  env = malloc((n + 1) * sizeof(*env));
  ASSERT_NOT_NULL(env);
  for (i = 0; environ[i] != NULL; i++) {
    int replaced = 0;
    for (char *const *x = extra; *x != NULL && !replaced; x++) {
      size_t len = strcspn(*x, "=");
      replaced = strncmp(environ[i], *x, len) == 0 && environ[i][len] == '=';
    }
    if (!replaced) env[k++] = environ[i];
  }
  for (i = 0; extra[i] != NULL; i++) env[k++] = extra[i];
  env[k] = NULL;
  return env;
}

/* In the child, between fork and exec: only async-signal-safe calls. A
 * failed exec reports its errno through the pipe (closed on exec). */
static void child_exec(const struct ac_child_opts *o, const char *path, char **env, pid_t parent,
                       int report) {
  int e;
  setpgid(0, 0);
  /* Die with the runner, even a SIGKILLed one; it may be gone already. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  signal(SIGPIPE, SIG_DFL);
  if (o->log != NULL) {
    int fd = open(o->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) goto fail;
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
  }
  if (o->cwd != NULL && chdir(o->cwd) != 0) goto fail;
  execve(path, o->argv, env);
fail:
  e = errno;
  if (write(report, &e, sizeof(e)) < 0) {
  }
  _exit(127);
}

void ac_child_start(struct ac_child *c, const struct ac_child_opts *o) {
  char path[1024], why[128];
  int report[2], e, slot = -1, st;
  ssize_t got;
  pid_t parent = getpid();
  double deadline;
  char **env;

  ASSERT(o->argv != NULL && o->argv[0] != NULL);
  ASSERT(o->portfile != NULL || o->port > 0);
  memset(c, 0, sizeof(*c));
  snprintf(c->what, sizeof(c->what), "%s", o->what != NULL ? o->what : o->argv[0]);
  snprintf(c->log, sizeof(c->log), "%s", o->log != NULL ? o->log : "");
  if (ac_child_find(o->argv[0], path, sizeof(path)) == NULL)
    ac_test_skip("%s not found (%s)", o->argv[0], o->missing != NULL ? o->missing : "not installed");
  install_handlers();
  for (int i = 0; i < MAX_CHILDREN && slot < 0; i++)
    if (live[i].pid == 0) slot = i;
  if (slot < 0) AC__FAIL("more than %d children in one test", MAX_CHILDREN);
  if (o->portfile != NULL) unlink(o->portfile);

  env = o->env != NULL ? build_env(o->env) : environ;
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  fflush(NULL); /* or the child's exit-path flush would print it twice */
  c->pid = fork();
  ASSERT(c->pid >= 0);
  if (c->pid == 0) child_exec(o, path, env, parent, report[1]);
  setpgid(c->pid, c->pid); /* either side may run first */
  if (env != environ) free(env);
  live[slot].owner = parent;
  live[slot].pid = c->pid;
  close(report[1]);
  do got = read(report[0], &e, sizeof(e));
  while (got < 0 && errno == EINTR);
  close(report[0]);
  if (got == (ssize_t)sizeof(e)) {
    ac_child_stop(c, SIGKILL);
    AC__FAIL("%s: could not run %s: %s", c->what, path, strerror(e));
  }

  /* Exec'd: wait for the port, then for a connection to be accepted. */
  c->port = o->portfile != NULL ? 0 : o->port;
  deadline = now_s() + (o->timeout_s > 0 ? o->timeout_s : 20) * ac_test_time_multiplier();
  for (;;) {
    if (c->port == 0) c->port = read_portfile(o->portfile);
    if (c->port > 0 && accepts(c->port)) return;
    if (exited_within(c->pid, 0)) {
      st = reap(c->pid);
      forget(c->pid);
      c->pid = 0;
      c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      print_tail(c);
      AC__FAIL("%s %s before listening", c->what, describe(st, why, sizeof(why)));
    }
    if (now_s() > deadline) {
      print_tail(c);
      if (c->port > 0)
        AC__FAIL("%s did not accept a connection on 127.0.0.1:%d in time", c->what, c->port);
      AC__FAIL("%s did not write its port to %s in time", c->what, o->portfile);
    }
    nap_ms(10);
  }
}

int ac_child_stop(struct ac_child *c, int sig) {
  int st;
  if (c->pid <= 0) return c->status;
  st = stop_pid(c->pid, sig, 10 * ac_test_time_multiplier());
  forget(c->pid);
  c->pid = 0;
  c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return c->status;
}
