/*
 * acrawl site's fault injection, each fault seen by curl: a 5xx for the first
 * K requests of a URL, 429 with Retry-After, a reset mid-body (curl exit 56),
 * a short body (curl exit 18), invalid JSON, an HTML page or nothing with 200
 * (once per URL), ids
 * that 404 forever, 503 past the in-flight cap, delays; and /__stats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner.h"
#include "site_proc.h"

#define PAGE "/api/book/?limit=18&offset=36"

/* curl's exit status for one GET of PAGE (body and errors discarded). */
static int curl_exit(const struct site_proc *p) {
  char cmd[512];
  int st;
  free(site_sh((snprintf(cmd, sizeof(cmd), "curl -s -o /dev/null '%s" PAGE "'", p->url), cmd),
               &st, NULL));
  return st;
}

TEST_IMPL(site_fault_fail_first) {
  struct site_proc p;
  int c1, c2;
  site_start(&p, "--fail-first 1");
  c1 = site_code(&p, PAGE);
  ASSERT(c1 == 500 || c1 == 502 || c1 == 503 || c1 == 504);
  ASSERT_EQ(site_code(&p, PAGE), 200);
  /* Every URL has its own count: the detail of another key fails first too. */
  c2 = site_code(&p, "/api/book/?limit=18&offset=0");
  ASSERT_GE(c2, 500);
  ASSERT_EQ(site_code(&p, "/api/book/?limit=18&offset=0"), 200);
  /* httpbin endpoints are never faulted. */
  ASSERT_EQ(site_code(&p, "/get"), 200);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

TEST_IMPL(site_fault_429) {
  struct site_proc p;
  char *out;
  site_start(&p, "--p429 1 --retry-after 7");
  out = site_shf("curl -s -D - -o /dev/null '%s" PAGE "' | tr -d '\\r' | "
                 "grep -iE '^(HTTP/|retry-after)'", p.url);
  ASSERT_STR_EQ(out, "HTTP/1.1 429 Too Many Requests\nRetry-After: 7\n");
  free(out);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

TEST_IMPL(site_fault_reset_short) {
  struct site_proc p;
  site_start(&p, "--preset 1");
  ASSERT_EQ(curl_exit(&p), 56); /* CURLE_RECV_ERROR */
  ASSERT_EQ(curl_exit(&p), 56);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
  site_start(&p, "--pshort 1");
  ASSERT_EQ(curl_exit(&p), 18); /* CURLE_PARTIAL_FILE */
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
  /* Clean, for comparison. */
  site_start(&p, NULL);
  ASSERT_EQ(curl_exit(&p), 0);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

TEST_IMPL(site_fault_badjson) {
  struct site_proc p;
  cJSON *j;
  site_start(&p, "--pbadjson 1");
  ASSERT_EQ(site_code(&p, "/api/book/?limit=18&offset=0"), 200); /* the bad one, once */
  j = site_json(&p, PAGE);
  ASSERT_NULL(j); /* 200, and a body that does not parse */
  j = site_json(&p, PAGE); /* at most once per URL: then clean */
  ASSERT_NOT_NULL(j);
  cJSON_Delete(j);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* One GET: "CODE CONTENT-TYPE SIZE|" then the body's first bytes. */
static char *get_summary(const struct site_proc *p, const char *pq) {
  return site_shf("curl -s -w '|%%{http_code} %%{content_type} %%{size_download}' '%s%s' | "
                  "tr -d '\\n' | sed 's/^\\(.\\{0,15\\}\\).*|/\\1|/'", p->url, pq);
}

/* A 200 labelled JSON with an HTML error page, or nothing, in place of the
 * body, once per URL: the retry gets the JSON. */
TEST_IMPL(site_fault_html200_empty200) {
  struct site_proc p;
  char *out;
  cJSON *j;

  site_start(&p, "--books 100 --phtml200 1");
  out = get_summary(&p, PAGE);
  ASSERT(strncmp(out, "<", 1) == 0);
  ASSERT(strstr(out, "|200 application/json ") != NULL);
  free(out);
  j = site_json(&p, PAGE);
  ASSERT_NOT_NULL(j);
  cJSON_Delete(j);
  j = site_json(&p, "/__stats");
  ASSERT_EQ(site_num(cJSON_GetObjectItemCaseSensitive(j, "faults"), "html200"), 1);
  ASSERT_EQ(site_num(cJSON_GetObjectItemCaseSensitive(j, "faults"), "none"), 1);
  cJSON_Delete(j);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);

  site_start(&p, "--books 100 --pempty200 1 --content-type text/json");
  out = get_summary(&p, PAGE);
  ASSERT_STR_EQ(out, "|200 text/json 0");
  free(out);
  out = get_summary(&p, PAGE);
  ASSERT(strncmp(out, "{\"count\":100,", 13) == 0);
  free(out);
  j = site_json(&p, "/__stats");
  ASSERT_EQ(site_num(cJSON_GetObjectItemCaseSensitive(j, "faults"), "empty200"), 1);
  cJSON_Delete(j);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);

  /* Mixed with bad JSON: each URL gets at most one bad body, and its retry
   * parses. */
  site_start(&p, "--books 100 --pbadjson 0.3 --phtml200 0.3 --pempty200 0.3");
  for (int off = 0; off < 100; off += 10) {
    char pq[64];
    snprintf(pq, sizeof(pq), "/api/book/?limit=10&offset=%d", off);
    j = site_json(&p, pq);
    cJSON_Delete(j);
    j = site_json(&p, pq);
    ASSERT_NOT_NULL(j);
    cJSON_Delete(j);
  }
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* Start a 100-book site with args, ask every detail twice in one curl run,
 * and return the ids that answered 404 (sorted, one per line, each twice
 * when it failed both times). */
static char *gone_ids(const char *args) {
  struct site_proc p;
  char cfg[128], *dump, *out;
  FILE *f;
  const char *d = site_tmpdir();

  site_start(&p, args);
  snprintf(cfg, sizeof(cfg), "%s/gone.dump", d);
  free(site_shf("'%s' site --books 100 --dump '%s'", site_bin(), cfg));
  dump = site_read_file(cfg, NULL);
  snprintf(cfg, sizeof(cfg), "%s/gone.curl", d);
  f = fopen(cfg, "w");
  ASSERT_NOT_NULL(f);
  for (int round = 0; round < 2; round++) {
    for (const char *l = dump; *l; l = strchr(l, '\n') + 1) {
      fprintf(f, "url = \"%s/api/book/%.*s\"\noutput = \"/dev/null\"\n", p.url,
              (int)strcspn(l + 7, "\""), l + 7);
    }
  }
  fclose(f);
  free(dump);
  out = site_shf("curl -s -K '%s' -w '%%{http_code} %%{url_effective}\\n' | "
                 "grep -v '^200 ' | sed 's|^\\([0-9]*\\) .*/api/book/|\\1 |' | sort", cfg);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
  return out;
}

TEST_IMPL(site_fault_gone) {
  char *a, *b, *c;
  size_t lines = 0;
  /* Exactly 5 ids 404, both times they are asked (every other one is 200). */
  a = gone_ids("--books 100 --gone 5 --fault-seed 3");
  for (const char *l = a; *l; l = strchr(l, '\n') + 1) {
    ASSERT(strncmp(l, "404 ", 4) == 0);
    lines++;
  }
  ASSERT_EQ(lines, 10);
  /* The same seed picks the same ids in another run; another seed, others. */
  b = gone_ids("--books 100 --gone 5 --fault-seed 3");
  ASSERT_STR_EQ(a, b);
  c = gone_ids("--books 100 --gone 5 --fault-seed 4");
  ASSERT(strcmp(a, c) != 0);
  free(a);
  free(b);
  free(c);
}

TEST_IMPL(site_fault_overload_delay) {
  struct site_proc p;
  char *out;
  struct timespec t0, t1;
  site_start(&p, "--max-in-flight 1 --delay 1500");
  /* Two at once on a 1.5 s answer with a cap of 1: one waits, one gets 503. */
  out = site_shf("(curl -s -o /dev/null -w '%%{http_code}\\n' '%s/api/book/?limit=18&offset=0' & "
                 "sleep 0.3; curl -s -o /dev/null -w '%%{http_code}\\n' '%s" PAGE "'; wait) | "
                 "sort | tr '\\n' ' '", p.url, p.url);
  ASSERT_STR_EQ(out, "200 503 ");
  free(out);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  ASSERT_EQ(site_code(&p, PAGE), 200);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ASSERT_GE((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 1400);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

static double stat_of(const cJSON *j, const char *group, const char *name) {
  return site_num(cJSON_GetObjectItemCaseSensitive(j, group), name);
}

TEST_IMPL(site_stats) {
  struct site_proc p;
  cJSON *j;
  const cJSON *clients;
  site_start(&p, "--fail-first 1");
  ASSERT_GE(site_code(&p, PAGE), 500);
  ASSERT_EQ(site_code(&p, PAGE), 200);
  ASSERT_EQ(site_code(&p, "/api/book?limit=18&offset=0"), 301);
  ASSERT_GE(site_code(&p, "/api/book/1"), 500);
  ASSERT_EQ(site_code(&p, "/api/book/1"), 404);
  ASSERT_EQ(site_code(&p, "/nowhere"), 404);
  ASSERT_EQ(site_code(&p, "/get"), 200);
  ASSERT_EQ(site_code(&p, "/status/201"), 201);
  j = site_json(&p, "/__stats");
  ASSERT_NOT_NULL(j);
  ASSERT_EQ(stat_of(j, "requests", "list"), 2);
  ASSERT_EQ(stat_of(j, "requests", "redirect"), 1);
  ASSERT_EQ(stat_of(j, "requests", "detail"), 1);    /* the 5xx one */
  ASSERT_EQ(stat_of(j, "requests", "not_found"), 2); /* the unknown id, /nowhere */
  ASSERT_EQ(stat_of(j, "requests", "httpbin"), 2);
  ASSERT_EQ(stat_of(j, "requests", "stats"), 1);
  ASSERT_EQ(stat_of(j, "requests", "total"), 9);
  ASSERT_EQ(stat_of(j, "faults", "5xx"), 2);
  ASSERT_EQ(stat_of(j, "faults", "none"), 2);
  ASSERT_EQ(stat_of(j, "in_flight", "now"), 1);
  ASSERT_EQ(stat_of(j, "in_flight", "max"), 1);
  clients = cJSON_GetObjectItemCaseSensitive(j, "clients");
  ASSERT_EQ(cJSON_GetArraySize(clients), 1);
  ASSERT_STR_EQ(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(clients, 0), "addr")
                    ->valuestring, "127.0.0.1");
  ASSERT_EQ(site_num(cJSON_GetArrayItem(clients, 0), "requests"), 9);
  cJSON_Delete(j);
  /* Concurrency shows in the maxima: three slow httpbin requests at once. */
  free(site_shf("for i in 1 2 3; do curl -s -o /dev/null '%s/delay/0.5' & done; wait", p.url));
  j = site_json(&p, "/__stats");
  ASSERT_GE(stat_of(j, "in_flight", "max"), 2);
  ASSERT_GE(site_num(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "clients"), 0),
                     "in_flight_max"), 2);
  cJSON_Delete(j);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* Body faults damage the book API's 200 answers only: an unknown id's 404
 * arrives whole under every body fault at a share of 1, and the counts show
 * no fault for it. */
TEST_IMPL(site_fault_body_faults_spare_404s) {
  static const char *const opts[] = {"--preset 1", "--pshort 1", "--pbadjson 1", "--phtml200 1",
                                     "--pempty200 1"};
  struct site_proc p;
  for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
    char *out;
    cJSON *j;
    site_start(&p, opts[i]);
    out = site_shf("curl -s -w ' %%{http_code} %%{exitcode}' '%s/api/book/999999999999'", p.url);
    ASSERT_STR_EQ(out, "{\"detail\":\"Not found.\"} 404 0");
    free(out);
    j = site_json(&p, "/__stats");
    ASSERT_EQ(site_num(cJSON_GetObjectItemCaseSensitive(j, "faults"), "none"), 1);
    cJSON_Delete(j);
    /* A 200 still gets the fault: the option is in force. */
    ASSERT(curl_exit(&p) != 0 || i >= 2);
    ASSERT_EQ(site_stop(&p, SIGTERM), 0);
  }
}

/* --max-in-flight counts book-API requests only: a slow httpbin request in
 * flight does not make a book request over the cap. */
TEST_IMPL(site_fault_in_flight_cap_counts_book_api_only) {
  struct site_proc p;
  char *out;
  site_start(&p, "--max-in-flight 1");
  out = site_shf("(curl -s -o /dev/null -w '%%{http_code}\\n' '%s/delay/2' & "
                 "sleep 0.5; curl -s -o /dev/null -w '%%{http_code}\\n' '%s" PAGE "'; "
                 "curl -s -o /dev/null -w '%%{http_code}\\n' '%s/__stats'; wait) | "
                 "sort | tr '\\n' ' '", p.url, p.url, p.url);
  ASSERT_STR_EQ(out, "200 200 200 ");
  free(out);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}
