/*
 * Counters: requests in flight now and at most, overall and per client
 * address. The address table is open addressing with a fixed number of slots
 * (twice max_tracked_clients, so it is never more than half full); addresses
 * past the cap share one "other" entry. Entries are never removed, so the
 * memory stays what was allocated at creation.
 */
#include <string.h>

#include "server/internal.h"

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s != '\0'; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

struct ac__srv_client *ac__stats_client(ac_server_t *s, const char *addr) {
  size_t slots = s->clients_cap * 2, i;
  if (slots == 0) return &s->other;
  for (i = (size_t)(hash(addr) % slots);; i = (i + 1) % slots) {
    struct ac__srv_client *c = &s->clients[i];
    if (!c->used) {
      if (s->nclients == s->clients_cap) return &s->other;
      c->used = 1;
      memcpy(c->addr, addr, sizeof(c->addr));
      c->addr[sizeof(c->addr) - 1] = '\0';
      s->nclients++;
      return c;
    }
    if (strcmp(c->addr, addr) == 0) return c;
  }
}

void ac__stats_request_begin(ac_server_t *s, struct ac__srv_client *c) {
  s->stats.requests_total++;
  if (++s->stats.in_flight_now > s->stats.in_flight_max)
    s->stats.in_flight_max = s->stats.in_flight_now;
  c->requests++;
  if (++c->in_flight_now > c->in_flight_max) c->in_flight_max = c->in_flight_now;
}

void ac__stats_request_end(ac_server_t *s, struct ac__srv_client *c) {
  s->stats.in_flight_now--;
  c->in_flight_now--;
}

void ac_server_stats(const ac_server_t *s, ac_server_stats_t *out) {
  if (s == NULL || out == NULL) return;
  *out = s->stats;
}

size_t ac_server_route_stats(const ac_server_t *s, ac_server_route_stat_t *out, size_t max) {
  const struct ac__srv_route *r;
  size_t n = 0;
  if (s == NULL) return 0;
  for (r = s->routes; r != NULL; r = r->next, n++) {
    if (out == NULL || n >= max) continue;
    out[n].method = r->method;
    out[n].pattern = r->pattern;
    out[n].requests = r->requests;
  }
  return n;
}

size_t ac_server_client_stats(const ac_server_t *s, ac_server_client_stat_t *out, size_t max) {
  size_t i, n = 0, slots = s != NULL ? s->clients_cap * 2 : 0;
  const struct ac__srv_client *c;
  if (s == NULL) return 0;
  for (i = 0; i <= slots; i++) {
    c = i < slots ? &s->clients[i] : &s->other;
    if (i < slots && !c->used) continue;
    if (i == slots && c->requests == 0) continue;
    if (out != NULL && n < max) {
      memcpy(out[n].addr, c->addr, sizeof(out[n].addr));
      out[n].requests = c->requests;
      out[n].in_flight_now = c->in_flight_now;
      out[n].in_flight_max = c->in_flight_max;
    }
    n++;
  }
  return n;
}
