/*
 * The replica's fault planner: reproducible, order-independent, the
 * configured shares, bounded memory.
 */
#include <math.h>
#include <stdio.h>

#include "acrawl.h"
#include "runner.h"
#include "common/alloc.h"
#include "site/faults.h"

static void key_of(char *buf, size_t n, unsigned i) { snprintf(buf, n, "GET /api/book/%u", i); }

static void decide_i(struct ac__faults *f, unsigned i, struct ac__fault *out) {
  char key[64];
  key_of(key, sizeof(key), i);
  ac__faults_decide(f, key, strlen(key), 1, out);
}

static struct ac__faults *make(uint64_t seed, double p429, double preset, double pshort,
                               double pbad, uint32_t fail_first) {
  struct ac__faults_config c;
  struct ac__faults *f;
  ac__faults_config_init(&c);
  c.seed = seed;
  c.p429 = p429;
  c.retry_after_s = 2;
  c.preset = preset;
  c.pshort = pshort;
  c.pbadjson = pbad;
  c.fail_first = fail_first;
  c.delay_ms = 10;
  c.jitter_ms = 5;
  ASSERT_OK(ac__faults_new(&c, &f));
  return f;
}

TEST_IMPL(faults_none_configured_means_clean_answers) {
  struct ac__faults *f = make(1, 0, 0, 0, 0, 0);
  struct ac__fault d;
  uint64_t counts[AC__FAULT_KINDS];
  unsigned i;
  for (i = 0; i < 1000; i++) {
    decide_i(f, i % 10, &d);
    ASSERT_EQ(d.kind, AC__FAULT_NONE);
    ASSERT_GE(d.delay_ms, 10);
    ASSERT_LE(d.delay_ms, 15);
  }
  ac__faults_counts(f, counts);
  ASSERT_UEQ(counts[AC__FAULT_NONE], 1000);
  ac__faults_free(f);
}

TEST_IMPL(faults_first_k_attempts_fail_with_5xx) {
  struct ac__faults *f = make(7, 0, 0, 0, 0, 2);
  struct ac__fault d;
  unsigned i, a;
  for (i = 0; i < 50; i++) {
    for (a = 0; a < 4; a++) {
      decide_i(f, i, &d);
      ASSERT_EQ(d.attempt, a);
      if (a < 2) {
        ASSERT_EQ(d.kind, AC__FAULT_5XX);
        ASSERT(d.status == 500 || d.status == 502 || d.status == 503 || d.status == 504);
      } else {
        ASSERT_EQ(d.kind, AC__FAULT_NONE);
      }
    }
  }
  ac__faults_free(f);
}

/* The same (seed, key, attempt) gets the same fate whatever the order of
 * requests: a crawl's faults do not depend on its timing. */
TEST_IMPL(faults_are_reproducible_and_order_independent) {
  struct ac__faults *a = make(42, 0.1, 0.1, 0.1, 0.1, 1);
  struct ac__faults *b = make(42, 0.1, 0.1, 0.1, 0.1, 1);
  struct ac__faults *c = make(43, 0.1, 0.1, 0.1, 0.1, 1);
  static struct ac__fault first[2000];
  struct ac__fault d;
  unsigned i, differ = 0;

  for (i = 0; i < 2000; i++) decide_i(a, i / 2, &first[i]); /* key k twice in a row */
  /* b asks every key once, then every key again: another order. */
  for (i = 0; i < 1000; i++) {
    decide_i(b, i, &d);
    ASSERT_EQ(d.kind, first[2 * i].kind);
    ASSERT_EQ(d.status, first[2 * i].status);
    ASSERT_EQ(d.delay_ms, first[2 * i].delay_ms);
  }
  for (i = 0; i < 1000; i++) {
    decide_i(b, i, &d);
    ASSERT_EQ(d.kind, first[2 * i + 1].kind);
    ASSERT_EQ(d.delay_ms, first[2 * i + 1].delay_ms);
    decide_i(c, i, &d); /* another seed: other fates */
    decide_i(c, i, &d);
    differ += d.kind != first[2 * i + 1].kind || d.delay_ms != first[2 * i + 1].delay_ms;
  }
  ASSERT_GT(differ, 100);
  ac__faults_free(a);
  ac__faults_free(b);
  ac__faults_free(c);
}

/* Over many keys the shares come out as configured (within 5 standard
 * deviations: deterministic, so this is a check of the cumulative logic,
 * not a statistical gamble). */
