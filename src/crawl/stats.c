/*
 * What a crawl tells its user: the latency histogram, the live progress line
 * (or log lines when not on a terminal), the summary and the stats file.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "crawl/internal.h"

/* A log-linear histogram: 16 exact buckets below 16 µs, then 16 per octave
 * (6% wide), so p99 is exact to a few percent in 4 KiB whatever the count. */
static size_t lat_index(uint64_t us) {
  int e;
  size_t i;
  if (us < 16) return (size_t)us;
  e = 63 - __builtin_clzll(us);
  i = 16 + (size_t)(e - 4) * 16 + (size_t)((us >> (e - 4)) & 15);
  return i < AC__LAT_BUCKETS ? i : AC__LAT_BUCKETS - 1;
}

static double lat_value_us(size_t i) {
  size_t e, sub;
  if (i < 16) return (double)i;
  e = (i - 16) / 16 + 4;
  sub = (i - 16) % 16;
  /* The bucket's middle. */
  return (double)((16 + sub) << (e - 4)) + (double)(1ull << (e - 4)) / 2.0;
}

void ac__latency_add(ac__latency_t *l, uint64_t us) {
  l->buckets[lat_index(us)]++;
  l->count++;
}

double ac__latency_quantile_ms(const ac__latency_t *l, double q) {
  uint64_t want, seen = 0;
  if (l->count == 0) return 0;
  want = (uint64_t)(q * (double)l->count);
  if (want >= l->count) want = l->count - 1;
  for (size_t i = 0; i < AC__LAT_BUCKETS; i++) {
    seen += l->buckets[i];
    if (seen > want) return lat_value_us(i) / 1000.0;
  }
  return 0;
}

void ac__crawl_uri_shown(const char *uri, char *out, size_t cap) {
  const char *auth = strstr(uri, "://"), *at, *colon, *end;
  if (auth != NULL) {
    auth += 3;
    end = auth + strcspn(auth, "/?#");
    at = memchr(auth, '@', (size_t)(end - auth));
    colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon != NULL) {
      snprintf(out, cap, "%.*s:***%s", (int)(colon - uri), uri, at);
      return;
    }
  }
  snprintf(out, cap, "%s", uri);
}

