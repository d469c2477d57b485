/*
 * Small helpers of the replica: Accept-Encoding negotiation.
 */
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "site/site_internal.h"

/* Case-insensitive compare of the token s[0..n) with a lower-case word. */
static int token_is(const char *s, size_t n, const char *word) {
  size_t wl = strlen(word);
  if (n != wl) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != word[i]) return 0;
  }
  return 1;
}

/* 1 if the parameters p[0..n) (after a token's ';') say q=0, q=0.0, ... */
static int q_is_zero(const char *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i++) {
    if ((p[i] == 'q' || p[i] == 'Q') && p[i + 1] == '=' &&
        (i == 0 || p[i - 1] == ';' || p[i - 1] == ' ' || p[i - 1] == '\t')) {
      size_t j = i + 2;
      if (j >= n || p[j] != '0') return 0;
      for (j++; j < n && (p[j] == '.' || p[j] == '0'); j++) {
      }
      return j >= n || p[j] == ' ' || p[j] == '\t' || p[j] == ';';
    }
  }
  return 0;
}

int ac__site_accepts_gzip(const ac_server_req_t *req) {
  size_t nh = ac_server_req_header_count(req);
  int ok = 0;

  /* Every Accept-Encoding header counts (a list may be split over several).
   * An explicit "gzip;q=0" wins over "*". */
  for (size_t h = 0; h < nh; h++) {
    const char *name, *v;
    if (ac_server_req_header_at(req, h, &name, &v) != 0 || !token_is(name, strlen(name),
                                                                      "accept-encoding"))
      continue;
    while (*v) {
      const char *end = strchr(v, ',');
      size_t len = end ? (size_t)(end - v) : strlen(v);
      size_t t = 0, tl;
      while (t < len && (v[t] == ' ' || v[t] == '\t')) t++;
      tl = t;
      while (tl < len && v[tl] != ';' && v[tl] != ' ' && v[tl] != '\t') tl++;
      if (token_is(v + t, tl - t, "gzip") || token_is(v + t, tl - t, "x-gzip")) {
        if (q_is_zero(v + tl, len - tl)) return 0;
        ok = 1;
      } else if (token_is(v + t, tl - t, "*") && !q_is_zero(v + tl, len - tl)) {
        ok = 1;
      }
      v += len;
      if (*v == ',') v++;
    }
  }
  return ok;
}