TEST_IMPL(faults_shares_match_the_configuration) {
  const double p[4] = {0.02, 0.01, 0.01, 0.01};
  const unsigned n = 200000;
  struct ac__faults *f = make(9, p[0], p[1], p[2], p[3], 0);
  struct ac__fault d;
  uint64_t counts[AC__FAULT_KINDS];
  unsigned i, k;

  for (i = 0; i < n; i++) {
    decide_i(f, i, &d);
    if (d.kind == AC__FAULT_429) ASSERT_EQ(d.retry_after_s, 2);
  }
  ac__faults_counts(f, counts);
  for (k = 0; k < 4; k++) {
    double expect = p[k] * n, sigma = sqrt(n * p[k] * (1 - p[k]));
    double got = (double)counts[AC__FAULT_429 + k];
    if (fabs(got - expect) > 5 * sigma)
      AC__FAIL("%s: %.0f injected, expected %.0f +- %.0f", ac__fault_name(AC__FAULT_429 + k), got,
               expect, 5 * sigma);
  }
  ac__faults_free(f);
}

TEST_IMPL(faults_bad_json_at_most_once_per_key) {
  struct ac__faults *f = make(3, 0, 0, 0, 1.0, 0); /* every answer would be bad JSON */
  struct ac__fault d;
  unsigned i, a;
  for (i = 0; i < 100; i++) {
    decide_i(f, i, &d);
    ASSERT_EQ(d.kind, AC__FAULT_BADJSON);
    for (a = 0; a < 5; a++) {
      decide_i(f, i, &d);
      ASSERT_EQ(d.kind, AC__FAULT_NONE);
    }
  }
  ac__faults_free(f);
}

/* The three bad 200 bodies share the once-per-key rule: a key gets at most
 * one of them, on one attempt, and each appears in its share; the choice and
 * the HTML page are the same in every run with the seed. */
TEST_IMPL(faults_bad_bodies_once_per_key) {
  struct ac__faults_config c;
  struct ac__faults *f, *g;
  struct ac__fault d, e;
  uint64_t counts[AC__FAULT_KINDS];
  unsigned i, a, bad;

  ac__faults_config_init(&c);
  c.seed = 5;
  c.pbadjson = 0.2;
  c.phtml200 = 0.3;
  c.pempty200 = 0.3;
  ASSERT_OK(ac__faults_new(&c, &f));
  ASSERT_OK(ac__faults_new(&c, &g));
  for (i = 0; i < 3000; i++) {
    for (a = 0, bad = 0; a < 8; a++) {
      decide_i(f, i, &d);
      decide_i(g, i, &e);
      ASSERT_EQ(d.kind, e.kind);
      ASSERT(d.kind == AC__FAULT_NONE || ac__fault_is_body(d.kind));
      ASSERT(d.kind != AC__FAULT_RESET && d.kind != AC__FAULT_SHORT);
      if (d.kind == AC__FAULT_HTML200) ASSERT_EQ(d.variant, e.variant);
      bad += d.kind != AC__FAULT_NONE;
    }
    ASSERT_LE(bad, 1);
  }
  ac__faults_counts(f, counts);
  /* 80% per attempt until one comes: nearly every key gets one, split
   * 2:3:3 (loose bounds: the split is what is checked). */
  ASSERT_GT(counts[AC__FAULT_BADJSON], 500);
  ASSERT_GT(counts[AC__FAULT_HTML200], 850);
  ASSERT_GT(counts[AC__FAULT_EMPTY200], 850);
  ASSERT_LT(counts[AC__FAULT_BADJSON], 900);
  ASSERT_STR_EQ(ac__fault_name(AC__FAULT_HTML200), "html200");
  ASSERT_STR_EQ(ac__fault_name(AC__FAULT_EMPTY200), "empty200");
  ac__faults_free(f);
  ac__faults_free(g);
  /* With the other shares they may not add up past 1. */
  c.p429 = 0.3;
  ASSERT_ERR(ac__faults_new(&c, &f), AC_EINVAL);
}

/* A key's own draw is the same on every attempt and in every planner with
 * the seed, and differs between purposes and keys. */
TEST_IMPL(faults_key_draw_is_per_key) {
  struct ac__faults *f = make(11, 0, 0, 0, 0, 0), *g = make(11, 0, 0, 0, 0, 0);
  struct ac__fault d;
  uint64_t x = ac__faults_key_draw(f, "GET /a", 6, 1);
  decide_i(f, 1, &d);
  ASSERT_UEQ(ac__faults_key_draw(f, "GET /a", 6, 1), x);
  ASSERT_UEQ(ac__faults_key_draw(g, "GET /a", 6, 1), x);
  ASSERT(ac__faults_key_draw(f, "GET /a", 6, 2) != x);
  ASSERT(ac__faults_key_draw(f, "GET /b", 6, 1) != x);
  ac__faults_free(f);
  ac__faults_free(g);
}

