#include "site_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

/* Children and directories to clean up, whatever way the test ends. */
#define MAX_CHILDREN 8
static pid_t children[MAX_CHILDREN];
static char tmpdir[64];
static int cleanup_installed;

static void cleanup(void) {
  for (int i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] > 0) {
      kill(children[i], SIGKILL);
      waitpid(children[i], NULL, 0);
      children[i] = 0;
    }
  }
  if (tmpdir[0] != '\0') {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
    }
    tmpdir[0] = '\0';
  }
}

/* A failed ASSERT aborts, which skips atexit: clean up there too. */
static void on_abort(int sig) {
  cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
}

static void install_cleanup(void) {
  if (cleanup_installed) return;
  cleanup_installed = 1;
  atexit(cleanup);
  signal(SIGABRT, on_abort);
  signal(SIGTERM, on_abort);
}

const char *site_bin(void) {
  const char *b = getenv("ACRAWL_BIN");
  if (b == NULL || *b == '\0' || access(b, X_OK) != 0) {
    fprintf(stderr, "ACRAWL_BIN not set or not executable: skipped\n");
    exit(77);
  }
  if (system("curl --version >/dev/null 2>&1") != 0) {
    fprintf(stderr, "curl not found: skipped\n");
    exit(77);
  }
  return b;
}

const char *site_tmpdir(void) {
  install_cleanup();
  if (tmpdir[0] == '\0') {
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ac_site_test_XXXXXX");
    ASSERT_NOT_NULL(mkdtemp(tmpdir));
  }
  return tmpdir;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void site_start_with(struct site_proc *p, const char *args, const char *valgrind) {
  static int seq;
  char *argv[64], *copy = NULL, *vcopy = NULL, *save;
  int argc = 0, slot = -1;
  const char *bin = site_bin();
  uint64_t deadline;

  memset(p, 0, sizeof(*p));
  site_tmpdir();
  snprintf(p->dir, sizeof(p->dir), "%s", tmpdir);
  snprintf(p->portfile, sizeof(p->portfile), "%s/port.%d", tmpdir, seq);
  snprintf(p->log, sizeof(p->log), "%s/log.%d", tmpdir, seq++);
  if (valgrind != NULL) {
    vcopy = strdup(valgrind);
    for (char *t = strtok_r(vcopy, " ", &save); t && argc < 30; t = strtok_r(NULL, " ", &save))
      argv[argc++] = t;
  }
  argv[argc++] = (char *)bin;
  argv[argc++] = "site";
  argv[argc++] = "--port";
  argv[argc++] = "0";
  argv[argc++] = "--portfile";
  argv[argc++] = p->portfile;
  if (args != NULL) {
    copy = strdup(args);
    for (char *t = strtok_r(copy, " ", &save); t && argc < 62; t = strtok_r(NULL, " ", &save))
      argv[argc++] = t;
  }
  argv[argc] = NULL;
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (children[i] == 0) {
      slot = i;
      break;
    }
  ASSERT_GE(slot, 0);

  p->pid = fork();
  ASSERT_GE(p->pid, 0);
  if (p->pid == 0) {
    int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    /* The site must not outlive the test, even a test killed by ctest. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (fd >= 0) dup2(fd, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  children[slot] = p->pid;
  free(copy);
  free(vcopy);

  /* Wait for the portfile (written atomically once listening). */
  deadline = now_ms() + (uint64_t)(20000 * ac_test_time_multiplier());
  for (;;) {
    FILE *f = fopen(p->portfile, "r");
    int st;
    if (f != NULL) {
      int ok = fscanf(f, "%d", &p->port) == 1;
      fclose(f);
      if (ok && p->port > 0) break;
    }
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
      children[slot] = 0;
      AC__FAIL("acrawl site exited before listening (status %d)", st);
    }
    if (now_ms() > deadline) AC__FAIL("acrawl site did not write %s in time", p->portfile);
    usleep(10000);
  }
  snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%d", p->port);
}

int site_stop(struct site_proc *p, int sig) {
  int st = 0;
  ASSERT_EQ(kill(p->pid, sig), 0);
  ASSERT_EQ(waitpid(p->pid, &st, 0), p->pid);
  for (int i = 0; i < MAX_CHILDREN; i++)
    if (children[i] == p->pid) children[i] = 0;
  p->pid = 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

char *site_sh(const char *cmd, int *status, size_t *len) {
  FILE *f = popen(cmd, "r");
  size_t n = 0, cap = 4096, r;
  char *out = malloc(cap);
  int st;
  ASSERT_NOT_NULL(f);
  ASSERT_NOT_NULL(out);
  while ((r = fread(out + n, 1, cap - 1 - n, f)) > 0) {
    n += r;
    if (cap - 1 - n == 0) {
      cap *= 2;
      out = realloc(out, cap);
      ASSERT_NOT_NULL(out);
    }
  }
  out[n] = '\0';
  st = pclose(f);
  if (status != NULL) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (len != NULL) *len = n;
  return out;
}

char *site_shf(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  int st;
  char *out;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  out = site_sh(cmd, &st, NULL);
  if (st != 0) AC__FAIL("command failed (%d): %s", st, cmd);
  return out;
}

int site_code(const struct site_proc *p, const char *pq) {
  char *out = site_shf("curl -s -o /dev/null -w '%%{http_code}' '%s%s'", p->url, pq);
  int code = atoi(out);
  free(out);
  return code;
}

cJSON *site_json(const struct site_proc *p, const char *pq) {
  size_t len;
  char cmd[1024];
  int st;
  char *out;
  cJSON *j;
  snprintf(cmd, sizeof(cmd), "curl -s '%s%s'", p->url, pq);
  out = site_sh(cmd, &st, &len);
  ASSERT_EQ(st, 0);
  j = cJSON_ParseWithLength(out, len);
  free(out);
  return j;
}

double site_num(const cJSON *obj, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!cJSON_IsNumber(v)) AC__FAIL("no number field \"%s\"", name);
  return v->valuedouble;
}

char *site_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  ASSERT_NOT_NULL(f);
  ASSERT_EQ(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  ASSERT_GE(n, 0);
  rewind(f);
  buf = malloc((size_t)n + 1);
  ASSERT_NOT_NULL(buf);
  ASSERT_EQ(fread(buf, 1, (size_t)n, f), n);
  buf[n] = '\0';
  fclose(f);
  if (len != NULL) *len = (size_t)n;
  return buf;
}
