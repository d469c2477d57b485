/*
 * The frontier's part every backend shares: a followed request checked,
 * parsed and keyed, then handed to the backend (frontier_mem.c keeps the
 * crawl in this process, frontier_redis.c in Redis for many workers); the
 * request as the engine holds it; and the local ready heap (priority, then
 * FIFO) that consumers take from, with backpressure on its room (see
 * include/acrawl/crawl.h and docs/internals/crawl.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dynbuf.h"
#include "crawl/internal.h"

/* ------------------------------------------------------------ requests */

int ac__creq_ready_less(const struct ac__heap_node *a, const struct ac__heap_node *b) {
  const ac__creq_t *x = ac__container_of(a, ac__creq_t, node);
  const ac__creq_t *y = ac__container_of(b, ac__creq_t, node);
  if (x->pub.priority != y->pub.priority) return x->pub.priority > y->pub.priority;
  return x->seq < y->seq;
}

int ac__creq_delayed_less(const struct ac__heap_node *a, const struct ac__heap_node *b) {
  const ac__creq_t *x = ac__container_of(a, ac__creq_t, node);
  const ac__creq_t *y = ac__container_of(b, ac__creq_t, node);
  if (x->due_ms != y->due_ms) return x->due_ms < y->due_ms;
  return x->seq < y->seq;
}

void ac__creq_free(ac__creq_t *r) {
  if (r == NULL) return;
  /* Still held by a shared worker (a stop with leases in hand, an error
   * path): off its list, which outlives it (ac_crawl_free). */
  if (r->held.next != NULL && !ac__list_empty(&r->held)) ac__list_remove(&r->held);
  ac__free(r->refusal);
  ac__free(r->why);
  ac__free(r->lease_id);
  ac__shared_children_free(r->children);
  ac__free(r->key);
  ac__free(r->fetch);
  ac__free(r->meta);
  ac__free(r);
}

/* RFC 9110 5.6.2: what a method and a header name are made of. */
static int is_token(const char *s) {
  static const char extra[] = "!#$%&'*+-.^_`|~";
  if (s == NULL || *s == '\0') return 0;
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          strchr(extra, ch) != NULL))
      return 0;
  }
  return 1;
}

/* 1 if the engine can send the request, 0 if not (AC_EINVAL, see crawl.h).
 * A CR or LF in a field would end it and let the rest write the head. */
int ac__crawl_request_valid(const ac_crawl_t *c, const ac_crawl_request_t *req) {
  if (req == NULL || req->url == NULL || req->callback < 0 ||
      (size_t)req->callback >= c->spider.ncallbacks)
    return 0;
  if (req->method != NULL && !is_token(req->method)) return 0;
  if (req->content_type != NULL && strpbrk(req->content_type, "\r\n") != NULL) return 0;
  if (req->nheaders > 0 && req->headers == NULL) return 0;
  for (size_t i = 0; i < req->nheaders; i++) {
    const ac_http_kv_t *h = &req->headers[i];
    if (!is_token(h->key)) return 0;
    if (h->value != NULL && strpbrk(h->value, "\r\n") != NULL) return 0;
  }
  return 1;
}

static const char *request_method(const ac_crawl_request_t *req) {
  return req->method != NULL ? req->method : "GET";
}

/* The body's content type as sent (NULL without a body). */
static const char *request_ctype(const ac_crawl_request_t *req) {
  if (req->body == NULL) return NULL;
  return req->content_type != NULL ? req->content_type : "application/octet-stream";
}

/* A GET by URL alone keeps the URL's key, which states written before
 * requests had methods also hold. */
static int request_plain(const ac_crawl_request_t *req) {
  return strcmp(request_method(req), "GET") == 0 && req->body == NULL && req->nheaders == 0;
}

static char ascii_lower(char ch) { return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch; }

static int ascii_casecmp(const char *a, const char *b) {
  while (*a && ascii_lower(*a) == ascii_lower(*b)) a++, b++;
  return (unsigned char)ascii_lower(*a) - (unsigned char)ascii_lower(*b);
}

typedef struct header_ref {
  const ac_http_kv_t *kv;
  size_t i;
} header_ref_t;

/* Header names do not care for case, and the order of different names
 * changes nothing on the wire: a name's values keep their order. */
