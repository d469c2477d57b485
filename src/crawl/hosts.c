/*
 * Per-host politeness: a window of concurrent requests (per_host, narrowed
 * by the adaptive throttle), an optional rate, and Retry-After pauses.
 *
 * The throttle is AIMD, as TCP's congestion window: an overload signal (429,
 * 503, a timeout) halves the window, at most once per second so that one
 * burst of failures counts once; each success widens it by 1/window, so it
 * grows back by about one slot per window's worth of successes.
 */
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "crawl/internal.h"

#define DECREASE_EVERY_MS 1000

ac__host_t *ac__hosts_get(struct ac_crawl *c, const char *name) {
  ac__hosts_t *hs = &c->hosts;
  uint64_t hv = ac__crawl_hash(name);
  ac__host_t *h;
  if (hs->nbuckets == 0) {
    hs->buckets = ac__calloc(64, sizeof(*hs->buckets));
    if (hs->buckets == NULL) return NULL;
    hs->nbuckets = 64;
  }
  for (h = hs->buckets[hv & (hs->nbuckets - 1)]; h != NULL; h = h->next)
    if (strcmp(h->name, name) == 0) return h;
  if (hs->count >= hs->nbuckets * 2) { /* grow: rehash every chain */
    size_t n = hs->nbuckets * 4;
    ac__host_t **b = ac__calloc(n, sizeof(*b));
    if (b == NULL) return NULL;
    for (size_t i = 0; i < hs->nbuckets; i++)
      for (ac__host_t *x = hs->buckets[i], *next; x != NULL; x = next) {
        size_t j = ac__crawl_hash(x->name) & (n - 1);
        next = x->next;
        x->next = b[j];
        b[j] = x;
      }
    ac__free(hs->buckets);
    hs->buckets = b;
    hs->nbuckets = n;
  }
  h = ac__calloc(1, sizeof(*h));
  if (h == NULL) return NULL;
  h->name = ac__strdup(name);
  if (h->name == NULL || ac_event_new(c->loop, &h->freed) != 0) {
    ac__free(h->name);
    ac__free(h);
    return NULL;
  }
  h->window = (double)c->opts.per_host;
  h->next = hs->buckets[hv & (hs->nbuckets - 1)];
  hs->buckets[hv & (hs->nbuckets - 1)] = h;
  hs->count++;
  return h;
}

void ac__hosts_free(ac__hosts_t *hs) {
  for (size_t i = 0; i < hs->nbuckets; i++)
    for (ac__host_t *h = hs->buckets[i], *next; h != NULL; h = next) {
      next = h->next;
      (void)ac_event_free(h->freed);
      ac__free(h->name);
      ac__free(h);
    }
  ac__free(hs->buckets);
  memset(hs, 0, sizeof(*hs));
}

static int local_acquire(struct ac_crawl *c, ac__host_t *h) {
  for (;;) {
    uint64_t now = ac_loop_now(c->loop);
    int rc;
    if (h->paused_until_ms > now) {
      if ((rc = ac_sleep(h->paused_until_ms - now)) != 0) return rc;
      continue;
    }
    if ((double)h->active < h->window || h->active == 0) {
      h->active++;
      if (c->opts.rate > 0) {
        /* Reserve the next start time now, so that tasks that pass the
         * window together still start 1/rate apart. */
        uint64_t gap = (uint64_t)(1000.0 / c->opts.rate);
        uint64_t slot = h->next_slot_ms > now ? h->next_slot_ms : now;
        h->next_slot_ms = slot + gap;
        if (slot > now && (rc = ac_sleep(slot - now)) != 0) {
          h->active--;
          ac_event_set(h->freed);
          return rc;
        }
      }
      return 0;
    }
    h->waiting++;
    ac_event_clear(h->freed);
    rc = ac_event_wait(h->freed);
    h->waiting--;
    if (rc != 0) return rc;
  }
}

/* This process's gate, then the frontier's (the whole crawl's, when many
 * workers share it). */
int ac__host_acquire(struct ac_crawl *c, ac__host_t *h) {
  int rc = local_acquire(c, h);
  if (rc != 0) return rc;
  if ((rc = c->fr->gate_enter(c, h)) != 0) {
    h->active--;
    if (h->waiting > 0) ac_event_set(h->freed);
  }
  return rc;
}

void ac__host_release(struct ac_crawl *c, ac__host_t *h, int outcome, uint64_t latency_ms) {
  uint64_t now = ac_loop_now(c->loop);
  (void)latency_ms;
  c->fr->gate_leave(c, h);
  h->active--;
  if (c->opts.throttle) {
    if (outcome == 1) {
      if (now - h->last_decrease_ms >= DECREASE_EVERY_MS || h->last_decrease_ms == 0) {
        h->window = h->window / 2 < 1 ? 1 : h->window / 2;
        h->last_decrease_ms = now;
      }
    } else if (outcome == 0) {
      h->window += 1.0 / h->window;
      if (h->window > (double)c->opts.per_host) h->window = (double)c->opts.per_host;
    }
  }
  if (h->waiting > 0) ac_event_set(h->freed);
}

void ac__host_pause(struct ac_crawl *c, ac__host_t *h, uint64_t ms) {
  uint64_t until = ac_loop_now(c->loop) + ms;
  if (until > h->paused_until_ms) h->paused_until_ms = until;
  c->fr->gate_pause(c, h, ms);
  c->st.retry_after_waits++;
}
