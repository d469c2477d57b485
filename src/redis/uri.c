/*
 * redis://[[user]:password@]host[:port][/db], the form redis-cli and most
 * clients take. The password may hold any byte once percent-escaped; an
 * unescaped '@' or '/' in it is taken as written, because the userinfo ends
 * at the last '@' (a db number never holds one). Messages name the part at
 * fault and never quote the userinfo, so that a password cannot reach a log.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "redis/redis.h"

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t cap, const char *fmt, ...) {
  if (why != NULL && cap > 0) {
    va_list ap;
    int n = snprintf(why, cap, "redis URI: ");
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < cap) vsnprintf(why + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return AC_EINVAL;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* s[0..len) with %XX decoded into *out (NUL-terminated; an escaped NUL is
 * refused: AUTH's arguments are C strings here). */
static int decode(const char *s, size_t len, char **out, const char *what, char *why,
                  size_t cap) {
  char *d = ac__malloc(len + 1);
  size_t i, j = 0;
  if (d == NULL) return AC_ENOMEM;
  for (i = 0; i < len; i++) {
    if (s[i] == '%') {
      if (len - i < 3) {
        ac__free(d);
        return fail(why, cap, "bad percent-escape in the %s", what);
      }
      int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
      if (h < 0 || l < 0 || (h == 0 && l == 0)) {
        ac__free(d);
        return fail(why, cap, "bad percent-escape in the %s", what);
      }
      d[j++] = (char)(h * 16 + l);
      i += 2;
    } else {
      d[j++] = s[i];
    }
  }
  d[j] = '\0';
  *out = d;
  return 0;
}

/* The decimal number s[0..len): -1 if it is not one, -2 if it has more than
 * 9 digits (out of any range here). */
static long number(const char *s, size_t len) {
  long v = 0;
  size_t i;
  if (len == 0) return -1;
  for (i = 0; i < len; i++)
    if (!isdigit((unsigned char)s[i])) return -1;
  if (len > 9) return -2;
  for (i = 0; i < len; i++) v = v * 10 + (s[i] - '0');
  return v;
}

static int parse_userinfo(const char *s, size_t len, ac__redis_uri_t *out, char *why,
                          size_t cap) {
  const char *colon = memchr(s, ':', len);
  size_t ulen, plen;
  int rc;
  if (colon == NULL)
    return fail(why, cap, "a user without a password (write user:password@ or :password@)");
  ulen = (size_t)(colon - s);
  plen = len - ulen - 1;
  if (plen == 0) return fail(why, cap, "empty password (leave out the '@' part for none)");
  if (ulen > 0) {
    rc = decode(s, ulen, &out->user, "user", why, cap);
    if (rc != 0) return rc;
  }
  return decode(colon + 1, plen, &out->password, "password", why, cap);
}

static int parse_hostport(const char *s, size_t len, ac__redis_uri_t *out, char *why,
                          size_t cap) {
  const char *host = s, *port = NULL;
  size_t hlen, plen = 0;
  if (len > 0 && s[0] == '[') {
    const char *close = memchr(s, ']', len);
    if (close == NULL) return fail(why, cap, "'[' without ']' around an IPv6 host");
    host = s + 1;
    hlen = (size_t)(close - host);
    if (close + 1 < s + len) {
      if (close[1] != ':') return fail(why, cap, "unexpected text after the IPv6 host");
      port = close + 2;
      plen = (size_t)(s + len - port);
    }
  } else {
    const char *colon = memchr(s, ':', len);
    hlen = colon != NULL ? (size_t)(colon - s) : len;
    if (colon != NULL) {
      port = colon + 1;
      plen = (size_t)(s + len - port);
      if (memchr(port, ':', plen) != NULL)
        return fail(why, cap, "an IPv6 host must be in brackets ([::1])");
    }
  }
  if (hlen == 0) return fail(why, cap, "missing host");
  if (port != NULL) {
    long p = number(port, plen);
    if (p == -1) return fail(why, cap, "bad port \"%.*s\"", (int)(plen > 32 ? 32 : plen), port);
    if (p < 1 || p > 65535)
      return fail(why, cap, "port %.*s out of range", (int)(plen > 32 ? 32 : plen), port);
    out->port = (int)p;
  }
  out->host = ac__malloc(hlen + 1);
  if (out->host == NULL) return AC_ENOMEM;
  memcpy(out->host, host, hlen);
  out->host[hlen] = '\0';
  return 0;
}

int ac__redis_uri_parse(const char *text, ac__redis_uri_t *out, char *why, size_t cap) {
  static const char scheme[] = "redis://";
  const char *rest, *at, *slash, *hp;
  size_t hplen;
  int rc;

  if (why != NULL && cap > 0) why[0] = '\0';
  if (out == NULL) return AC_EINVAL;
  memset(out, 0, sizeof(*out));
  out->port = 6379;
  if (text == NULL) return fail(why, cap, "none given");
  if (strncasecmp(text, "rediss://", 9) == 0)
    return fail(why, cap, "TLS (rediss://) is not supported");
  if (strncasecmp(text, scheme, sizeof(scheme) - 1) != 0)
    return fail(why, cap, "must start with redis://");
  rest = text + sizeof(scheme) - 1;
  at = strrchr(rest, '@');
  if (at != NULL) {
    rc = parse_userinfo(rest, (size_t)(at - rest), out, why, cap);
    if (rc != 0) goto error;
    rest = at + 1;
  }
  slash = strchr(rest, '/');
  hp = rest;
  hplen = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
  if (memchr(hp, '?', hplen) != NULL || (slash != NULL && strchr(slash, '?') != NULL)) {
    rc = fail(why, cap, "options (?...) are not supported");
    goto error;
  }
  rc = parse_hostport(hp, hplen, out, why, cap);
  if (rc != 0) goto error;
  if (slash != NULL && slash[1] != '\0') {
    long db = number(slash + 1, strlen(slash + 1));
    if (db == -1) {
      rc = fail(why, cap, "bad db \"%.32s\" (a number is expected)", slash + 1);
      goto error;
    }
    if (db < 0) {
      rc = fail(why, cap, "db %.32s out of range", slash + 1);
      goto error;
    }
    out->db = (int)db;
  }
  return 0;

error:
  ac__redis_uri_free(out);
  return rc;
}

void ac__redis_uri_free(ac__redis_uri_t *u) {
  if (u == NULL) return;
  ac__free(u->host);
  ac__free(u->user);
  if (u->password != NULL) {
    /* Not left in freed memory for a core dump to show. */
    volatile char *p = u->password;
    while (*p != '\0') *p++ = '\0';
    ac__free(u->password);
  }
  memset(u, 0, sizeof(*u));
}

void ac__redis_uri_shown(const char *text, char *out, size_t cap) {
  const char *auth, *at, *colon;
  if (out == NULL || cap == 0) return;
  if (text == NULL) {
    snprintf(out, cap, "%s", "");
    return;
  }
  auth = strstr(text, "://");
  auth = auth != NULL ? auth + 3 : text;
  at = strrchr(auth, '@');
  colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
  if (colon == NULL) {
    snprintf(out, cap, "%s", text);
    return;
  }
  snprintf(out, cap, "%.*s***%s", (int)(colon + 1 - text), text, at);
}