static int header_ref_cmp(const void *a, const void *b) {
  const header_ref_t *x = a, *y = b;
  int d = ascii_casecmp(x->kv->key, y->kv->key);
  if (d != 0) return d;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* Replaces u->key by the request's key unless it is a plain GET:
 * "METHOD URLKEY #HASH", the hash over what else makes the answer (the
 * content type, the body, the headers), each length-prefixed so that no
 * two different requests write the same bytes. 0 or AC_ENOMEM. */
static int request_key(const ac_crawl_request_t *req, ac__crawl_url_t *u) {
  struct ac__dynbuf b, k;
  header_ref_t *refs = NULL;
  const char *ctype = request_ctype(req);
  uint64_t h;
  int rc;
  if (request_plain(req)) return 0;
  ac__dynbuf_init(&b, SIZE_MAX / 2);
  if (req->body != NULL) {
    (void)ac__dynbuf_addf(&b, "t%zu:%s", strlen(ctype), ctype);
    (void)ac__dynbuf_addf(&b, "b%zu:", strlen(req->body));
    (void)ac__dynbuf_adds(&b, req->body);
  }
  if (req->nheaders > 0) {
    refs = ac__calloc(req->nheaders, sizeof(*refs));
    if (refs == NULL) {
      ac__dynbuf_free(&b);
      return AC_ENOMEM;
    }
    for (size_t i = 0; i < req->nheaders; i++) {
      refs[i].kv = &req->headers[i];
      refs[i].i = i;
    }
    qsort(refs, req->nheaders, sizeof(*refs), header_ref_cmp);
    for (size_t i = 0; i < req->nheaders; i++) {
      const ac_http_kv_t *kv = refs[i].kv;
      (void)ac__dynbuf_addf(&b, "h%zu:", strlen(kv->key));
      for (const char *p = kv->key; *p; p++) (void)ac__dynbuf_addc(&b, ascii_lower(*p));
      if (kv->value == NULL) (void)ac__dynbuf_addc(&b, 'n');
      else (void)ac__dynbuf_addf(&b, "v%zu:%s", strlen(kv->value), kv->value);
    }
    ac__free(refs);
  }
  if ((rc = ac__dynbuf_err(&b)) != 0) {
    ac__dynbuf_free(&b);
    return rc;
  }
  h = ac__crawl_hash(ac__dynbuf_ptr(&b) != NULL ? ac__dynbuf_ptr(&b) : "");
  ac__dynbuf_free(&b);
  ac__dynbuf_init(&k, SIZE_MAX / 2);
  rc = ac__dynbuf_addf(&k, "%s %s #%016llx", request_method(req), u->key, (unsigned long long)h);
  if (rc != 0) return rc;
  ac__free(u->key);
  u->key = ac__dynbuf_take(&k, NULL);
  return 0;
}

/* Copies s to *at and moves *at past it. */
static const char *put_str(char **at, const char *s) {
  size_t n = strlen(s) + 1;
  char *out = memcpy(*at, s, n);
  *at += n;
  return out;
}

/* Takes ownership of u's strings. The method, body, content type and
 * headers go in the trailing bytes of the request's allocation. */
ac__creq_t *ac__creq_new(ac_crawl_t *c, ac__crawl_url_t *u, const ac_crawl_request_t *req) {
  const char *method = request_method(req), *ctype = request_ctype(req);
  int get = strcmp(method, "GET") == 0;
  size_t extra = req->nheaders * sizeof(ac_http_kv_t);
  ac__creq_t *r;
  char *at;
  if (!get) extra += strlen(method) + 1;
  if (req->body != NULL) extra += strlen(req->body) + 1 + strlen(ctype) + 1;
  for (size_t i = 0; i < req->nheaders; i++)
    extra += strlen(req->headers[i].key) + 1 +
             (req->headers[i].value != NULL ? strlen(req->headers[i].value) + 1 : 0);
  /* sizeof a struct of pointers keeps the header array after it aligned. */
  r = ac__calloc(1, sizeof(*r) + extra);
  if (r == NULL) return NULL;
  r->meta = ac__strdup(req->meta != NULL ? req->meta : "");
  r->host = ac__hosts_get(c, u->host);
  if (r->meta == NULL || r->host == NULL) {
    ac__free(r->meta);
    ac__free(r);
    return NULL;
  }
  at = (char *)(r + 1);
  if (req->nheaders > 0) {
    r->headers = (ac_http_kv_t *)(void *)at;
    r->nheaders = req->nheaders;
    at += req->nheaders * sizeof(ac_http_kv_t);
    for (size_t i = 0; i < req->nheaders; i++) {
      r->headers[i].key = put_str(&at, req->headers[i].key);
      r->headers[i].value =
          req->headers[i].value != NULL ? put_str(&at, req->headers[i].value) : NULL;
    }
  }
  if (!get) r->method = put_str(&at, method);
  if (req->body != NULL) {
    r->body = put_str(&at, req->body);
    r->ctype = put_str(&at, ctype);
  }
  r->key = u->key;
  r->fetch = u->fetch;
  ac__free(u->host);
  memset(u, 0, sizeof(*u));
  ac__list_init(&r->link);
  ac__list_init(&r->held);
  r->seq = c->seq++;
  r->pub.url = r->fetch;
  r->pub.callback = req->callback;
  r->pub.priority = req->priority;
  r->pub.meta = r->meta;
  r->pub.attempt = 1;
  r->pub.method = r->method != NULL ? r->method : "GET";
  r->pub.body = r->body;
  return r;
}

ac__consumer_t *ac__crawl_consumer(ac_crawl_t *c) {
  ac_task_t *t = ac_task_current();
  if (t == NULL) return NULL;
  for (size_t i = 0; i < c->nconsumers; i++)
    if (c->consumers[i].task == t) return &c->consumers[i];
  return NULL;
}

/* ------------------------------------------------------------ frontier */

void ac__crawl_push_ready(ac_crawl_t *c, ac__creq_t *r) {
  ac__heap_insert(&c->ready, &r->node);
  c->nready++;
  ac_sem_release(c->avail);
}

ac__creq_t *ac__crawl_pop_ready(ac_crawl_t *c) {
  struct ac__heap_node *n = ac__heap_min(&c->ready);
  ac__creq_t *r;
  if (n == NULL) return NULL;
  ac__heap_remove(&c->ready, n);
  c->nready--;
  r = ac__container_of(n, ac__creq_t, node);
  if (!r->overflow) ac_sem_release(c->space);
  if (c->feed_wake != NULL && c->nready <= c->feed_low) ac_event_set(c->feed_wake);
  return r;
}

/* Put a new request in the local ready heap, waiting for room (see crawl.h
 * for the one exception). Returns 1, or an error (r is freed then). */
int ac__crawl_admit(ac_crawl_t *c, ac__creq_t *r) {
  ac__consumer_t *me = ac__crawl_consumer(c);
  int rc;
  if (c->stopping) goto recorded_only;
  if (ac_sem_try_acquire(c->space) == 0) {
    r->overflow = 0;
  } else if (me != NULL && c->consumers_alive - c->blocked_on_space <= 1) {
    /* Every other consumer waits for room that only consumers make. */
    r->overflow = 1;
  } else {
    if (me != NULL) {
      me->blocked_on_space = 1;
      c->blocked_on_space++;
    }
    rc = ac_sem_acquire(c->space);
    if (me != NULL) {
      me->blocked_on_space = 0;
      c->blocked_on_space--;
    }
    if (rc != 0) {
      ac__creq_free(r);
      return rc;
    }
    if (c->stopping) {
      ac_sem_release(c->space);
      goto recorded_only;
    }
  }
  ac__crawl_push_ready(c, r);
  return 1;
recorded_only:
  /* Stopping: the request is in the state (when there is one) and a resumed
   * crawl will fetch it; this run will not. */
  ac__creq_free(r);
  return 1;
}

int ac__crawl_request_url(const ac_crawl_request_t *req, ac__crawl_url_t *u) {
  int rc;
  if ((rc = ac__crawl_url_parse(req->url, u)) != 0) return rc;
  if ((rc = request_key(req, u)) != 0) ac__crawl_url_free(u);
  return rc;
}

int ac_crawl_follow_request(ac_crawl_t *c, const ac_crawl_request_t *req, ac_follow_how_t how) {
  ac__crawl_url_t u;
  int rc;
  if (c == NULL || !ac__crawl_request_valid(c, req)) return AC_EINVAL;
  if (how != AC_FOLLOW_NEW && how != AC_FOLLOW_AGAIN && how != AC_FOLLOW_REFETCH) return AC_EINVAL;
  if (c->hard) return AC_ECANCELED;
  if ((rc = ac__crawl_request_url(req, &u)) != 0) return rc;
  return c->fr->add(c, &u, req, how);
}

static int follow_url(ac_crawl_t *c, const char *url, int callback, int priority, const char *meta,
                      ac_follow_how_t how) {
  ac_crawl_request_t req;
  memset(&req, 0, sizeof(req));
  req.url = url;
  req.callback = callback;
  req.priority = priority;
  req.meta = meta;
  return ac_crawl_follow_request(c, &req, how);
}

int ac_crawl_follow(ac_crawl_t *c, const char *url, int callback, int priority,
                    const char *meta) {
  return follow_url(c, url, callback, priority, meta, AC_FOLLOW_NEW);
}

int ac_crawl_follow_again(ac_crawl_t *c, const char *url, int callback, int priority,
                          const char *meta) {
  return follow_url(c, url, callback, priority, meta, AC_FOLLOW_AGAIN);
}

int ac_crawl_refetch(ac_crawl_t *c, const char *url, int callback, int priority,
                     const char *meta) {
  return follow_url(c, url, callback, priority, meta, AC_FOLLOW_REFETCH);
}
