/*
 * The capped growable buffer (see dynbuf.h).
 */
#include "common/dynbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"

/* The first allocation: small enough for a header line, big enough that a
 * short string does not realloc at once. */
#define MIN_FIRST_ALLOC 64

void ac__dynbuf_init(struct ac__dynbuf *s, size_t toobig) {
  s->bufr = NULL;
  s->leng = 0;
  s->allc = 0;
  /* One byte stays for the NUL, so toobig + 1 must not wrap. */
  s->toobig = toobig < SIZE_MAX ? toobig : SIZE_MAX - 1;
  s->err = 0;
}

void ac__dynbuf_free(struct ac__dynbuf *s) {
  ac__free(s->bufr);
  s->bufr = NULL;
  s->leng = 0;
  s->allc = 0;
  s->err = 0;
}

void ac__dynbuf_reset(struct ac__dynbuf *s) {
  s->leng = 0;
  s->err = 0;
  if (s->bufr != NULL) s->bufr[0] = '\0';
}

/* The sticky failure: the bytes go, the error stays until reset or free. */
static int fail(struct ac__dynbuf *s, int err) {
  ac__free(s->bufr);
  s->bufr = NULL;
  s->leng = 0;
  s->allc = 0;
  s->err = err;
  return err;
}

int ac__dynbuf_reserve(struct ac__dynbuf *s, size_t extra) {
  size_t need, a;
  char *p;

  if (s->err != 0) return s->err;
  if (extra > s->toobig - s->leng) return fail(s, AC_ETOOLARGE);
  need = s->leng + extra + 1; /* the NUL's byte included */
  if (need <= s->allc) return 0;
  /* Doubling keeps appends amortised O(1); the cap bounds the doubling. */
  a = s->allc != 0 ? s->allc : MIN_FIRST_ALLOC;
  while (a < need) a = a > (s->toobig + 1) / 2 ? s->toobig + 1 : a * 2;
  if (a > s->toobig + 1) a = s->toobig + 1;
  p = ac__realloc(s->bufr, a);
  if (p == NULL) return fail(s, AC_ENOMEM);
  p[s->leng] = '\0'; /* a first allocation holds "" */
  s->bufr = p;
  s->allc = a;
  return 0;
}

int ac__dynbuf_add(struct ac__dynbuf *s, const void *mem, size_t len) {
  int rc;
  if (len == 0) return s->err; /* allocates nothing */
  rc = ac__dynbuf_reserve(s, len);
  if (rc != 0) return rc;
  memcpy(s->bufr + s->leng, mem, len);
  s->leng += len;
  s->bufr[s->leng] = '\0';
  return 0;
}

int ac__dynbuf_addc(struct ac__dynbuf *s, char c) {
  /* The common case, room already there, skips the reserve call. */
  if (s->err == 0 && s->leng + 1 < s->allc) {
    s->bufr[s->leng++] = c;
    s->bufr[s->leng] = '\0';
    return 0;
  }
  return ac__dynbuf_add(s, &c, 1);
}

int ac__dynbuf_adds(struct ac__dynbuf *s, const char *str) {
  return ac__dynbuf_add(s, str, strlen(str));
}

int ac__dynbuf_vaddf(struct ac__dynbuf *s, const char *fmt, va_list ap) {
  va_list again;
  size_t room;
  int n, rc;

  if (s->err != 0) return s->err;
  /* Most outputs fit in the room already there: format once into it and
   * only when it does not, grow to the size vsnprintf reported and again. */
  room = s->bufr != NULL ? s->allc - s->leng : 0;
  va_copy(again, ap);
  n = vsnprintf(s->bufr != NULL ? s->bufr + s->leng : NULL, room, fmt, ap);
  if (n < 0) {
    va_end(again);
    return fail(s, AC_EINVAL);
  }
  if ((size_t)n < room) {
    va_end(again);
    s->leng += (size_t)n;
    return 0;
  }
  rc = ac__dynbuf_reserve(s, (size_t)n);
  if (rc == 0) {
    vsnprintf(s->bufr + s->leng, (size_t)n + 1, fmt, again);
    s->leng += (size_t)n;
  }
  va_end(again);
  return rc;
}

int ac__dynbuf_addf(struct ac__dynbuf *s, const char *fmt, ...) {
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = ac__dynbuf_vaddf(s, fmt, ap);
  va_end(ap);
  return rc;
}

size_t ac__dynbuf_spare(const struct ac__dynbuf *s) {
  return s->bufr != NULL ? s->allc - s->leng - 1 : 0;
}

int ac__dynbuf_setlen(struct ac__dynbuf *s, size_t len) {
  if (s->err != 0) return s->err;
  if (len > s->leng + ac__dynbuf_spare(s)) return AC_EINVAL;
  if (s->bufr == NULL) return 0; /* len is 0 */
  s->leng = len;
  s->bufr[len] = '\0';
  return 0;
}

char *ac__dynbuf_ptr(const struct ac__dynbuf *s) { return s->bufr; }

size_t ac__dynbuf_len(const struct ac__dynbuf *s) { return s->leng; }

int ac__dynbuf_err(const struct ac__dynbuf *s) { return s->err; }

char *ac__dynbuf_take(struct ac__dynbuf *s, size_t *len) {
  char *p = s->bufr;
  if (len != NULL) *len = s->leng;
  s->bufr = NULL;
  s->leng = 0;
  s->allc = 0;
  s->err = 0;
  return p;
}
