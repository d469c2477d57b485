/*
 * Set-Cookie for responses that did not come through libcurl (the own
 * HTTP/1.1 path): the cookie is handed to libcurl's jar as the Netscape
 * cookie-file line libcurl itself would have stored, so that the requests
 * sent through libcurl afterwards carry it exactly as if libcurl had seen
 * the header. (CURLOPT_COOKIELIST with "Set-Cookie: ..." is no substitute:
 * libcurl 7.88 then stores the cookie without a domain, sent to every host.)
 *
 * The rules mirrored are libcurl 7.88's (lib/cookie.c, Curl_cookie_add, as
 * patched by Debian 12 and built with libpsl), for a plain http:// request.
 */
#ifndef AC_CLIENT_H1_COOKIE_H
#define AC_CLIENT_H1_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

/* libcurl drops a Set-Cookie header whose line (what follows "Set-Cookie:",
 * the CRLF included) is longer than this (MAX_COOKIE_LINE). */
#define AC__HTTP_COOKIE_MAX_HEADER 5000

/* The Netscape cookie-file line (domain, include-subdomains, path, secure,
 * expiry, name, value; tab-separated, "#HttpOnly_" before the domain of an
 * HttpOnly cookie) libcurl would have stored for this Set-Cookie header value
 * (without the header name, leading and trailing blanks allowed), received
 * for a plain http:// request to host (as in the URL, no port, no brackets
 * around an IPv6 address; the Host header's name when the request set one)
 * and path (the request's path, without the query). now: seconds since the
 * epoch, for Max-Age.
 * Returns 0 and a NUL-terminated line in out; AC_EINVAL for a cookie libcurl
 * would drop (no name=value first, a Domain that the host is not in or that
 * is a public suffix, Secure over plain http to a host other than localhost,
 * 127.0.0.1 or ::1, control bytes or a TAB, name or value over 4094 bytes,
 * a header over AC__HTTP_COOKIE_MAX_HEADER, an unmet __Secure-/__Host-
 * prefix...): the caller ignores it, as libcurl does; AC_ETOOLARGE when the
 * line does not fit in cap (strlen(set_cookie) + strlen(host) + strlen(path)
 * + 64 always suffices). An expired cookie (Max-Age <= 0, Expires in the
 * past) is a valid line: storing it removes a stored cookie of that name,
 * domain and path, as libcurl does. */
int ac__http_cookie_line(const char *set_cookie, const char *host, const char *path, int64_t now,
                         char *out, size_t cap);

/* Stores one Set-Cookie value into the jar of the share set on easy (which
 * must have CURLOPT_SHARE with CURL_LOCK_DATA_COOKIE, or a jar of its own)
 * through CURLOPT_COOKIELIST, with the line above and the current time.
 * Returns 0, AC_EINVAL (the cookie is one libcurl would drop: nothing stored)
 * or AC_ENOMEM. The caller counts the Set-Cookie headers of a response:
 * libcurl takes at most 50 from one response (MAX_SET_COOKIE_AMOUNT). */
int ac__http_cookie_store(CURL *easy, const char *set_cookie, const char *host, const char *path);

#endif /* AC_CLIENT_H1_COOKIE_H */
