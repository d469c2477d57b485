/*
 * The capped growable buffer: the cap to the byte, the sticky error, out of
 * memory at every growth, printf-style appends, take and reset.
 */
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "common/dynbuf.h"
#include "runner.h"

TEST_IMPL(dynbuf_add_keeps_nul_and_bytes) {
  struct ac__dynbuf b;
  ac_test_count_allocations();
  ac__dynbuf_init(&b, 1000);
  ASSERT_NULL(ac__dynbuf_ptr(&b));
  ASSERT_UEQ(ac__dynbuf_len(&b), 0);
  ASSERT_OK(ac__dynbuf_add(&b, "ab\0c", 4)); /* NULs of its own are kept */
  ASSERT_OK(ac__dynbuf_addc(&b, 'd'));
  ASSERT_OK(ac__dynbuf_adds(&b, "ef"));
  ASSERT_UEQ(ac__dynbuf_len(&b), 7);
  ASSERT(memcmp(ac__dynbuf_ptr(&b), "ab\0cdef", 8) == 0); /* and the NUL after */
  ASSERT_OK(ac__dynbuf_err(&b));
  ac__dynbuf_free(&b);
  ASSERT_NULL(ac__dynbuf_ptr(&b));
  ASSERT_EQ(ac_test_live_allocations(), 0);
}

TEST_IMPL(dynbuf_zero_length_adds) {
  struct ac__dynbuf b;
  ac_test_count_allocations();
  ac__dynbuf_init(&b, 0);
  /* Nothing to add is no error, allocates nothing, even with a cap of 0. */
  ASSERT_OK(ac__dynbuf_add(&b, NULL, 0));
  ASSERT_OK(ac__dynbuf_adds(&b, ""));
  ASSERT_NULL(ac__dynbuf_ptr(&b));
  ASSERT_EQ(ac_test_live_allocations(), 0);
  /* A single byte is over a cap of 0. */
  ASSERT_ERR(ac__dynbuf_addc(&b, 'x'), AC_ETOOLARGE);
  ac__dynbuf_free(&b);

  ac__dynbuf_init(&b, 10);
  ASSERT_OK(ac__dynbuf_adds(&b, "abc"));
  ASSERT_OK(ac__dynbuf_add(&b, "zzz", 0));
  ASSERT_UEQ(ac__dynbuf_len(&b), 3);
  ASSERT_STR_EQ(ac__dynbuf_ptr(&b), "abc");
  ac__dynbuf_free(&b);
  ASSERT_EQ(ac_test_live_allocations(), 0);
}

TEST_IMPL(dynbuf_cap_exact_and_one_over) {
  enum { CAP = 300 };
  char big[CAP + 1];
  struct ac__dynbuf b;

  memset(big, 'x', sizeof big);
  ac_test_count_allocations();
  ac__dynbuf_init(&b, CAP);
  /* Exactly the cap, grown past several doublings one byte at a time. */
  for (size_t i = 0; i < CAP; i++) ASSERT_OK(ac__dynbuf_addc(&b, 'x'));
  ASSERT_UEQ(ac__dynbuf_len(&b), CAP);
  ASSERT_UEQ(strlen(ac__dynbuf_ptr(&b)), CAP);
  /* The allocation never passes the cap and its NUL. */
  ASSERT_LE(b.allc, CAP + 1);
  ASSERT_UEQ(ac__dynbuf_spare(&b), 0);
  /* One byte more fails, frees the bytes, and the failure sticks. */
  ASSERT_ERR(ac__dynbuf_addc(&b, 'x'), AC_ETOOLARGE);
  ASSERT_NULL(ac__dynbuf_ptr(&b));
  ASSERT_UEQ(ac__dynbuf_len(&b), 0);
  ASSERT_EQ(ac_test_live_allocations(), 0);
  ac__dynbuf_free(&b);

  /* The same in one add: the cap fits, one byte over does not. */
  ac__dynbuf_init(&b, CAP);
  ASSERT_OK(ac__dynbuf_add(&b, big, CAP));
  ASSERT_UEQ(ac__dynbuf_len(&b), CAP);
  ac__dynbuf_reset(&b);
  ASSERT_ERR(ac__dynbuf_add(&b, big, CAP + 1), AC_ETOOLARGE);
  ac__dynbuf_free(&b);

  /* Over by one when the sum passes, not each part. */
  ac__dynbuf_init(&b, CAP);
  ASSERT_OK(ac__dynbuf_add(&b, big, CAP - 1));
  ASSERT_ERR(ac__dynbuf_add(&b, big, 2), AC_ETOOLARGE);
  ac__dynbuf_free(&b);

  /* A length that would wrap len + extra is over the cap too. */
  ac__dynbuf_init(&b, CAP);
  ASSERT_OK(ac__dynbuf_adds(&b, "abc"));
  ASSERT_ERR(ac__dynbuf_reserve(&b, SIZE_MAX - 1), AC_ETOOLARGE);
  ac__dynbuf_free(&b);
  ASSERT_EQ(ac_test_live_allocations(), 0);
}

