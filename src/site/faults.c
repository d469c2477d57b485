/*
 * Fault injection for the replica (see faults.h).
 *
 * Every random draw is a hash of (seed, key, attempt, purpose) mixed with
 * splitmix64's finaliser, never a stateful generator: a stateful one would
 * make the faults depend on the order in which concurrent requests arrive.
 */
#include "site/faults.h"

#include <stdlib.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"

#define DEFAULT_MAX_KEYS (1u << 20)

/* A key's record. Keys are kept as 64-bit hashes: at the table's cap of a
 * million keys the chance of any collision is about 3e-8, and a collision
 * only merges two keys' attempt counts. */
struct slot {
  uint64_t hash;            /* 0 marks an empty slot (real hashes are forced odd) */
  uint32_t attempts;
  uint32_t bad_body_done;   /* the key had its bad 200 body */
};

struct ac__faults {
  struct ac__faults_config cfg;
  struct slot *slots;
  size_t mask;              /* capacity - 1, capacity a power of two >= 2 * max_keys */
  size_t used;
  uint32_t untracked;       /* draws for keys past the cap, so that they vary */
  uint64_t counts[AC__FAULT_KINDS];
};

enum purpose { DRAW_DELAY = 1, DRAW_FAULT, DRAW_STATUS, DRAW_GONE, DRAW_KEY };

static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static uint64_t hash_bytes(uint64_t seed, const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull ^ mix(seed); /* FNV-1a, seeded */
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ull;
  }
  return mix(h) | 1;
}

static uint64_t draw(const struct ac__faults *f, uint64_t key, uint32_t attempt, enum purpose p) {
  return mix(f->cfg.seed ^ mix(key ^ ((uint64_t)attempt << 8) ^ (uint64_t)p));
}

/* A draw as a double in [0, 1): the top 53 bits. */
static double uniform(uint64_t r) { return (double)(r >> 11) * (1.0 / 9007199254740992.0); }

void ac__faults_config_init(struct ac__faults_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->max_keys = DEFAULT_MAX_KEYS;
}

const char *ac__fault_name(enum ac__fault_kind kind) {
  static const char *const names[AC__FAULT_KINDS] = {
      "none", "5xx", "429", "reset", "short", "badjson", "overload", "html200", "empty200"};
  return (unsigned)kind < AC__FAULT_KINDS ? names[kind] : "unknown";
}

static int valid_share(double p) { return p >= 0.0 && p <= 1.0; }

int ac__faults_new(const struct ac__faults_config *cfg, struct ac__faults **out) {
  struct ac__faults *f;
  size_t cap = 2;

  *out = NULL;
  if (!valid_share(cfg->p429) || !valid_share(cfg->preset) || !valid_share(cfg->pshort) ||
      !valid_share(cfg->pbadjson) || !valid_share(cfg->phtml200) ||
      !valid_share(cfg->pempty200) ||
      cfg->p429 + cfg->preset + cfg->pshort + cfg->pbadjson + cfg->phtml200 + cfg->pempty200 >
          1.0)
    return AC_EINVAL;
  f = ac__calloc(1, sizeof(*f));
  if (f == NULL) return AC_ENOMEM;
  f->cfg = *cfg;
  if (f->cfg.max_keys == 0) f->cfg.max_keys = DEFAULT_MAX_KEYS;
  while (cap < 2 * f->cfg.max_keys) cap *= 2; /* load factor at most 1/2 */
  f->slots = ac__calloc(cap, sizeof(*f->slots));
  if (f->slots == NULL) {
    ac__free(f);
    return AC_ENOMEM;
  }
  f->mask = cap - 1;
  *out = f;
  return 0;
}

void ac__faults_free(struct ac__faults *f) {
  if (f == NULL) return;
  ac__free(f->slots);
  ac__free(f);
}

/* The key's slot, created if there is room; NULL past the cap. */
static struct slot *find(struct ac__faults *f, uint64_t hash) {
  size_t i = (size_t)hash & f->mask;
  for (;; i = (i + 1) & f->mask) {
    struct slot *s = &f->slots[i];
    if (s->hash == hash) return s;
    if (s->hash == 0) {
      if (f->used == f->cfg.max_keys) return NULL;
      f->used++;
      s->hash = hash;
      return s;
    }
  }
}

