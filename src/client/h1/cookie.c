/*
 * Set-Cookie into libcurl's jar for the own HTTP/1.1 path (see cookie.h).
 *
 * The parse follows libcurl 7.88's Curl_cookie_add step by step, oddities
 * included, because the point is that a cookie behaves the same whichever
 * path received it: pairs split at ';', a pair without a name skipped (so
 * "=x; a=1" sets a), Secure and HttpOnly recognised only without a value,
 * Max-Age winning over Expires, a Domain checked against the host and then
 * the Public Suffix List (Debian's libcurl is built with libpsl, loaded the
 * way libcurl loads it). The line is then written the way libcurl writes its
 * jar (get_netscape_format), with the few fields that line cannot hold
 * (an empty path) replaced by one that matches the same requests.
 */
#include "client/h1/cookie.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acrawl/errno.h"
#include "common/alloc.h"

/* libcurl's MAX_NAME: a name or value (untrimmed) of MAX_NAME - 1 bytes or
 * more, or a pair of more than MAX_NAME together, drops the cookie. */
#define MAX_NAME 4096
/* libcurl lowercases host and domain into 256-byte buffers for the PSL check
 * and drops the cookie when either does not fit. */
#define PSL_NAME_MAX 256

struct span {
  const char *p;
  size_t len;
};

struct cookie {
  struct span name, value, domain, path, maxage, expires;
  bool have_name, have_domain, have_path, have_maxage, have_expires;
  bool tailmatch, secure, httponly;
  bool prefix_secure, prefix_host;
};

static bool is_blank(char c) { return c == ' ' || c == '\t'; }
static bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static bool span_is(struct span s, const char *word) {
  return s.len == strlen(word) && strncasecmp(s.p, word, s.len) == 0;
}