TEST_IMPL(dynbuf_error_is_sticky) {
  struct ac__dynbuf b;
  ac_test_count_allocations();
  ac__dynbuf_init(&b, 8);
  ASSERT_OK(ac__dynbuf_adds(&b, "12345"));
  ASSERT_ERR(ac__dynbuf_adds(&b, "6789"), AC_ETOOLARGE);
  /* Later appends that would fit fail as well, and add nothing. */
  ASSERT_ERR(ac__dynbuf_addc(&b, 'a'), AC_ETOOLARGE);
  ASSERT_ERR(ac__dynbuf_add(&b, "", 0), AC_ETOOLARGE);
  ASSERT_ERR(ac__dynbuf_addf(&b, "%d", 1), AC_ETOOLARGE);
  ASSERT_ERR(ac__dynbuf_reserve(&b, 1), AC_ETOOLARGE);
  ASSERT_ERR(ac__dynbuf_setlen(&b, 0), AC_ETOOLARGE);
  ASSERT_ERR(ac__dynbuf_err(&b), AC_ETOOLARGE);
  ASSERT_UEQ(ac__dynbuf_len(&b), 0);
  ASSERT_NULL(ac__dynbuf_ptr(&b));
  ASSERT_EQ(ac_test_live_allocations(), 0);
  /* Reset clears it: the buffer works again, with the same cap. */
  ac__dynbuf_reset(&b);
  ASSERT_OK(ac__dynbuf_err(&b));
  ASSERT_OK(ac__dynbuf_adds(&b, "12345678"));
  ASSERT_STR_EQ(ac__dynbuf_ptr(&b), "12345678");
  ASSERT_ERR(ac__dynbuf_addc(&b, '9'), AC_ETOOLARGE);
  /* So does free. */
  ac__dynbuf_free(&b);
  ASSERT_OK(ac__dynbuf_adds(&b, "ok"));
  ac__dynbuf_free(&b);
  ASSERT_EQ(ac_test_live_allocations(), 0);
}

/* Fills a buffer to 10,000 bytes in pieces that take it through every
 * doubling, with the nth allocation failing; returns the error. */
