/*
 * Link header fields (RFC 8288): the target of a response's link with a
 * given relation type, for paginated APIs that say where the next page is
 * (`Link: <https://api.test/items?page=3>; rel="next"`).
 *
 * What real servers send and a parser must take: several links in one
 * field and several Link fields; commas and semicolons inside <...>; rel
 * quoted or bare, listing several types ("next last"), in any case, before
 * or after other parameters (type, title, title*); a rel given twice (the
 * first counts). A link with an anchor parameter is about another resource
 * than this response, so it is never this response's "next". A link-value
 * that does not parse is skipped up to the next comma outside <...> and
 * quotes, and the others still count.
 */
#include <curl/curl.h>
#include <string.h>
#include <strings.h>

#include "client/internal.h"

#define OWS(c) ((c) == ' ' || (c) == '\t')

/* past a quoted-string starting at p (its opening quote); e if unclosed */
static const char *quoted_end(const char *p, const char *e) {
  for (p++; p < e; p++) {
    if (*p == '\\' && p + 1 < e) p++;
    else if (*p == '"') return p + 1;
  }
  return e;
}

/* Whether the rel value v[0..n) (a quoted-string's content or a token)
 * lists rel among its space-separated types, ignoring case. */
static int rel_lists(const char *v, size_t n, const char *rel) {
  size_t rlen = strlen(rel), i = 0;
  while (i < n) {
    size_t j;
    while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
    j = i;
    while (j < n && v[j] != ' ' && v[j] != '\t') j++;
    if (j - i == rlen && rlen > 0 && strncasecmp(v + i, rel, rlen) == 0) return 1;
    i = j;
  }
  return 0;
}

int ac__link_find(const char *value, const char *rel, const char **target, size_t *len) {
  const char *p = value, *e = value + strlen(value);
  while (p < e) {
    const char *t, *te;
    int has_rel = 0, matches = 0, anchored = 0, bad = 0;
    while (p < e && (OWS(*p) || *p == ',')) p++;
    if (p >= e) break;
    if (*p != '<' || (te = memchr(p, '>', (size_t)(e - p))) == NULL) {
      bad = 1;
    } else {
      t = p + 1;
      p = te + 1;
      for (;;) { /* the parameters */
        const char *name, *v;
        size_t nlen, vlen = 0;
        while (p < e && OWS(*p)) p++;
        if (p >= e || *p == ',') break;
        if (*p != ';') {
          bad = 1;
          break;
        }
        p++;
        while (p < e && OWS(*p)) p++;
        name = p;
        while (p < e && !OWS(*p) && *p != '=' && *p != ';' && *p != ',') p++;
        nlen = (size_t)(p - name);
        while (p < e && OWS(*p)) p++;
        v = p;
        if (p < e && *p == '=') {
          p++;
          while (p < e && OWS(*p)) p++;
          if (p < e && *p == '"') {
            v = p + 1;
            p = quoted_end(p, e);
            vlen = (size_t)(p - v) - (p[-1] == '"' && p > v ? 1 : 0);
          } else {
            v = p;
            while (p < e && !OWS(*p) && *p != ';' && *p != ',') p++;
            vlen = (size_t)(p - v);
          }
        }
        if (nlen == 3 && strncasecmp(name, "rel", 3) == 0 && !has_rel) {
          has_rel = 1;
          matches = rel_lists(v, vlen, rel);
        } else if (nlen == 6 && strncasecmp(name, "anchor", 6) == 0) {
          anchored = 1;
        }
      }
      if (!bad && matches && !anchored) {
        *target = t;
        *len = (size_t)(te - t);
        return 0;
      }
    }
    if (bad) { /* on to the next comma outside <...> and quotes */
      while (p < e && *p != ',') {
        if (*p == '"') p = quoted_end(p, e);
        else if (*p == '<' && memchr(p, '>', (size_t)(e - p)) != NULL)
          p = (const char *)memchr(p, '>', (size_t)(e - p)) + 1;
        else p++;
      }
    }
  }
  return AC_ENOENT;
}

int ac_response_link(const ac_response_t *r, const char *rel, char **url) {
  const char *field, *t = NULL;
  size_t tlen = 0, i;
  char *ref, *out = NULL;
  CURLU *u;
  CURLUcode uc;
  int rc = AC_ENOENT;

  if (url != NULL) *url = NULL;
  if (r == NULL || rel == NULL || url == NULL) return AC_EINVAL;
  for (i = 0; (field = ac_response_header_nth(r, "Link", i)) != NULL; i++)
    if (ac__link_find(field, rel, &t, &tlen) == 0) break;
  if (field == NULL) return AC_ENOENT;
  if ((ref = ac__malloc(tlen + 1)) == NULL) return AC_ENOMEM;
  memcpy(ref, t, tlen);
  ref[tlen] = '\0';
  /* Resolved against the URL of the response it came in (RFC 3986 section
   * 5), not against any URL the caller started from; taken as the site
   * wrote it: no flag that would encode it again. */
  if ((u = curl_url()) == NULL) {
    ac__free(ref);
    return AC_ENOMEM;
  }
  uc = curl_url_set(u, CURLUPART_URL, ac_response_url(r) != NULL ? ac_response_url(r) : "", 0);
  if (uc == CURLUE_OK) uc = curl_url_set(u, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME);
  if (uc == CURLUE_OK) uc = curl_url_get(u, CURLUPART_URL, &out, 0);
  if (uc == CURLUE_OK) {
    *url = ac__strdup(out);
    rc = *url != NULL ? 0 : AC_ENOMEM;
  } else {
    rc = uc == CURLUE_OUT_OF_MEMORY ? AC_ENOMEM : AC_EPROTO;
  }
  curl_free(out);
  curl_url_cleanup(u);
  ac__free(ref);
  return rc;
}
