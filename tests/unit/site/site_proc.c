#include "site_proc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

const char *site_bin(void) {
  const char *b = getenv("ACRAWL_BIN");
  if (b == NULL || *b == '\0' || access(b, X_OK) != 0)
    ac_test_skip("ACRAWL_BIN not set or not executable");
  if (system("curl --version >/dev/null 2>&1") != 0) ac_test_skip("curl not found");
  return b;
}

const char *site_tmpdir(void) {
  static const char *dir;
  if (dir == NULL) dir = ac_test_tmpdir("ac_site_test");
  return dir;
}

void site_start_with(struct site_proc *p, const char *args, const char *valgrind) {
  static int seq;
  char *argv[64], *copy = NULL, *vcopy = NULL, *save;
  int argc = 0;
  const char *bin = site_bin();

  memset(p, 0, sizeof(*p));
  snprintf(p->dir, sizeof(p->dir), "%s", site_tmpdir());
  snprintf(p->portfile, sizeof(p->portfile), "%s/port.%d", p->dir, seq);
  snprintf(p->log, sizeof(p->log), "%s/log.%d", p->dir, seq++);
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
  {
    struct ac_child_opts o = {.what = "acrawl site", .argv = argv, .log = p->log,
                              .portfile = p->portfile};
    ac_child_start(&p->child, &o);
  }
  free(copy);
  free(vcopy);
  p->port = p->child.port;
  snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%d", p->port);
}

int site_stop(struct site_proc *p, int sig) { return ac_child_stop(&p->child, sig); }

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