static int fill_failing_at(long n, size_t *len_at_failure) {
  static const char piece[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  struct ac__dynbuf b;
  int rc = 0;
  ac__dynbuf_init(&b, 10000);
  ac__alloc_fail_after(n);
  while (rc == 0 && ac__dynbuf_len(&b) + sizeof piece - 1 <= 10000) {
    *len_at_failure = ac__dynbuf_len(&b);
    rc = ac__dynbuf_add(&b, piece, sizeof piece - 1);
  }
  ac__alloc_fail_after(0);
  if (rc != 0) {
    ASSERT_NULL(ac__dynbuf_ptr(&b));
    ASSERT_ERR(ac__dynbuf_adds(&b, "x"), rc);
  }
  ac__dynbuf_free(&b);
  return rc;
}

TEST_IMPL(dynbuf_oom_at_each_growth) {
  size_t at = 0, prev = 0;
  long n;
  ac_test_count_allocations();
  /* Every growth is one realloc: failing the nth fails the add that needed
   * it, later than the (n-1)th did, and leaks nothing; past the last growth
   * the fill succeeds. */
  for (n = 1; n < 100; n++) {
    int rc = fill_failing_at(n, &at);
    ASSERT_EQ(ac_test_live_allocations(), 0);
    if (rc == 0) break;
    ASSERT_ERR(rc, AC_ENOMEM);
    if (n > 1) ASSERT_GT(at, prev);
    prev = at;
  }
  /* 64 doubled to 8,192, then the cap's 10,001: nine allocations, each of
   * which failed once. */
  ASSERT_EQ(n, 10);
}

TEST_IMPL(dynbuf_addf_short_and_long) {
  struct ac__dynbuf b;
  char want[5001];
  ac_test_count_allocations();
  ac__dynbuf_init(&b, 100000);
  ASSERT_OK(ac__dynbuf_addf(&b, "%s=%d;", "a", 42));
  ASSERT_OK(ac__dynbuf_addf(&b, "%s", ""));
  ASSERT_STR_EQ(ac__dynbuf_ptr(&b), "a=42;");
  /* An output far longer than the room left: formatted again after growing. */
  memset(want, 'q', 5000);
  want[5000] = '\0';
  ASSERT_OK(ac__dynbuf_addf(&b, "[%s]%zu", want, (size_t)7));
  ASSERT_UEQ(ac__dynbuf_len(&b), 5 + 1 + 5000 + 1 + 1);
  ASSERT(memcmp(ac__dynbuf_ptr(&b), "a=42;[qqq", 9) == 0);
  ASSERT_STR_EQ(ac__dynbuf_ptr(&b) + 5 + 1 + 5000, "]7");
  /* Exactly filling the room left, then one more, at the NUL's edge. */
  ac__dynbuf_reset(&b);
  size_t room = ac__dynbuf_spare(&b);
  ASSERT_OK(ac__dynbuf_addf(&b, "%*s", (int)room, ""));
  ASSERT_UEQ(ac__dynbuf_len(&b), room);
  ASSERT_UEQ(ac__dynbuf_spare(&b), 0);
  ASSERT_OK(ac__dynbuf_addf(&b, "%c", 'z'));
  ASSERT_UEQ(ac__dynbuf_len(&b), room + 1);
  ASSERT_UEQ(strlen(ac__dynbuf_ptr(&b)), room + 1);
  ASSERT_EQ(ac__dynbuf_ptr(&b)[room], 'z');
  ac__dynbuf_free(&b);

  /* Over the cap: the formatted length counts, and the error sticks. */
  ac__dynbuf_init(&b, 10);
  ASSERT_OK(ac__dynbuf_addf(&b, "%05d", 7));
  ASSERT_ERR(ac__dynbuf_addf(&b, "%06d", 7), AC_ETOOLARGE);
  ASSERT_ERR(ac__dynbuf_adds(&b, "x"), AC_ETOOLARGE);
  ac__dynbuf_free(&b);
  /* Out of memory when a long output needs the buffer to grow. */
  ac__dynbuf_init(&b, 100000);
  ASSERT_OK(ac__dynbuf_adds(&b, "x"));
  ac__alloc_fail_after(1);
  ASSERT_ERR(ac__dynbuf_addf(&b, "%s", want), AC_ENOMEM);
  ac__alloc_fail_after(0);
  ASSERT_NULL(ac__dynbuf_ptr(&b));
  ac__dynbuf_free(&b);
  ASSERT_EQ(ac_test_live_allocations(), 0);
}

TEST_IMPL(dynbuf_take_and_reset) {
  struct ac__dynbuf b;
  size_t len = 99;
  char *p;
  ac_test_count_allocations();
  ac__dynbuf_init(&b, 100);
  /* Nothing allocated: nothing to take; reserving nothing allocates "". */
  ASSERT_NULL(ac__dynbuf_take(&b, &len));
  ASSERT_UEQ(len, 0);
  ASSERT_OK(ac__dynbuf_reserve(&b, 0));
  p = ac__dynbuf_take(&b, &len);
  ASSERT_STR_EQ(p, "");
  ASSERT_UEQ(len, 0);
  ac__free(p);
  ASSERT_OK(ac__dynbuf_adds(&b, "hello"));
  p = ac__dynbuf_take(&b, &len);
  ASSERT_STR_EQ(p, "hello");
  ASSERT_UEQ(len, 5);
  /* The buffer is empty and usable; the bytes are the caller's. */
  ASSERT_NULL(ac__dynbuf_ptr(&b));
  ASSERT_UEQ(ac__dynbuf_len(&b), 0);
  ASSERT_OK(ac__dynbuf_adds(&b, "again"));
  ASSERT_EQ(ac_test_live_allocations(), 2);
  ac__free(p);

  /* Reset keeps the memory: the next append reuses it. */
  char *before = ac__dynbuf_ptr(&b);
  ac__dynbuf_reset(&b);
  ASSERT_UEQ(ac__dynbuf_len(&b), 0);
  ASSERT_STR_EQ(ac__dynbuf_ptr(&b), "");
  ASSERT_OK(ac__dynbuf_adds(&b, "xy"));
  ASSERT_PTR_EQ(ac__dynbuf_ptr(&b), before);
  ASSERT_STR_EQ(ac__dynbuf_ptr(&b), "xy");
  ac__dynbuf_free(&b);
  ASSERT_EQ(ac_test_live_allocations(), 0);
}

TEST_IMPL(dynbuf_reserve_and_setlen) {
  struct ac__dynbuf b;
  ac_test_count_allocations();
  ac__dynbuf_init(&b, 100);
  ASSERT_UEQ(ac__dynbuf_spare(&b), 0);
  ASSERT_OK(ac__dynbuf_setlen(&b, 0));
  ASSERT_ERR(ac__dynbuf_setlen(&b, 1), AC_EINVAL);
  /* A caller writes into the tail itself (as a socket read would). */
  ASSERT_OK(ac__dynbuf_reserve(&b, 10));
  ASSERT_STR_EQ(ac__dynbuf_ptr(&b), ""); /* a first allocation holds "" */
  ASSERT_GE(ac__dynbuf_spare(&b), 10);
  memcpy(ac__dynbuf_ptr(&b), "0123456789", 10);
  ASSERT_OK(ac__dynbuf_setlen(&b, 10));
  ASSERT_STR_EQ(ac__dynbuf_ptr(&b), "0123456789");
  /* Past the room is refused, and not sticky; shortening is fine. */
  ASSERT_ERR(ac__dynbuf_setlen(&b, 10 + ac__dynbuf_spare(&b) + 1), AC_EINVAL);
  ASSERT_OK(ac__dynbuf_err(&b));
  ASSERT_OK(ac__dynbuf_setlen(&b, 4));
  ASSERT_STR_EQ(ac__dynbuf_ptr(&b), "0123");
  /* The spare room never reaches past the cap. */
  ASSERT_OK(ac__dynbuf_reserve(&b, 96));
  ASSERT_UEQ(ac__dynbuf_len(&b) + ac__dynbuf_spare(&b), 100);
  ASSERT_ERR(ac__dynbuf_reserve(&b, 97), AC_ETOOLARGE);
  ac__dynbuf_free(&b);
  ASSERT_EQ(ac_test_live_allocations(), 0);
}
