/*
 * Set-Cookie into libcurl's jar for the own HTTP/1.1 path: the jar line for
 * each rule, and a round trip where the same Set-Cookie headers reach one jar
 * through libcurl itself (a real transfer from a raw server on 127.0.0.1)
 * and another through ac__http_cookie_store; both jars must then list the
 * same cookies.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/h1/cookie.h"
#include "common/alloc.h"
#include "client/internal.h"
#include "http_testlib.h"
#include "runner.h"

#define NOW 1700000000

static char line[16384];

static int mk(const char *sc, const char *host, const char *path) {
  return ac__http_cookie_line(sc, host, path, NOW, line, sizeof(line));
}

TEST_IMPL(http_cookie_line_basics) {
  /* Host-only, default path: the request's directory with its slash. */
  ASSERT_OK(mk("a=1", "www.example.com", "/dir/page"));
  ASSERT_STR_EQ(line, "www.example.com\tFALSE\t/dir/\tFALSE\t0\ta\t1");
  ASSERT_OK(mk("  a = 1 ;  ", "www.example.com", "/page"));
  ASSERT_STR_EQ(line, "www.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
  ASSERT_OK(mk("a=1", "h.example.com", "noslash"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
  ASSERT_OK(mk("a=1", "h.example.com", "/d/e?x=/y/z"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/d/\tFALSE\t0\ta\t1");
  /* Domain: one dot dropped, case kept, include-subdomains. */
  ASSERT_OK(mk("a=1; Domain=.Example.com", "www.example.com", "/"));
  ASSERT_STR_EQ(line, ".Example.com\tTRUE\t/\tFALSE\t0\ta\t1");
  ASSERT_OK(mk("a=1; domain=www.example.com", "www.example.com", "/"));
  ASSERT_STR_EQ(line, ".www.example.com\tTRUE\t/\tFALSE\t0\ta\t1");
  /* An empty Domain is ignored. */
  ASSERT_OK(mk("a=1; Domain=", "www.example.com", "/"));
  ASSERT_STR_EQ(line, "www.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
  /* Path kept as given when it starts with '/', else it reads as "/". */
  ASSERT_OK(mk("a=1; PATH=/p/q/", "h.example.com", "/x/y"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/p/q/\tFALSE\t0\ta\t1");
  ASSERT_OK(mk("a=1; Path=rel", "h.example.com", "/x/y"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\trel\tFALSE\t0\ta\t1");
  ASSERT_OK(mk("a=1; Path=", "h.example.com", "/x/y"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
  ASSERT_OK(mk("a=1; Path=TRUE", "h.example.com", "/x/y"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
  /* Quotes kept in values; an empty value is a cookie. */
  ASSERT_OK(mk("q=\"a b\"; Path=\"/qp\"", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t\"/qp\"\tFALSE\t0\tq\t\"a b\"");
  ASSERT_OK(mk("e=", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t0\te\t");
  /* A pair without a name is skipped: the next pair is the cookie. */
  ASSERT_OK(mk("=x; b=2", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t0\tb\t2");
  /* HttpOnly, unknown attributes, "Secure=1" (a value: not the flag). */
  ASSERT_OK(mk("a=1; HTTPONLY; SameSite=Lax; Version=1; Secure=1", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "#HttpOnly_h.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
}

TEST_IMPL(http_cookie_line_expiry) {
  ASSERT_OK(mk("a=1; Max-Age=100", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t1700000100\ta\t1");
  ASSERT_OK(mk("a=1; Max-Age=\"100\"", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t1700000100\ta\t1");
  /* Max-Age wins over Expires, whichever comes first. */
  ASSERT_OK(mk("a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT; max-age=5", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t1700000005\ta\t1");
  /* Zero, negative, unreadable: expired now (1). */
  ASSERT_OK(mk("a=1; Max-Age=0", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t1\ta\t1");
  ASSERT_OK(mk("a=1; Max-Age=-5", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t1\ta\t1");
  ASSERT_OK(mk("a=1; Max-Age=soon", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t1\ta\t1");
  ASSERT_OK(mk("a=1; Max-Age=99999999999999999999999", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t9223372036854775807\ta\t1");
  ASSERT_OK(mk("a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t2139722880\ta\t1");
  ASSERT_OK(mk("a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t1\ta\t1");
  /* An unreadable date: a session cookie. */
  ASSERT_OK(mk("a=1; Expires=whenever", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
}

TEST_IMPL(http_cookie_line_rejects) {
  ASSERT_ERR(mk("noequals", "h.example.com", "/"), AC_EINVAL);
  ASSERT_ERR(mk("", "h.example.com", "/"), AC_EINVAL);
  ASSERT_ERR(mk("=only", "h.example.com", "/"), AC_EINVAL);
  ASSERT_ERR(mk("a\t=1", "h.example.com", "/"), AC_EINVAL);
  ASSERT_ERR(mk("a=x\ty", "h.example.com", "/"), AC_EINVAL);
  ASSERT_ERR(mk("a=x\001y", "h.example.com", "/"), AC_EINVAL);
  ASSERT_ERR(mk("a=1; Path=/a\tb", "h.example.com", "/"), AC_EINVAL);
  /* Domain the host is not in, not on a label boundary, a public suffix. */
  ASSERT_ERR(mk("a=1; Domain=other.com", "h.example.com", "/"), AC_EINVAL);
  ASSERT_ERR(mk("a=1; Domain=ample.com", "h.example.com", "/"), AC_EINVAL);
  ASSERT_ERR(mk("a=1; Domain=com", "h.example.com", "/"), AC_EINVAL);
  ASSERT_ERR(mk("a=1; Domain=co.uk", "x.b.co.uk", "/"), AC_EINVAL);
  ASSERT_OK(mk("a=1; Domain=b.co.uk", "x.b.co.uk", "/"));
  ASSERT_ERR(mk("a=1; Domain=.", "h.example.com", "/"), AC_EINVAL);
  /* An IP host: only its own address, and no subdomains. */
  ASSERT_ERR(mk("a=1; Domain=0.0.1", "127.0.0.1", "/"), AC_EINVAL);
  ASSERT_OK(mk("a=1; Domain=127.0.0.1", "127.0.0.1", "/"));
  ASSERT_STR_EQ(line, "127.0.0.1\tFALSE\t/\tFALSE\t0\ta\t1");
  /* Secure over plain http: only for the local host. */
  ASSERT_ERR(mk("a=1; Secure", "h.example.com", "/"), AC_EINVAL);
  ASSERT_OK(mk("a=1; secure", "localhost", "/"));
  ASSERT_STR_EQ(line, "localhost\tFALSE\t/\tTRUE\t0\ta\t1");
  ASSERT_OK(mk("a=1; Secure=", "::1", "/"));
  ASSERT_STR_EQ(line, "::1\tFALSE\t/\tTRUE\t0\ta\t1");
  /* Prefixes. */
  ASSERT_ERR(mk("__Secure-a=1", "localhost", "/"), AC_EINVAL);
  ASSERT_OK(mk("__Secure-a=1; Secure", "localhost", "/x/y"));
  ASSERT_OK(mk("__Host-a=1; Secure; Path=/", "localhost", "/x/y"));
  ASSERT_ERR(mk("__Host-a=1; Secure", "localhost", "/x/y"), AC_EINVAL);
  ASSERT_ERR(mk("__host-a=1; Secure; Path=/; Domain=localhost", "localhost", "/"), AC_EINVAL);
  ASSERT_ERR(mk("a=1; __Secure-x=1", "localhost", "/"), AC_EINVAL);
  /* Bad arguments. */
  ASSERT_ERR(ac__http_cookie_line("a=1", "", "/", NOW, line, sizeof(line)), AC_EINVAL);
  ASSERT_ERR(ac__http_cookie_line(NULL, "h", "/", NOW, line, sizeof(line)), AC_EINVAL);
}

TEST_IMPL(http_cookie_line_sizes) {
  static char sc[6000];
  char small[16];
  /* A name of 4094 bytes is the most libcurl keeps; name + value 4096. */
  memset(sc, 'n', 4094);
  strcpy(sc + 4094, "=v");
  ASSERT_OK(mk(sc, "h.example.com", "/"));
  memset(sc, 'n', 4095);
  strcpy(sc + 4095, "=v");
  ASSERT_ERR(mk(sc, "h.example.com", "/"), AC_EINVAL);
  memset(sc, 'n', 2000);
  sc[2000] = '=';
  memset(sc + 2001, 'v', 2096);
  sc[4097] = '\0';
  ASSERT_OK(mk(sc, "h.example.com", "/"));
  sc[4097] = 'v';
  sc[4098] = '\0';
  ASSERT_ERR(mk(sc, "h.example.com", "/"), AC_EINVAL);
  /* The whole header: 4997 bytes of value (5000 with " " and CRLF). */
  memset(sc, 'x', sizeof(sc));
  memcpy(sc, "a=1; x=", 7);
  memcpy(sc + 3000, "; y=", 4);
  sc[4997] = '\0';
  ASSERT_OK(mk(sc, "h.example.com", "/"));
  sc[4997] = 'x';
  sc[4998] = '\0';
  ASSERT_ERR(mk(sc, "h.example.com", "/"), AC_EINVAL);
  /* The caller's buffer. */
  ASSERT_ERR(ac__http_cookie_line("a=1", "h.example.com", "/", NOW, small, sizeof(small)), AC_ETOOLARGE);
  ASSERT_OK(ac__http_cookie_line("a=1", "h.example.com", "/", NOW, line, 34));
  ASSERT_ERR(ac__http_cookie_line("a=1", "h.example.com", "/", NOW, line, 33), AC_ETOOLARGE);
}

/* RFC 6265 section 5's rules, where it decides what a user agent stores: the
 * line must say the same (domain, host-only flag, path, expiry, flags). Where
 * libcurl stores otherwise (see docs/internals/http-native.md, "Cookies"),
 * this parser follows libcurl, whose jar sends the cookies of both paths. */
TEST_IMPL(http_cookie_line_rfc6265) {
  char other[sizeof(line)];
  /* 5.2: the name and value are trimmed of blanks; the first pair is the cookie. */
  ASSERT_OK(mk(" SID = 31d4d96e407aad42 ; Path=/", "www.example.com", "/"));
  ASSERT_STR_EQ(line, "www.example.com\tFALSE\t/\tFALSE\t0\tSID\t31d4d96e407aad42");
  /* 5.2: a set-cookie-string without "=" is ignored. */
  ASSERT_ERR(mk("SID31d4d96e407aad42", "www.example.com", "/"), AC_EINVAL);
  /* 5.3 step 6: no Domain attribute: host-only (sent to that host alone). */
  ASSERT_OK(mk("a=1; Path=/", "www.example.com", "/"));
  ASSERT_STR_EQ(line, "www.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
  /* 5.2.3: a leading dot of Domain is ignored: both name the same domain,
   * and the cookie goes to its subdomains too (5.3 step 6). */
  ASSERT_OK(mk("a=1; Path=/; Domain=example.com", "www.example.com", "/"));
  strcpy(other, line);
  ASSERT_OK(mk("a=1; Path=/; Domain=.example.com", "www.example.com", "/"));
  ASSERT_STR_EQ(line, other);
  ASSERT_STR_EQ(line, ".example.com\tTRUE\t/\tFALSE\t0\ta\t1");
  /* 5.3 step 6 and 5.1.3: a Domain that does not domain-match the host
   * (another site, a suffix not on a label boundary, a subdomain of the
   * host) is refused. */
  ASSERT_ERR(mk("a=1; Domain=example.org", "www.example.com", "/"), AC_EINVAL);
  ASSERT_ERR(mk("a=1; Domain=le.com", "www.example.com", "/"), AC_EINVAL);
  ASSERT_ERR(mk("a=1; Domain=sub.www.example.com", "www.example.com", "/"), AC_EINVAL);
  /* 5.3 step 5: a public suffix as Domain is refused. */
  ASSERT_ERR(mk("a=1; Domain=com", "www.example.com", "/"), AC_EINVAL);
  /* 5.1.3: an IP address domain-matches only itself. */
  ASSERT_ERR(mk("a=1; Domain=0.0.1", "10.0.0.1", "/"), AC_EINVAL);
  /* 5.2.4: a Path starting with "/" is kept as it is. */
  ASSERT_OK(mk("a=1; Path=/docs/web", "www.example.com", "/"));
  ASSERT_STR_EQ(line, "www.example.com\tFALSE\t/docs/web\tFALSE\t0\ta\t1");
  /* 5.1.4: without Path, the default path is the request's directory (the
   * root for a path with one "/", or none). */
  ASSERT_OK(mk("a=1", "www.example.com", "/index.html"));
  ASSERT_STR_EQ(line, "www.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
  ASSERT_OK(mk("a=1", "www.example.com", ""));
  ASSERT_STR_EQ(line, "www.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
  /* 5.2.2 and 5.3 step 3: Max-Age is delta-seconds from now and wins over
   * Expires; zero or negative means expired. */
  ASSERT_OK(mk("a=1; Expires=Wed, 09 Jun 2021 10:18:14 GMT; Max-Age=60", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t1700000060\ta\t1");
  ASSERT_OK(mk("a=1; Max-Age=0", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t1\ta\t1");
  /* 5.2.1 and 5.1.1: Expires in the cookie-date format, attribute names in
   * any case; a date before now (NOW) is an expired cookie, which the jar
   * drops (and with it a stored one of that name, domain and path). */
  ASSERT_OK(mk("a=1; EXPIRES=Wed, 09 Jun 2021 10:18:14 GMT", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t1623233894\ta\t1");
  ASSERT_OK(mk("a=1; expires=Fri, 01 Jan 2100 00:00:00 GMT", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t4102444800\ta\t1");
  /* 5.3 step 3: neither: a session cookie (no expiry). */
  ASSERT_OK(mk("a=1", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
  /* 5.2.6: HttpOnly, an attribute without a value. */
  ASSERT_OK(mk("a=1; HttpOnly", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "#HttpOnly_h.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
  /* 5.2: unknown attributes are ignored. */
  ASSERT_OK(mk("a=1; Priority=High; Partitioned", "h.example.com", "/"));
  ASSERT_STR_EQ(line, "h.example.com\tFALSE\t/\tFALSE\t0\ta\t1");
}

/* ---- The round trip against libcurl's own parse. ---- */

struct rt_cookie {
  const char *value;
  int stored; /* 1: ac__http_cookie_store takes it; 0: AC_EINVAL */
};
struct rt_step {
  const char *host;
  const char *url_path;    /* what libcurl requests */
  const char *cookie_path; /* what the own path passes (no query) */
  struct rt_cookie cookies[20];
};

static char long_ok[5000], long_bad[5000];

static const struct rt_step steps[] = {
    {"a.test.local",
     "/s1/dir/page?q=/x/y",
     "/s1/dir/page",
     {{"host1=v1", 1},
      {"dom=v2; Domain=.test.local; Path=/", 1},
      {"pth=v3; Path=/p/; HttpOnly", 1},
      {"age=v4; Max-Age=3600; Expires=Wed, 21 Oct 2037 07:28:00 GMT", 1},
      {"exp=v5; Expires=Wed, 21 Oct 2037 07:28:00 GMT", 1},
      {"sec=v6; Secure", 0},
      {"bad=v7; Domain=other.local", 0},
      {"psl=v; Domain=local", 0},
      {"del=v8; Max-Age=600; Domain=test.local; Path=/", 1},
      {"q=\"quoted value\"; Path=\"/qp\"", 1},
      {"=v9; emp=v10", 1},
      {"ma=1; Max-Age=abc", 1},
      {"junkdate=1; Expires=not a date", 1},
      {"UP=1; DOMAIN=TEST.local; PATH=/Up; httponly", 1},
      {"rel=1; Path=relative", 1},
      {"tab=a\tb", 0},
      {"noval", 0},
      {NULL, 0}}},
    {"b.a.test.local",
     "/s2/x",
     "/s2/x",
     {{"dom=v2b; Domain=test.local; Path=/", 1},
      {"del=gone; Max-Age=0; Domain=test.local; Path=/", 1},
      {"bhost=1", 1},
      {"sub=1; Domain=a.test.local", 1},
      {"notparent=1; Domain=c.a.test.local", 0},
      {NULL, 0}}},
    {"127.0.0.1",
     "/s3/",
     "/s3/",
     {{"lsec=1; Secure", 1},
      {"__Host-h=1; Secure; Path=/", 1},
      {"__Host-bad=1; Secure", 0},
      {"__Secure-s=1", 0},
      {"__Secure-ok=1; Secure; HttpOnly", 1},
      {"ipdom=1; Domain=127.0.0.1", 1},
      {"ipbad=1; Domain=0.0.1", 0},
      {NULL, 0}}},
    {"x.b.co.uk",
     "/s4",
     "/s4",
     {{"uk=1; Domain=co.uk", 0}, {"uk2=1; Domain=.b.co.uk", 1}, {"ukhost=1; Max-Age=60", 1}, {NULL, 0}}},
    {"a.test.local",
     "/s1/dir/other",
     "/s1/dir/other",
     {{"exp=gone; Expires=Thu, 01 Jan 1998 00:00:00 GMT", 1},
      {"after=1", 1},
      {long_ok, 1},
      {long_bad, 0},
      {NULL, 0}}},
};
#define NSTEPS ((int)(sizeof(steps) / sizeof(steps[0])))

struct rt_server {
  int fd, port;
  pthread_t thread;
  _Atomic int stop;
  _Atomic int step;
  _Atomic int served;
};

static void serve_one(struct rt_server *s, int c) {
  char req[8192], resp[32768];
  size_t got = 0;
  int n;
  const struct rt_step *st = &steps[s->step];
  while (got < sizeof(req) - 1) {
    ssize_t r = recv(c, req + got, sizeof(req) - 1 - got, 0);
    if (r <= 0) return;
    got += (size_t)r;
    req[got] = '\0';
    if (strstr(req, "\r\n\r\n") != NULL) break;
  }
  n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n");
  for (int i = 0; st->cookies[i].value != NULL; i++)
    n += snprintf(resp + n, sizeof(resp) - (size_t)n, "Set-Cookie: %s\r\n", st->cookies[i].value);
  n += snprintf(resp + n, sizeof(resp) - (size_t)n, "\r\n");
  ht_send_all(c, resp, (size_t)n);
  s->served++;
}

static void *rt_server_main(void *arg) {
  struct rt_server *s = arg;
  while (!s->stop) {
    struct pollfd p = {s->fd, POLLIN, 0};
    int c;
    if (poll(&p, 1, 50) <= 0) continue;
    c = accept(s->fd, NULL, NULL);
    if (c < 0) continue;
    serve_one(s, c);
    close(c);
  }
  return NULL;
}

static void rt_server_start(struct rt_server *s) {
  memset(s, 0, sizeof(*s));
  s->fd = ht_listen_loopback(8, &s->port);
  ASSERT_EQ(pthread_create(&s->thread, NULL, rt_server_main, s), 0);
}

static void rt_server_stop(struct rt_server *s) {
  s->stop = 1;
  pthread_join(s->thread, NULL);
  close(s->fd);
}

static CURLSH *new_share(void) {
  CURLSH *sh = curl_share_init();
  ASSERT_NOT_NULL(sh);
  ASSERT_EQ(curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE), CURLSHE_OK);
  return sh;
}

static CURL *new_easy(CURLSH *sh) {
  CURL *e = curl_easy_init();
  ASSERT_NOT_NULL(e);
  ASSERT_EQ(curl_easy_setopt(e, CURLOPT_SHARE, sh), CURLE_OK);
  ASSERT_EQ(curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""), CURLE_OK);
  return e;
}

/* Splits a jar line at its tabs into 7 fields (in place). */
static int split(char *l, char *f[7]) {
  int n = 0;
  f[n++] = l;
  for (char *p = l; *p != '\0' && n < 7; p++)
    if (*p == '\t') {
      *p = '\0';
      f[n++] = p + 1;
    }
  return n;
}

/* Same cookie; the expiry of a Max-Age cookie may be a second later in one. */
static int same_cookie(const char *x, const char *y) {
  char a[8192], b[8192], *fa[7], *fb[7];
  long long ea, eb;
  snprintf(a, sizeof(a), "%s", x);
  snprintf(b, sizeof(b), "%s", y);
  if (split(a, fa) != 7 || split(b, fb) != 7) return strcmp(x, y) == 0;
  for (int i = 0; i < 7; i++)
    if (i != 4 && strcmp(fa[i], fb[i]) != 0) return 0;
  ea = atoll(fa[4]);
  eb = atoll(fb[4]);
  return ea == eb || (ea > 1 && eb > 1 && llabs(ea - eb) <= 1);
}

static int jar_count(struct curl_slist *l) {
  int n = 0;
  for (; l != NULL; l = l->next) n++;
  return n;
}

static int jar_has(struct curl_slist *l, const char *name) {
  char a[8192], *f[7];
  for (; l != NULL; l = l->next) {
    snprintf(a, sizeof(a), "%s", l->data);
    if (split(a, f) == 7 && strcmp(f[5], name) == 0) return 1;
  }
  return 0;
}

static void compare_jars(CURL *theirs, CURL *ours, int step) {
  struct curl_slist *lt = NULL, *lo = NULL;
  ASSERT_EQ(curl_easy_getinfo(theirs, CURLINFO_COOKIELIST, &lt), CURLE_OK);
  ASSERT_EQ(curl_easy_getinfo(ours, CURLINFO_COOKIELIST, &lo), CURLE_OK);
  for (struct curl_slist *t = lt; t != NULL; t = t->next) {
    int found = 0;
    for (struct curl_slist *o = lo; o != NULL && !found; o = o->next) found = same_cookie(t->data, o->data);
    if (!found) {
      fprintf(stderr, "step %d: libcurl's jar has, ours lacks: %s\n", step, t->data);
      for (struct curl_slist *o = lo; o != NULL; o = o->next) fprintf(stderr, "  ours: %s\n", o->data);
    }
    ASSERT(found);
  }
  ASSERT_EQ(jar_count(lt), jar_count(lo));
  curl_slist_free_all(lt);
  curl_slist_free_all(lo);
}

TEST_IMPL(http_cookie_store_matches_libcurl) {
  struct rt_server srv;
  CURLSH *sh_theirs, *sh_ours;
  CURL *reader, *ours;
  struct curl_slist *resolve = NULL, *jar = NULL;
  const char *hosts[] = {"a.test.local", "b.a.test.local", "x.b.co.uk"};
  char buf[256];

  /* 4997 bytes of header value, the most libcurl takes (with " " and CRLF
   * 5000), and one more. */
  memset(long_ok, 'x', sizeof(long_ok));
  memcpy(long_ok, "long=1; x=", 10);
  memcpy(long_ok + 3000, "; y=", 4);
  memcpy(long_bad, long_ok, sizeof(long_ok));
  memcpy(long_bad, "lbad=1; x=", 10);
  long_ok[4997] = '\0';
  long_bad[4998] = '\0';

  ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
  rt_server_start(&srv);
  for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
    snprintf(buf, sizeof(buf), "%s:%d:127.0.0.1", hosts[i], srv.port);
    resolve = curl_slist_append(resolve, buf);
    ASSERT_NOT_NULL(resolve);
  }
  sh_theirs = new_share();
  sh_ours = new_share();
  reader = new_easy(sh_theirs);
  ours = new_easy(sh_ours);

  for (int s = 0; s < NSTEPS; s++) {
    const struct rt_step *st = &steps[s];
    CURL *get = new_easy(sh_theirs);
    char url[512];
    long code = 0;
    snprintf(url, sizeof(url), "http://%s:%d%s", st->host, srv.port, st->url_path);
    srv.step = s;
    ASSERT_EQ(curl_easy_setopt(get, CURLOPT_URL, url), CURLE_OK);
    ASSERT_EQ(curl_easy_setopt(get, CURLOPT_RESOLVE, resolve), CURLE_OK);
    ASSERT_EQ(curl_easy_setopt(get, CURLOPT_NOPROXY, "*"), CURLE_OK);
    ASSERT_EQ(curl_easy_setopt(get, CURLOPT_TIMEOUT_MS, 10000L), CURLE_OK);
    ASSERT_EQ(curl_easy_perform(get), CURLE_OK);
    ASSERT_EQ(curl_easy_getinfo(get, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
    ASSERT_EQ(code, 200);
    curl_easy_cleanup(get);

    for (int i = 0; st->cookies[i].value != NULL; i++) {
      int rc = ac__http_cookie_store(ours, st->cookies[i].value, st->host, st->cookie_path);
      if (rc != (st->cookies[i].stored ? 0 : AC_EINVAL))
        fprintf(stderr, "step %d: %.60s -> %s\n", s, st->cookies[i].value, ac_err_name(rc));
      ASSERT_EQ(rc, st->cookies[i].stored ? 0 : AC_EINVAL);
    }
    compare_jars(reader, ours, s);
  }
  ASSERT_EQ(srv.served, NSTEPS);

  /* The jar is not trivially empty, and the deletions took effect. */
  ASSERT_EQ(curl_easy_getinfo(ours, CURLINFO_COOKIELIST, &jar), CURLE_OK);
  ASSERT_GE(jar_count(jar), 15);
  ASSERT(jar_has(jar, "host1"));
  ASSERT(jar_has(jar, "lsec"));
  ASSERT(jar_has(jar, "long"));
  ASSERT(!jar_has(jar, "del"));
  ASSERT(!jar_has(jar, "exp"));
  ASSERT(!jar_has(jar, "bad"));
  ASSERT(!jar_has(jar, "uk"));
  curl_slist_free_all(jar);

  curl_easy_cleanup(reader);
  curl_easy_cleanup(ours);
  curl_share_cleanup(sh_theirs);
  curl_share_cleanup(sh_ours);
  curl_slist_free_all(resolve);
  rt_server_stop(&srv);
  curl_global_cleanup();
}

TEST_IMPL(http_cookie_store_replaces_and_expires) {
  /* A Max-Age=0 cookie replaces the stored one of the same name, domain and
   * path, and libcurl drops it at the jar's next change. */
  CURLSH *sh = new_share();
  CURL *e = new_easy(sh);
  struct curl_slist *jar = NULL;
  ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
  ASSERT_OK(ac__http_cookie_store(e, "a=1", "a.test.local", "/d/p"));
  ASSERT_OK(ac__http_cookie_store(e, "a=1; Max-Age=60; Path=/", "b.test.local", "/"));
  ASSERT_OK(ac__http_cookie_store(e, "a=1; Max-Age=0; Path=/", "b.test.local", "/"));
  ASSERT_ERR(ac__http_cookie_store(e, "a=1; Domain=x.local", "a.test.local", "/"), AC_EINVAL);
  ASSERT_ERR(ac__http_cookie_store(NULL, "a=1", "a.test.local", "/"), AC_EINVAL);
  ac__alloc_fail_after(1);
  ASSERT_ERR(ac__http_cookie_store(e, "oom=1", "a.test.local", "/"), AC_ENOMEM);
  ac__alloc_fail_after(0);
  ASSERT_EQ(curl_easy_getinfo(e, CURLINFO_COOKIELIST, &jar), CURLE_OK);
  ASSERT_NOT_NULL(jar);
  ASSERT_STR_EQ(jar->data, "a.test.local\tFALSE\t/d/\tFALSE\t0\ta\t1");
  /* b's cookie: stored expired, gone at the next change of the jar. */
  ASSERT_EQ(jar_count(jar), 2);
  curl_slist_free_all(jar);
  ASSERT_OK(ac__http_cookie_store(e, "c=3", "c.test.local", "/"));
  ASSERT_EQ(curl_easy_getinfo(e, CURLINFO_COOKIELIST, &jar), CURLE_OK);
  ASSERT_EQ(jar_count(jar), 2);
  for (struct curl_slist *l = jar; l != NULL; l = l->next) ASSERT(strstr(l->data, "b.test.local") == NULL);
  ASSERT(jar_has(jar, "c"));
  curl_slist_free_all(jar);
  curl_easy_cleanup(e);
  curl_share_cleanup(sh);
  curl_global_cleanup();
}
