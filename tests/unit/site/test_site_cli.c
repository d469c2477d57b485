/*
 * acrawl site as a process: SIGTERM and SIGINT stop it with exit 0 and one
 * log line each way, bad options fail with a message naming the option, and
 * (when valgrind is there) a whole run leaks nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"
#include "site_proc.h"

TEST_IMPL(site_signals_stop_cleanly) {
  struct site_proc p;
  char *log;
  site_start(&p, "--books 500");
  ASSERT_EQ(site_code(&p, "/api/book/"), 200);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
  log = site_read_file(p.log, NULL);
  ASSERT(strstr(log, "listening on http://127.0.0.1:") != NULL);
  ASSERT(strstr(log, "stopped by SIGTERM after 1 requests") != NULL);
  free(log);
  /* SIGINT, with a request still waiting in a delay: it is let finish. */
  site_start(&p, "--books 500");
  free(site_shf("(curl -s -o %s/slow -w '%%{http_code}' '%s/delay/0.5' > %s/slow.code &) ; "
                "sleep 0.2", p.dir, p.url, p.dir));
  ASSERT_EQ(site_stop(&p, SIGINT), 0);
  log = site_read_file(p.log, NULL);
  ASSERT(strstr(log, "stopped by SIGINT") != NULL);
  free(log);
  {
    char path[128];
    char *code;
    snprintf(path, sizeof(path), "%s/slow.code", p.dir);
    for (int i = 0; i < 100 && access(path, R_OK) != 0; i++) usleep(20000);
    usleep(100000);
    code = site_read_file(path, NULL);
    ASSERT_STR_EQ(code, "200");
    free(code);
  }
}

/* Run acrawl site with args; expect a non-zero exit and word in stderr. */
static void bad(const char *args, const char *word) {
  char cmd[512];
  int st;
  char *out;
  snprintf(cmd, sizeof(cmd), "'%s' site %s 2>&1 >/dev/null", site_bin(), args);
  out = site_sh(cmd, &st, NULL);
  if (st == 0 || strstr(out, word) == NULL)
    AC__FAIL("acrawl site %s: exit %d, message \"%s\" (want \"%s\")", args, st, out, word);
  free(out);
}

TEST_IMPL(site_bad_options) {
  bad("--port 70000", "--port");
  bad("--port", "--port");
  bad("--books -3", "--books");
  bad("--books 12x", "--books");
  bad("--p429 1.5", "--p429");
  bad("--pshort abc", "--pshort");
  bad("--p429 0.6 --preset 0.6", "add up past 1");
  bad("--page-size 0", "--page-size");
  bad("--no-such-thing 1", "--no-such-thing");
  bad("stray", "stray");
  bad("--host 999.1.1.1 --port 0", "999.1.1.1");
  bad("--dump /nonexistent/dir/file", "--dump");
  bad("--gzip-ahead=1", "takes no value");
  bad("--json-style ugly", "--json-style");
  bad("--json-style=", "--json-style");
  bad("--json-escape html", "--json-escape");
  bad("--pbom 2", "--pbom");
  bad("--pbadjson 0.5 --phtml200 0.3 --pempty200 0.3", "add up past 1");
  bad("--content-type=", "--content-type");
  bad("--content-type \"$(printf 'a\\tb')\"", "--content-type");
  /* The shared option parser (src/cli/opts.c): --name=VALUE as --name VALUE,
   * digits only, finite numbers, overflow refused, the value named. */
  bad("--port=70000", "--port wants a whole number from 0 to 65535, not '70000'");
  bad("--port=", "--port wants a whole number");
  bad("--books ''", "--books wants a whole number");
  bad("--delay +5", "--delay wants a whole number");
  bad("--delay ' 5'", "--delay wants a whole number");
  bad("--seed 99999999999999999999", "--seed wants a whole number");
  bad("--seed 18446744073709551616", "--seed wants a whole number");
  bad("--p429 nan", "--p429 wants a number from 0 to 1, not 'nan'");
  bad("--p429=inf", "--p429 wants a number from 0 to 1");
  bad("--pbom 0x1p-2", "--pbom wants a number");
  bad("--max-connections 0", "--max-connections wants a whole number from 1");
  bad("--dump", "--dump needs a value");
  bad("-p 8080", "unknown option '-p'");
  {
    char cmd[256];
    int st;
    char *out;
    snprintf(cmd, sizeof(cmd), "'%s' site --help", site_bin());
    out = site_sh(cmd, &st, NULL);
    ASSERT_EQ(st, 0);
    ASSERT(strstr(out, "--max-in-flight") != NULL);
    ASSERT(strstr(out, "--json-style compact|pretty|spaced|mixed|any") != NULL);
    free(out);
    /* --name=VALUE for values that are taken, too. */
    snprintf(cmd, sizeof(cmd), "'%s' site --dump=- --books=3 --seed 7 | wc -l", site_bin());
    out = site_sh(cmd, &st, NULL);
    ASSERT_EQ(st, 0);
    ASSERT_EQ(atoi(out), 3);
    free(out);
    snprintf(cmd, sizeof(cmd), "'%s' --help", site_bin());
    out = site_sh(cmd, &st, NULL);
    ASSERT_EQ(st, 0);
    ASSERT(strstr(out, "site") != NULL);
    free(out);
  }
}

TEST_SLOW(site_valgrind) {
  struct site_proc p;
  char *log;
#if defined(__SANITIZE_ADDRESS__)
  fprintf(stderr, "built with the sanitizers: valgrind skipped\n");
  exit(77);
#endif
  if (system("valgrind --version >/dev/null 2>&1") != 0) {
    fprintf(stderr, "valgrind not found: skipped\n");
    exit(77);
  }
  site_start_with(&p, "--books 300 --fail-first 1 --pshort 0.2 --gone 3",
                  "/usr/bin/env valgrind --quiet --error-exitcode=99 --leak-check=full "
                  "--errors-for-leak-kinds=definite,indirect");
  free(site_shf("for i in 1 2 3; do curl -s -o /dev/null '%s/api/book/?limit=18&offset=0'; "
                "curl -s -o /dev/null --compressed '%s/api/book/?limit=18&offset=18'; done; "
                "curl -s -o /dev/null -d 'a=1' '%s/post'; curl -s -o /dev/null '%s/__stats'; "
                "curl -s -o /dev/null '%s/gzip'; curl -s -o /dev/null '%s/api/book?x=1'; true",
                p.url, p.url, p.url, p.url, p.url, p.url));
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
  log = site_read_file(p.log, NULL);
  if (strstr(log, "==") != NULL) AC__FAIL("valgrind said:\n%s", log);
  free(log);
}
