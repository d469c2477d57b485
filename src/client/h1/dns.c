/*
 * The native path's names: IP literals, a small DNS cache per session (as
 * libcurl's), and lookups in libuv's thread pool.
 */
#include <string.h>

#include "client/h1/internal.h"

/* ------------------------------------------------------------- names */

static int literal_addr(const char *host, unsigned port, struct sockaddr_storage *a) {
  memset(a, 0, sizeof(*a));
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)a) == 0) return 1;
  if (strchr(host, ':') != NULL && uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)a) == 0)
    return 1;
  return 0;
}

static void set_port(struct h1_addrs *as, unsigned port) {
  int i;
  for (i = 0; i < as->n; i++) {
    if (as->a[i].ss_family == AF_INET)
      ((struct sockaddr_in *)&as->a[i])->sin_port = htons((uint16_t)port);
    else
      ((struct sockaddr_in6 *)&as->a[i])->sin6_port = htons((uint16_t)port);
  }
}

static struct ac__h1_dns_entry *dns_find(ac_session_t *s, const char *name) {
  struct ac__h1_session *hs = ac__h1_sess(s);
  size_t i;
  uint64_t now = uv_now(ac_loop_uv(s->loop));
  for (i = 0; i < hs->ndns; i++) {
    struct ac__h1_dns_entry *e = &hs->dns[i];
    if (strcmp(e->name, name) == 0) return e->expires > now ? e : NULL;
  }
  return NULL;
}

static void dns_store(ac_session_t *s, const char *name, const struct h1_addrs *as) {
  struct ac__h1_session *hs = ac__h1_sess(s);
  struct ac__h1_dns_entry *e = NULL;
  size_t i;
  char *copy;
  for (i = 0; i < hs->ndns && e == NULL; i++)
    if (strcmp(hs->dns[i].name, name) == 0) e = &hs->dns[i];
  if (e == NULL) {
    if (hs->dns == NULL) {
      hs->dns = ac__calloc(DNS_CACHE_MAX, sizeof(*hs->dns));
      if (hs->dns == NULL) return; /* no cache: the next request asks again */
    }
    if (hs->ndns < DNS_CACHE_MAX) {
      e = &hs->dns[hs->ndns++];
    } else { /* full: replace the entry that expires first */
      e = &hs->dns[0];
      for (i = 1; i < DNS_CACHE_MAX; i++)
        if (hs->dns[i].expires < e->expires) e = &hs->dns[i];
      ac__free(e->name);
      e->name = NULL;
    }
    copy = ac__strdup(name);
    if (copy == NULL) {
      *e = hs->dns[--hs->ndns];
      return;
    }
    e->name = copy;
  }
  e->addrs = *as;
  e->expires = uv_now(ac_loop_uv(s->loop)) + DNS_TTL_MS;
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res) {
  struct h1_lookup *lk = ac__container_of(g, struct h1_lookup, gai);
  struct ac__h1_req *rq = lk->req;
  struct addrinfo *ai;

  ac__loop_handle_closed(lk->loop);
  ac__free(lk);
  if (rq == NULL) { /* the request is gone */
    uv_freeaddrinfo(res);
    return;
  }
  rq->lookup = NULL;
  rq->addrs.n = 0;
  for (ai = res; ai != NULL && rq->addrs.n < MAX_ADDRS; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (ai->ai_addrlen > sizeof(rq->addrs.a[0])) continue;
    memset(&rq->addrs.a[rq->addrs.n], 0, sizeof(rq->addrs.a[0]));
    memcpy(&rq->addrs.a[rq->addrs.n], ai->ai_addr, ai->ai_addrlen);
    rq->addrs.n++;
  }
  uv_freeaddrinfo(res);
  if (status < 0 || rq->addrs.n == 0) {
    ac__h1_fail(rq, AC_EDNS, "cannot resolve %s: %s",
            rq->url.host, status < 0 ? uv_strerror(status) : "no address");
    return;
  }
  dns_store(rq->call->session, rq->url.host, &rq->addrs);
  set_port(&rq->addrs, rq->url.port);
  rq->t_dns = now_ns();
  rq->addr_i = 0;
  ac__h1_send(rq);
}

/* Find the addresses of rq's host, then send it. */
void ac__h1_resolve_and_send(struct ac__h1_req *rq) {
  ac_session_t *s = rq->call->session;
  struct ac__h1_dns_entry *e;
  struct addrinfo hints;
  struct h1_lookup *lk;
  int rc;

  rq->addr_i = 0;
  if (literal_addr(rq->url.host, rq->url.port, &rq->addrs.a[0])) {
    rq->addrs.n = 1;
    ac__h1_send(rq);
    return;
  }
  if ((e = dns_find(s, rq->url.host)) != NULL) {
    rq->addrs = e->addrs;
    set_port(&rq->addrs, rq->url.port);
    ac__h1_send(rq);
    return;
  }
  lk = ac__calloc(1, sizeof(*lk));
  if (lk == NULL) {
    ac__h1_fail_later(rq, AC_ENOMEM);
    return;
  }
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  lk->req = rq;
  lk->loop = s->loop;
  if (rq->connect_timeout_ms > 0)
    ac__timer_start(s->loop, &rq->connect_timer, rq->connect_timeout_ms);
  rc = uv_getaddrinfo(ac_loop_uv(s->loop), &lk->gai, on_resolved, rq->url.host, NULL, &hints);
  if (rc != 0) {
    ac__free(lk);
    ac__h1_fail_later(rq, rc);
    return;
  }
  ac__loop_closing_add(s->loop);
  rq->lookup = lk;
}