static void decide(struct ac__faults *f, uint64_t key, struct slot *s, struct ac__fault *out) {
  const struct ac__faults_config *c = &f->cfg;
  uint32_t attempt = s != NULL ? s->attempts++ : UINT32_MAX;
  /* An untracked key must not draw the same fault forever (a reset on every
   * try would make it unfetchable): its draws vary, at the cost of
   * reproducibility for keys past the cap. */
  uint32_t salt = s != NULL ? attempt : f->untracked++;
  double u;

  out->attempt = attempt;
  out->delay_ms = c->delay_ms;
  if (c->jitter_ms > 0)
    out->delay_ms += (uint32_t)(draw(f, key, salt, DRAW_DELAY) % ((uint64_t)c->jitter_ms + 1));
  if (attempt < c->fail_first) {
    static const int statuses[] = {500, 502, 503, 504};
    out->kind = AC__FAULT_5XX;
    out->status = statuses[draw(f, key, salt, DRAW_STATUS) % 4];
    return;
  }
  u = uniform(draw(f, key, salt, DRAW_FAULT));
  if (u < c->p429) {
    out->kind = AC__FAULT_429;
    out->status = 429;
    out->retry_after_s = c->retry_after_s;
  } else if ((u -= c->p429) < c->preset) {
    out->kind = AC__FAULT_RESET;
  } else if ((u -= c->preset) < c->pshort) {
    out->kind = AC__FAULT_SHORT;
  } else if ((u -= c->pshort) < c->pbadjson + c->phtml200 + c->pempty200 && s != NULL &&
             !s->bad_body_done) {
    /* Once per key: a crawler that retries a bad parse must then succeed.
     * A key past the table's cap is never given one, for the same reason. */
    s->bad_body_done = 1;
    if (u < c->pbadjson) {
      out->kind = AC__FAULT_BADJSON;
    } else if (u - c->pbadjson < c->phtml200) {
      out->kind = AC__FAULT_HTML200;
      out->variant = (uint32_t)(draw(f, key, salt, DRAW_STATUS) >> 32);
    } else {
      out->kind = AC__FAULT_EMPTY200;
    }
  }
}

int ac__fault_is_body(enum ac__fault_kind kind) {
  return kind == AC__FAULT_RESET || kind == AC__FAULT_SHORT || kind == AC__FAULT_BADJSON ||
         kind == AC__FAULT_HTML200 || kind == AC__FAULT_EMPTY200;
}

uint64_t ac__faults_key_draw(const struct ac__faults *f, const char *key, size_t key_len,
                             unsigned purpose) {
  return draw(f, hash_bytes(f->cfg.seed, key, key_len), purpose, DRAW_KEY);
}

void ac__faults_decide(struct ac__faults *f, const char *key, size_t key_len,
                       unsigned in_flight, struct ac__fault *out) {
  uint64_t h = hash_bytes(f->cfg.seed, key, key_len);

  memset(out, 0, sizeof(*out));
  if (f->cfg.max_in_flight > 0 && in_flight > f->cfg.max_in_flight) {
    out->kind = AC__FAULT_OVERLOAD;
    out->status = 503;
  } else {
    decide(f, h, find(f, h), out);
  }
  f->counts[out->kind]++;
}

void ac__faults_recount(struct ac__faults *f, enum ac__fault_kind from, enum ac__fault_kind to) {
  if (f->counts[from] == 0) return;
  f->counts[from]--;
  f->counts[to]++;
}

void ac__faults_counts(const struct ac__faults *f, uint64_t counts[AC__FAULT_KINDS]) {
  memcpy(counts, f->counts, sizeof(f->counts));
}

struct ranked {
  uint64_t rank;
  size_t index;
};

static int by_rank(const void *a, const void *b) {
  const struct ranked *x = a, *y = b;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

int ac__faults_pick_gone(uint64_t seed, const char *const *ids, size_t n, size_t k,
                         unsigned char *chosen) {
  struct ranked *r;
  size_t i;

  memset(chosen, 0, n);
  if (k == 0 || n == 0) return 0;
  if (k >= n) {
    memset(chosen, 1, n);
    return 0;
  }
  r = ac__malloc(n * sizeof(*r));
  if (r == NULL) return AC_ENOMEM;
  /* The k smallest seeded hashes of the ids' text: independent of order. */
  for (i = 0; i < n; i++) {
    r[i].rank = mix(hash_bytes(seed, ids[i], strlen(ids[i])) ^ DRAW_GONE);
    r[i].index = i;
  }
  qsort(r, n, sizeof(*r), by_rank);
  for (i = 0; i < k; i++) chosen[r[i].index] = 1;
  ac__free(r);
  return 0;
}