static void fmt_eta(char *buf, size_t cap, double s) {
  unsigned long t = (unsigned long)(s + 0.5);
  if (t >= 3600)
    snprintf(buf, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf(buf, cap, "%lu:%02lu", t / 60, t % 60);
}

void ac__crawl_progress_line(ac_crawl_t *c, int final) {
  ac_crawl_stats_t s;
  char eta[32] = "", total[32] = "";
  double rate;
  ac_crawl_stats(c, &s);
  rate = s.elapsed_s > 0 ? (double)s.pages_done / s.elapsed_s : 0;
  if (s.expected > 0) {
    uint64_t left = s.expected > s.pages_done + s.resumed_done + s.failures
                        ? s.expected - s.pages_done - s.resumed_done - s.failures
                        : 0;
    snprintf(total, sizeof(total), "/%llu", (unsigned long long)s.expected);
    if (!final && rate > 0) {
      strcpy(eta, "  ETA ");
      fmt_eta(eta + 6, sizeof(eta) - 6, (double)left / rate);
    }
  }
  fprintf(c->out,
          "%s%llu%s pages  %llu items  %zu in flight  %llu queued  %llu retries  %llu errors  "
          "%.0f pages/s%s%s",
          c->opts.progress == AC_PROGRESS_LINE ? "\r\033[K" : "",
          (unsigned long long)(s.pages_done + s.resumed_done), total,
          (unsigned long long)s.items_stored, s.in_flight, (unsigned long long)s.queued,
          (unsigned long long)s.retries, (unsigned long long)s.failures, rate, eta,
          c->opts.progress == AC_PROGRESS_LINE && !final ? "" : "\n");
  fflush(c->out);
}

int ac__crawl_progress_task(void *arg, void **result) {
  ac_crawl_t *c = arg;
  uint64_t every = c->opts.progress == AC_PROGRESS_LINE ? 250 : 5000;
  (void)result;
  while (ac_sleep(every) == 0) ac__crawl_progress_line(c, 0);
  return 0;
}

void ac__crawl_print_summary(ac_crawl_t *c) {
  ac_crawl_stats_t s;
  FILE *o = c->out;
  ac_crawl_stats(c, &s);
  fprintf(o, "%s: %s in %.2f s\n", c->spider.name != NULL ? c->spider.name : "crawl",
          c->stopping && !c->stopped_on_error  ? "stopped"
          : s.failures > 0 || c->start_error ? "incomplete"
                                             : "complete",
          s.elapsed_s);
  fprintf(o, "  requests %llu (%.0f/s), responses %llu, bytes %llu\n",
          (unsigned long long)s.requests, s.elapsed_s > 0 ? (double)s.requests / s.elapsed_s : 0,
          (unsigned long long)s.responses, (unsigned long long)s.bytes);
  fprintf(o, "  pages done %llu%s, items %llu (stored %llu), duplicates dropped %llu\n",
          (unsigned long long)s.pages_done, "", (unsigned long long)s.items,
          (unsigned long long)s.items_stored, (unsigned long long)s.duplicates);
  if (s.resumed_done > 0)
    fprintf(o, "  done before this run (resumed): %llu pages\n",
            (unsigned long long)s.resumed_done);
  /* Where the stores disagree, each one's count: which refused what. */
  for (size_t i = 0; i < c->opts.nstores; i++)
    if (c->store_refused[i] > 0) {
      for (size_t k = 0; k < c->opts.nstores; k++) {
        char uri[256];
        ac__crawl_uri_shown(ac_store_uri(c->opts.stores[k]), uri, sizeof(uri));
        /* One URI opened once per collection: the collection tells them apart. */
        fprintf(o, "  store %s%s%s%s: %llu kept, %llu refused\n", uri,
                c->opts.store_collections != NULL ? " (" : "",
                c->opts.store_collections != NULL && c->opts.store_collections[k] != NULL
                    ? c->opts.store_collections[k]
                    : "",
                c->opts.store_collections != NULL ? ")" : "",
                (unsigned long long)c->store_ok[k], (unsigned long long)c->store_refused[k]);
      }
      break;
    }
  fprintf(o, "  latency p50 %.2f ms, p99 %.2f ms\n", s.latency_p50_ms, s.latency_p99_ms);
  fprintf(o, "  retries %llu", (unsigned long long)s.retries);
  for (int i = 0; i < AC__CAUSES; i++)
    if (s.retries_by_cause[i] > 0)
      fprintf(o, "  %s %llu", ac_crawl_cause_name(i), (unsigned long long)s.retries_by_cause[i]);
  if (s.retry_after_waits > 0)
    fprintf(o, "  (Retry-After honoured %llu times)", (unsigned long long)s.retry_after_waits);
  fprintf(o, "\n  failures %llu\n", (unsigned long long)s.failures);
  for (size_t i = 0; i < c->nfailures && i < 20; i++)
    fprintf(o, "    %s  %s (%s, %d attempt%s)\n", c->failures[i].url, c->failures[i].why,
            ac_crawl_cause_name(c->failures[i].cause), c->failures[i].attempts,
            c->failures[i].attempts == 1 ? "" : "s");
  if (c->nfailures > 20)
    fprintf(o, "    ... and %zu more (all of them in --stats FILE)\n", c->nfailures - 20);
  fflush(o);
}

int ac_crawl_write_stats(const ac_crawl_t *c, const char *path) {
  ac_crawl_stats_t s;
  cJSON *o = cJSON_CreateObject(), *retries, *fails, *stores;
  char *text;
  FILE *f;
  int rc = 0;
  if (o == NULL) return AC_ENOMEM;
  ac_crawl_stats(c, &s);
  cJSON_AddStringToObject(o, "spider", c->spider.name != NULL ? c->spider.name : "");
  cJSON_AddStringToObject(o, "outcome",
                          c->stopping && !c->stopped_on_error ? "stopped"
                          : s.failures > 0 || c->start_error ? "incomplete"
                                                             : "complete");
  cJSON_AddNumberToObject(o, "elapsed_s", s.elapsed_s);
  cJSON_AddNumberToObject(o, "requests", (double)s.requests);
  cJSON_AddNumberToObject(o, "responses", (double)s.responses);
  cJSON_AddNumberToObject(o, "pages_done", (double)s.pages_done);
  cJSON_AddNumberToObject(o, "resumed_done", (double)s.resumed_done);
  cJSON_AddNumberToObject(o, "items", (double)s.items);
  cJSON_AddNumberToObject(o, "items_stored", (double)s.items_stored);
  cJSON_AddNumberToObject(o, "duplicates", (double)s.duplicates);
  cJSON_AddNumberToObject(o, "bytes", (double)s.bytes);
  cJSON_AddNumberToObject(o, "requests_per_s",
                          s.elapsed_s > 0 ? (double)s.requests / s.elapsed_s : 0);
  cJSON_AddNumberToObject(o, "latency_p50_ms", s.latency_p50_ms);
  cJSON_AddNumberToObject(o, "latency_p99_ms", s.latency_p99_ms);
  cJSON_AddNumberToObject(o, "retry_after_waits", (double)s.retry_after_waits);
  cJSON_AddNumberToObject(o, "expected", (double)s.expected);
  retries = cJSON_AddObjectToObject(o, "retries");
  if (retries != NULL) {
    cJSON_AddNumberToObject(retries, "total", (double)s.retries);
    for (int i = 0; i < AC__CAUSES; i++)
      cJSON_AddNumberToObject(retries, ac_crawl_cause_name(i), (double)s.retries_by_cause[i]);
  }
  stores = cJSON_AddArrayToObject(o, "stores");
  for (size_t i = 0; stores != NULL && i < c->opts.nstores; i++) {
    cJSON *one = cJSON_CreateObject();
    char uri[256];
    if (one == NULL) break;
    ac__crawl_uri_shown(ac_store_uri(c->opts.stores[i]), uri, sizeof(uri));
    cJSON_AddStringToObject(one, "uri", uri);
    if (c->opts.store_collections != NULL && c->opts.store_collections[i] != NULL)
      cJSON_AddStringToObject(one, "collection", c->opts.store_collections[i]);
    cJSON_AddNumberToObject(one, "kept", (double)c->store_ok[i]);
    cJSON_AddNumberToObject(one, "refused", (double)c->store_refused[i]);
    cJSON_AddItemToArray(stores, one);
  }
  if (ac_crawl_shared(c)) ac__frontier_redis_stats_json(c, o);
  cJSON_AddNumberToObject(o, "failures", (double)s.failures);
  fails = cJSON_AddArrayToObject(o, "failed");
  for (size_t i = 0; fails != NULL && i < c->nfailures; i++) {
    cJSON *one = cJSON_CreateObject();
    if (one == NULL) break;
    cJSON_AddStringToObject(one, "url", c->failures[i].url);
    cJSON_AddStringToObject(one, "cause", ac_crawl_cause_name(c->failures[i].cause));
    cJSON_AddNumberToObject(one, "status", c->failures[i].status);
    cJSON_AddStringToObject(one, "error",
                            c->failures[i].code ? ac_err_name(c->failures[i].code) : "");
    cJSON_AddNumberToObject(one, "attempts", c->failures[i].attempts);
    cJSON_AddStringToObject(one, "why", c->failures[i].why);
    cJSON_AddItemToArray(fails, one);
  }
  text = cJSON_Print(o);
  cJSON_Delete(o);
  if (text == NULL) return AC_ENOMEM;
  f = fopen(path, "w");
  if (f == NULL || fputs(text, f) < 0 || fputc('\n', f) == EOF) rc = AC_EIO;
  if (f != NULL && fclose(f) != 0) rc = AC_EIO;
  cJSON_free(text);
  return rc;
}
