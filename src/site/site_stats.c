/*
 * GET /__stats: what the replica saw, for tests and benchmarks to check a
 * client's behaviour (how many requests of each kind, which faults it met,
 * how many requests it really had in flight).
 *
 *   {"requests":{"list":..,"detail":..,"redirect":..,"not_found":..,
 *                "httpbin":..,"stats":..,"pages":..,"pages_open":..,
 *                "cursor":..,"next":..,"linked":..,"search":..,"total":..},
 *    "faults":{"none":..,"5xx":..,"429":..,"reset":..,"short":..,
 *              "badjson":..,"overload":..,"html200":..,"empty200":..},
 *    "shapes":{"pretty":..,"spaced":..,"mixed":..,"escape_ascii":..,
 *              "escape_slash":..,"escape_php":..,"bom":..},
 *    "in_flight":{"now":..,"max":..},
 *    "connections":{"now":..,"total":..,"shed":..},
 *    "clients":[{"addr":"127.0.0.1","requests":..,"in_flight_max":..},...]}
 *
 * "not_found" counts unknown and gone ids plus the router's 404s. "shapes"
 * counts the 200 list and detail bodies sent reshaped (a body under
 * several). "now" includes the /__stats request itself.
 */
#include <string.h>

#include "common/alloc.h"
#include "site/site_internal.h"

/* The body never holds more than this many client entries (the server's
 * tracking has its own cap, by default 1,024). */
#define STATS_MAX_CLIENTS 1024
#define STATS_MAX_BODY (256u * 1024u)

static void key_u64(struct ac__dynbuf *b, const char *key, uint64_t v, int comma) {
  if (comma) ac__dynbuf_addc(b, ',');
  ac__json_str(b, key, strlen(key), AC__JSON_UTF8);
  ac__dynbuf_addc(b, ':');
  ac__json_u64(b, v);
}

static int h_stats(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  static const char *const kind_names[AC__SITE_KINDS] = {
      "list",  "detail", "redirect", "not_found", "httpbin", "stats",
      "pages", "pages_open", "cursor", "next", "linked", "search"};
  struct ac__site *s = ud;
  uint64_t faults[AC__FAULT_KINDS];
  ac_server_stats_t st;
  ac_server_client_stat_t *cl;
  size_t ncl;
  struct ac__dynbuf b;
  int rc;

  (void)req;
  s->kinds[AC__SITE_STATS]++;
  ac_server_stats(s->server, &st);
  ac__faults_counts(s->faults, faults);
  cl = ac__malloc(STATS_MAX_CLIENTS * sizeof(*cl));
  if (cl == NULL) return AC_ENOMEM;
  ncl = ac_server_client_stats(s->server, cl, STATS_MAX_CLIENTS);
  if (ncl > STATS_MAX_CLIENTS) ncl = STATS_MAX_CLIENTS;

  ac__dynbuf_init(&b, STATS_MAX_BODY);
  ac__dynbuf_adds(&b, "{\"requests\":{");
  for (int k = 0; k < AC__SITE_KINDS; k++) {
    uint64_t v = s->kinds[k];
    if (k == AC__SITE_NOT_FOUND) v += st.not_found;
    key_u64(&b, kind_names[k], v, k > 0);
  }
  key_u64(&b, "total", st.requests_total, 1);
  ac__dynbuf_adds(&b, "},\"faults\":{");
  for (int k = 0; k < AC__FAULT_KINDS; k++)
    key_u64(&b, ac__fault_name((enum ac__fault_kind)k), faults[k], k > 0);
  ac__dynbuf_adds(&b, "},\"shapes\":{");
  for (int k = 0; k < AC__SHAPE_KINDS; k++)
    key_u64(&b, ac__site_shape_name((enum ac__site_shape)k), s->shape_counts[k], k > 0);
  ac__dynbuf_adds(&b, "},\"in_flight\":{");
  key_u64(&b, "now", st.in_flight_now, 0);
  key_u64(&b, "max", st.in_flight_max, 1);
  ac__dynbuf_adds(&b, "},\"connections\":{");
  key_u64(&b, "now", st.connections_now, 0);
  key_u64(&b, "total", st.connections_total, 1);
  key_u64(&b, "shed", st.connections_shed, 1);
  ac__dynbuf_adds(&b, "},\"clients\":[");
  for (size_t i = 0; i < ncl; i++) {
    if (i > 0) ac__dynbuf_addc(&b, ',');
    ac__dynbuf_adds(&b, "{\"addr\":");
    ac__json_str(&b, cl[i].addr, strnlen(cl[i].addr, sizeof(cl[i].addr)), AC__JSON_ASCII);
    key_u64(&b, "requests", cl[i].requests, 1);
    key_u64(&b, "in_flight_now", cl[i].in_flight_now, 1);
    key_u64(&b, "in_flight_max", cl[i].in_flight_max, 1);
    ac__dynbuf_addc(&b, '}');
  }
  ac__dynbuf_adds(&b, "]}\n");
  ac__free(cl);
  rc = ac__site_send_json(resp, 200, &b);
  ac__dynbuf_free(&b);
  return rc;
}

int ac__site_stats_route(struct ac__site *s) {
  return ac_server_route(s->server, "GET", "/__stats", h_stats, s);
}
