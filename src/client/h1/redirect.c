/*
 * Following a redirect natively: the next URL, the method, the head rebuilt
 * for the target; or the hand-over to libcurl when the target is not for the
 * native path.
 */
#include <curl/curl.h>
#include <string.h>

#include "client/h1/internal.h"

/* ------------------------------------------------------------ redirects */

/* Location resolved against the current URL (libcurl's URL API: relative
 * references, normalization). NULL when it is not a URL. */
static char *resolve_location(const char *base, const char *location) {
  CURLU *u = curl_url();
  char *out = NULL, *copy = NULL;
  if (u == NULL) return NULL;
  if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_URL, location, CURLU_URLENCODE) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
    copy = ac__strdup(out);
  }
  curl_free(out);
  curl_url_cleanup(u);
  return copy;
}
void ac__h1_follow(struct ac__h1_req *rq) {
  struct ac_http_call *call = rq->call;
  ac_session_t *s = call->session;
  unsigned st = rq->parser.status_code;
  int to_get, rc;
  char *next;
  struct ac__h1_url nu;

  if (rq->max_redirects >= 0 && rq->redirects >= rq->max_redirects) {
    ac__h1_fail(rq, AC_EREDIRECT, "more redirects than max_redirects (%ld)", rq->max_redirects);
    return;
  }
  next = resolve_location(rq->url.buf, rq->location);
  if (next == NULL) {
    ac__h1_fail(rq, AC_EPROTO, "cannot follow the redirect to \"%s\"",
            rq->location);
    return;
  }
  /* 303 means "GET it there"; 301 and 302 turn a POST into a GET, as every
   * browser and libcurl do; 307 and 308 keep the method and the body. */
  to_get = (st == 303 && !rq->head.head) ||
           ((st == 301 || st == 302) && strcmp(rq->head.method, "POST") == 0);
  rq->redirects++;
  rq->t_hop = now_ns();
  if (rq->conn != NULL) ac__h1_conn_release(rq->conn, rq->keep_alive);
  rq->conn = NULL;
  /* The response of the next hop replaces this one. */
  ac__headers_reset(&call->resp->headers);
  rc = 1;
  if (!(s->cookies && s->jar_used)) rc = ac__h1_url_parse(next, &nu);
  if (rc == 0) {
    rc = ac__h1_head_retarget(&rq->head, &rq->url, &nu, to_get);
    ac__h1_url_free(&rq->url);
    rq->url = nu;
    ac__free(next);
    if (rc != 0) {
      ac__h1_fail(rq, rc, "cannot follow the redirect: %s", ac_strerror(rc));
      return;
    }
    rq->retried = 0;
    ac__h1_resolve_and_send(rq);
    return;
  }
  if (rc < 0) {
    ac__free(next);
    ac__h1_fail(rq, rc, "cannot follow the redirect: %s", ac_strerror(rc));
    return;
  }
  ac__h1_hand_over(rq, next, to_get);
  ac__free(next);
}
