/*
 * acrawl's own HTTP/1.1 client path ("native"): plain http:// requests
 * without a proxy, over libuv TCP handles, parsed with http-parser, decoded
 * with zlib and brotli. libcurl costs about 3-4x wrk's CPU per request on
 * loopback (docs/BENCHMARKS.md): a request there is a URL parse, printf-built
 * headers, sscanf'd status lines and two liveness poll() calls. A crawler of
 * one plain-HTTP site spends most of its CPU there, so that case takes this
 * path; everything else (TLS, HTTP/2, proxies, a cookie jar with cookies in
 * it, multipart bodies, URLs with user info or anything unusual) stays with
 * libcurl. Both paths fill the same response object and report failures with
 * the same AC_E* codes (in acrawl's own words here, err.curl_code 0), so a
 * caller cannot tell them apart but by speed and messages. The transport's
 * entry points are ac__http_h1's (transport.h).
 *
 *   h1_request.c  which requests are eligible; the URL split; the request head;
 *   call.c, dns.c, pool.c, parse.c, redirect.c, handover.c: the request's
 *                 course (see internal.h).
 */
#ifndef AC_CLIENT_H1_H
#define AC_CLIENT_H1_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "acrawl.h"
#include "common/dynbuf.h"

struct ac_http_call;

/* An http:// URL split for the native path. Pointers into `buf`. */
struct ac__h1_url {
  char *buf;              /* owned: the effective URL, then the host name NUL-terminated */
  size_t url_len;         /* the effective URL: no fragment, "/" for an empty path */
  const char *host;       /* without brackets for an IPv6 literal */
  size_t host_len;
  const char *authority;  /* host[:port] as written: the Host header */
  size_t authority_len;
  const char *target;     /* path and query: the request-target */
  size_t target_len;
  unsigned port;
};

/* Split url when the native path can take it: 0 and u filled (free with
 * ac__h1_url_free), 1 when libcurl should (https, user info, odd bytes, dot
 * segments, a malformed URL: libcurl reports its own error), AC_ENOMEM. */
int ac__h1_url_parse(const char *url, struct ac__h1_url *u);
void ac__h1_url_free(struct ac__h1_url *u);

/* A request head and body, serialized. Segments are kept apart so that a
 * native redirect can rebuild the head for another URL (dropping the body
 * and its headers when the method becomes GET, and the header lines libcurl
 * keeps from other hosts). A hand-over to libcurl starts again from the
 * caller's options instead (handover.c). */
struct ac__h1_head {
  struct ac__dynbuf buf;  /* capped at AC__H1_HEAD_MAX; offsets below are into it */
  size_t line_end;        /* end of the request line */
  size_t host_end;        /* end of the Host line (== line_end without one) */
  size_t fields_end;      /* end of the other header lines */
  size_t content_end;     /* end of Content-Type / Content-Length */
  size_t body_len;        /* after the blank line */
  char method[24];
  unsigned head : 1;      /* HEAD: the response has no body */
  unsigned has_body : 1;
  unsigned custom_host : 1; /* the caller set or removed Host */
  /* From the first redirect on, the first URL's header lines (host_end to
   * fields_end) and its host and port: a redirect back to it sends again
   * the lines a redirect elsewhere dropped. NULL before. */
  char *first_lines;      /* the lines, then the host NUL-terminated */
  size_t first_lines_len;
  const char *first_host; /* in first_lines */
  unsigned first_port;
};

/* The most bytes a head holds, the caller's body included: the body is the
 * caller's own memory already, so the bound is what one libuv write can
 * send (uv_buf_t's length is an unsigned int), not a memory cap. Past it:
 * AC_ETOOLARGE, rather than a request cut short on the wire. */
#define AC__H1_HEAD_MAX ((size_t)UINT_MAX)

/* An empty head (allocates nothing); ac__h1_head_free leaves it so too. */
void ac__h1_head_init(struct ac__h1_head *h);
/* Serialize opts (method, headers merged with the session's, body) for u.
 * 0, 1 (not for the native path: a header with CR/LF, an odd method,
 * multipart), AC_EINVAL (a bad option: same as libcurl's path), AC_ENOMEM,
 * AC_ETOOLARGE. */
int ac__h1_head_build(struct ac__h1_head *h, struct ac_http_call *call,
                      const ac_request_opts_t *o, const struct ac__h1_url *u);
/* The head for a redirect from `from` (the URL h was last built for) to u:
 * as GET without the body when to_get; the header lines as libcurl sends
 * them on a redirect (CURLOPT_UNRESTRICTED_AUTH off): Authorization and
 * Cookie only while the target has the first URL's scheme, host and port, a
 * Host of the caller's only while it has the first URL's host (else the
 * target's own Host line). 0 or AC_ENOMEM. */
int ac__h1_head_retarget(struct ac__h1_head *h, const struct ac__h1_url *from,
                         const struct ac__h1_url *u, int to_get);
void ac__h1_head_free(struct ac__h1_head *h);

/* Store a Set-Cookie value of a native response into the session's jar
 * (libcurl's, in the share). 0 (stored or ignored as libcurl would), AC_ENOMEM. */
int ac__h1_store_cookie(ac_session_t *s, const char *value, size_t len, const char *host,
                        const char *path);

#endif /* AC_CLIENT_H1_H */