static bool is_ipnum(const char *s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* libcurl's tailmatch: host ends with domain (ignoring case), on a label
 * boundary. */
static bool tailmatch(struct span domain, const char *host) {
  size_t hlen = strlen(host);
  const char *tail;
  if (hlen < domain.len) return false;
  tail = host + hlen - domain.len;
  if (strncasecmp(domain.p, tail, domain.len) != 0) return false;
  return hlen == domain.len || tail[-1] == '.';
}

/* Bytes 0x01-0x1f but TAB, and 0x7f: some servers answer 400 to a Cookie
 * header holding them, so libcurl refuses them in a name or value. */
static bool has_bad_octets(struct span s) {
  for (size_t i = 0; i < s.len; i++) {
    unsigned char c = (unsigned char)s.p[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

/* Without the PSL libcurl wants a dot not at the end, or "localhost". */
static bool bad_domain(const char *d) {
  const char *dot;
  if (strcasecmp(d, "localhost") == 0) return false;
  dot = strchr(d, '.');
  return dot == NULL || dot[1] == '\0';
}

static psl_ctx_t *psl_loaded;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

static void psl_load(void) {
  /* As libcurl: the system's list, else the one built into libpsl. Kept for
   * the life of the process (libcurl refreshes it every 72 hours). */
  psl_loaded = psl_latest(NULL);
  if (psl_loaded == NULL) psl_loaded = (psl_ctx_t *)psl_builtin();
}

static void lower_copy(char *dst, const char *src, size_t len) {
  for (size_t i = 0; i < len; i++) {
    char c = src[i];
    dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
  }
  dst[len] = '\0';
}

/* libcurl refuses a cookie for a public suffix ("co.uk") or for a domain the
 * PSL says the host does not belong to. Applies to host-only cookies too. */
static bool psl_acceptable(const char *host, struct span domain) {
  char lhost[PSL_NAME_MAX], ldomain[PSL_NAME_MAX];
  size_t hlen = strlen(host);
  if (hlen >= sizeof(lhost) || domain.len >= sizeof(ldomain)) return false;
  lower_copy(ldomain, domain.p, domain.len);
  if (is_ipnum(ldomain)) return true; /* no PSL check for an IP */
  pthread_once(&psl_once, psl_load);
  if (psl_loaded == NULL) return !bad_domain(host);
  lower_copy(lhost, host, hlen);
  return psl_is_cookie_domain_acceptable(psl_loaded, lhost, ldomain) != 0;
}

/* The Domain attribute: one leading dot ignored; an IP host takes only its
 * own address, a name host a domain it is in. */
static int take_domain(struct cookie *c, struct span w, const char *host) {
  bool host_is_ip = is_ipnum(host);
  if (w.len > 0 && w.p[0] == '.') {
    w.p++;
    w.len--;
  }
  if (host_is_ip ? (w.len == strlen(host) && memcmp(w.p, host, w.len) == 0) : tailmatch(w, host)) {
    c->domain = w;
    c->have_domain = true;
    if (!host_is_ip) c->tailmatch = true;
    return 0;
  }
  return AC_EINVAL;
}

/* One "name=value" or "word" at p (blanks before it skipped). libcurl reads
 * it with sscanf("%4095[^;\t\r\n=] =%4095[^;\r\n]"); the same bounds here. */
static int parse_pair(struct cookie *c, const char *p, const char *host, bool secure_ctx) {
  struct span name = {p, strcspn(p, ";\t\r\n=")}, what = {NULL, 0}, w;
  const char *q;
  bool sep;
  size_t len;

  if (name.len == 0) return 0; /* nothing sscanf can read: skipped */
  if (name.len >= MAX_NAME - 1) return AC_EINVAL;
  sep = p[name.len] == '=';
  q = p + name.len;
  while (is_space(*q)) q++;
  if (*q == '=') {
    what.p = q + 1;
    what.len = strcspn(what.p, ";\r\n");
  }
  if (what.len >= MAX_NAME - 1 || name.len + what.len > MAX_NAME) return AC_EINVAL;
  while (is_blank(name.p[name.len - 1])) name.len--; /* the first byte is not blank */
  len = what.len;
  while (len > 0 && is_blank(what.p[len - 1])) len--;
  w.p = what.p;
  w.len = len;
  while (w.len > 0 && is_blank(*w.p)) {
    w.p++;
    w.len--;
  }
  if (w.len > 0 && memchr(w.p, '\t', w.len) != NULL) return AC_EINVAL;

  /* A reserved prefix on any name of the header counts, as in libcurl. */
  if (name.len > 3 && name.p[0] == '_' && name.p[1] == '_') {
    if (name.len >= 9 && strncasecmp(name.p, "__Secure-", 9) == 0)
      c->prefix_secure = true;
    else if (name.len >= 7 && strncasecmp(name.p, "__Host-", 7) == 0)
      c->prefix_host = true;
  }

  if (!c->have_name) {
    if (!sep) return AC_EINVAL; /* the first pair must be name=value */
    if (has_bad_octets(name) || has_bad_octets(w)) return AC_EINVAL;
    c->name = name;
    c->value = w;
    c->have_name = true;
    return 0;
  }
  if (len == 0) {
    /* "Secure" and "HttpOnly" (or "Secure=") are flags; another valueless
     * word is ignored, "word=" goes on as an attribute with an empty value. */
    if (span_is(name, "secure")) {
      /* libcurl refuses Secure from plain http, but for the local host. */
      if (!secure_ctx) return AC_EINVAL;
      c->secure = true;
      return 0;
    }
    if (span_is(name, "httponly")) {
      c->httponly = true;
      return 0;
    }
    if (!sep) return 0;
  }
  if (span_is(name, "path")) {
    c->path = w;
    c->have_path = true;
  } else if (span_is(name, "domain") && w.len > 0) {
    return take_domain(c, w, host);
  } else if (span_is(name, "max-age")) {
    c->maxage = w;
    c->have_maxage = true;
  } else if (span_is(name, "expires")) {
    c->expires = w;
    c->have_expires = true;
  }
  /* Version, Comment, SameSite and unknown attributes: ignored. */
  return 0;
}

static int parse(struct cookie *c, const char *line, const char *host) {
  bool secure_ctx = strcasecmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
                    strcmp(host, "::1") == 0;
  const char *p = line, *semi = strchr(line, ';');
  int bad = 0;

  memset(c, 0, sizeof(*c));
  while (is_blank(*p)) p++;
  for (;;) {
    int rc = parse_pair(c, p, host, secure_ctx);
    /* A Domain mismatch does not stop the parse in libcurl, the others do;
     * either way the cookie is dropped. */
    if (rc != 0) bad = rc;
    if (semi == NULL || *semi == '\0') break;
    p = semi + 1;
    while (is_blank(*p)) p++;
    semi = strchr(p, ';');
    if (semi == NULL && *p != '\0') semi = p + strlen(p);
  }
  if (bad != 0 || !c->have_name) return AC_EINVAL;
  return 0;
}

/* Max-Age as libcurl's curlx_strtoofft reads it: an optional leading quote,
 * blanks, digits; negative or unreadable means expired now (1), zero too,
 * overflow the far end of time. */
static int64_t maxage_expiry(struct span s, int64_t now) {
  char buf[MAX_NAME];
  const char *p;
  char *end;
  long long v;

  memcpy(buf, s.p, s.len);
  buf[s.len] = '\0';
  p = buf[0] == '"' ? buf + 1 : buf;
  while (is_blank(*p)) p++;
  if (*p == '-' || is_space(*p)) return 1;
  errno = 0;
  v = strtoll(p, &end, 10);
  if (errno == ERANGE) return INT64_MAX;
  if (end == p || v == 0) return 1;
  if (INT64_MAX - now < v) return INT64_MAX;
  return now + v;
}

/* Expires through libcurl's own date parser: 0 (the epoch) becomes 1 so it
 * still reads as expired, a date it cannot read makes a session cookie (0). */
static int64_t expires_expiry(struct span s) {
  char buf[MAX_NAME];
  time_t t;
  memcpy(buf, s.p, s.len);
  buf[s.len] = '\0';
  t = curl_getdate(buf, NULL);
  if (t == 0) return 1;
  if (t < 0) return 0;
  return (int64_t)t;
}

int ac__http_cookie_line(const char *set_cookie, const char *host, const char *path, int64_t now,
                         char *out, size_t cap) {
  struct cookie c;
  struct span dom, cpath = {"/", 1};
  int64_t expiry = 0;
  int n;

  if (set_cookie == NULL || host == NULL || path == NULL || out == NULL) return AC_EINVAL;
  if (host[0] == '\0' || strpbrk(host, "\t\r\n") != NULL) return AC_EINVAL;
  /* libcurl measures what follows "Set-Cookie:" with its CRLF; the value
   * arrives here without " " and "\r\n". */
  if (strlen(set_cookie) + 3 > AC__HTTP_COOKIE_MAX_HEADER) return AC_EINVAL;
  if (parse(&c, set_cookie, host) != 0) return AC_EINVAL;

  if (c.have_maxage)
    expiry = maxage_expiry(c.maxage, now);
  else if (c.have_expires)
    expiry = expires_expiry(c.expires);

  if (c.have_domain) {
    dom = c.domain;
  } else {
    dom.p = host;
    dom.len = strlen(host);
  }
  if (dom.len == 0) return AC_EINVAL; /* "Domain=." on a host ending in a dot */

  if (c.have_path) {
    cpath = c.path;
  } else {
    /* The request's directory, its last slash included ("/a/b" -> "/a/");
     * libcurl matches on the path without that slash. No slash at all: no
     * path, which matches every request as "/" does. */
    size_t plen = strcspn(path, "?");
    const char *slash = NULL;
    for (size_t i = 0; i < plen; i++)
      if (path[i] == '/') slash = path + i;
    if (slash != NULL) {
      cpath.p = path;
      cpath.len = (size_t)(slash - path) + 1;
    }
  }

  if (c.prefix_secure && !c.secure) return AC_EINVAL;
  /* __Host-: Secure, Path exactly "/", no Domain. */
  if (c.prefix_host && !(c.secure && span_is(cpath, "/") && !c.tailmatch)) return AC_EINVAL;
  if (!psl_acceptable(host, dom)) return AC_EINVAL;

  /* The line is split at tabs with empty fields collapsed, and a path field
   * reading TRUE or FALSE is taken for a missing one: those paths (all
   * sanitised to "/" by libcurl anyway) are written as "/". */
  if (cpath.len == 0 || span_is(cpath, "TRUE") || span_is(cpath, "FALSE")) {
    cpath.p = "/";
    cpath.len = 1;
  }
  n = snprintf(out, cap, "%s%s%.*s\t%s\t%.*s\t%s\t%lld\t%.*s\t%.*s", c.httponly ? "#HttpOnly_" : "",
               /* libcurl strips one leading dot when it reads the line */
               (c.tailmatch || dom.p[0] == '.') ? "." : "", (int)dom.len, dom.p,
               c.tailmatch ? "TRUE" : "FALSE", (int)cpath.len, cpath.p, c.secure ? "TRUE" : "FALSE",
               (long long)expiry, (int)c.name.len, c.name.p, (int)c.value.len, c.value.p);
  if (n < 0) return AC_EINVAL;
  if ((size_t)n >= cap) return AC_ETOOLARGE;
  return 0;
}

int ac__http_cookie_store(CURL *easy, const char *set_cookie, const char *host, const char *path) {
  size_t cap;
  char *line;
  int rc;
  CURLcode cc;

  if (easy == NULL || set_cookie == NULL || host == NULL || path == NULL) return AC_EINVAL;
  cap = strlen(set_cookie) + strlen(host) + strlen(path) + 64;
  line = ac__malloc(cap);
  if (line == NULL) return AC_ENOMEM;
  rc = ac__http_cookie_line(set_cookie, host, path, (int64_t)time(NULL), line, cap);
  if (rc == 0) {
    /* libcurl copies the line; a line it cannot use it ignores silently. */
    cc = curl_easy_setopt(easy, CURLOPT_COOKIELIST, line);
    if (cc == CURLE_OUT_OF_MEMORY)
      rc = AC_ENOMEM;
    else if (cc != CURLE_OK)
      rc = AC_EINVAL;
  }
  ac__free(line);
  return rc;
}