TEST_IMPL(faults_overload_past_cap_does_not_count_an_attempt) {
  struct ac__faults_config c;
  struct ac__faults *f;
  struct ac__fault d;
  uint64_t counts[AC__FAULT_KINDS];

  ac__faults_config_init(&c);
  c.max_in_flight = 4;
  c.fail_first = 1;
  ASSERT_OK(ac__faults_new(&c, &f));
  ac__faults_decide(f, "k", 1, 5, &d);
  ASSERT_EQ(d.kind, AC__FAULT_OVERLOAD);
  ASSERT_EQ(d.status, 503);
  ac__faults_decide(f, "k", 1, 4, &d); /* at the cap: served, first attempt */
  ASSERT_EQ(d.kind, AC__FAULT_5XX);
  ASSERT_EQ(d.attempt, 0);
  ac__faults_decide(f, "k", 1, 1, &d);
  ASSERT_EQ(d.kind, AC__FAULT_NONE);
  ac__faults_counts(f, counts);
  ASSERT_UEQ(counts[AC__FAULT_OVERLOAD], 1);
  ASSERT_UEQ(counts[AC__FAULT_5XX], 1);
  ac__faults_free(f);
}

TEST_IMPL(faults_table_is_capped_and_untracked_keys_still_vary) {
  struct ac__faults_config c;
  struct ac__faults *f;
  struct ac__fault d;
  unsigned i, resets = 0, clean = 0;

  ac__faults_config_init(&c);
  c.max_keys = 8;
  c.fail_first = 1;
  c.preset = 0.5;
  ASSERT_OK(ac__faults_new(&c, &f));
  for (i = 0; i < 8; i++) {
    decide_i(f, i, &d);
    ASSERT_EQ(d.kind, AC__FAULT_5XX); /* tracked: first attempt fails */
  }
  /* Past the cap: answered as if seen many times, never stuck on one fate. */
  for (i = 0; i < 200; i++) {
    decide_i(f, 1000, &d);
    ASSERT_UEQ(d.attempt, UINT32_MAX);
    ASSERT(d.kind == AC__FAULT_RESET || d.kind == AC__FAULT_NONE);
    resets += d.kind == AC__FAULT_RESET;
    clean += d.kind == AC__FAULT_NONE;
  }
  ASSERT_GT(resets, 0);
  ASSERT_GT(clean, 0);
  ac__faults_free(f);
}

TEST_IMPL(faults_rejects_bad_shares) {
  struct ac__faults_config c;
  struct ac__faults *f = (struct ac__faults *)&c;
  ac__faults_config_init(&c);
  c.p429 = 1.5;
  ASSERT_ERR(ac__faults_new(&c, &f), AC_EINVAL);
  ASSERT_NULL(f);
  c.p429 = 0.6;
  c.preset = 0.6; /* sums past 1 */
  ASSERT_ERR(ac__faults_new(&c, &f), AC_EINVAL);
  c.preset = -0.1;
  ASSERT_ERR(ac__faults_new(&c, &f), AC_EINVAL);
}

TEST_IMPL(faults_pick_gone_is_deterministic_and_exact) {
  enum { N = 500 };
  static char buf[N][16];
  const char *ids[N], *reversed[N];
  unsigned char a[N], b[N], c[N];
  size_t i, picked = 0, same_as_other_seed = 0;

  for (i = 0; i < N; i++) {
    snprintf(buf[i], sizeof(buf[i]), "%zu", 1000000 + i * 7);
    ids[i] = buf[i];
    reversed[N - 1 - i] = buf[i];
  }
  ASSERT_OK(ac__faults_pick_gone(5, ids, N, 5, a));
  ASSERT_OK(ac__faults_pick_gone(5, reversed, N, 5, b));
  ASSERT_OK(ac__faults_pick_gone(6, ids, N, 5, c));
  for (i = 0; i < N; i++) {
    picked += a[i];
    ASSERT_EQ(a[i], b[N - 1 - i]); /* the ids' text decides, not their order */
    same_as_other_seed += a[i] && c[i];
  }
  ASSERT_EQ(picked, 5);
  ASSERT_LT(same_as_other_seed, 5);
  ASSERT_OK(ac__faults_pick_gone(5, ids, 3, 10, a)); /* k > n: all */
  ASSERT(a[0] && a[1] && a[2]);
}

TEST_IMPL(faults_out_of_memory) {
  struct ac__faults_config c;
  struct ac__faults *f;
  const char *ids[2] = {"1", "2"};
  unsigned char chosen[2];
  long n;
  int rc;

  ac__faults_config_init(&c);
  for (n = 1;; n++) {
    ac__alloc_fail_after(n);
    rc = ac__faults_new(&c, &f);
    ac__alloc_fail_after(0);
    if (rc == 0) break;
    ASSERT_ERR(rc, AC_ENOMEM);
    ASSERT_NULL(f);
  }
  ASSERT_GE(n, 2);
  ac__faults_free(f);
  ac__alloc_fail_after(1);
  rc = ac__faults_pick_gone(1, ids, 2, 1, chosen);
  ac__alloc_fail_after(0);
  ASSERT_ERR(rc, AC_ENOMEM);
}
