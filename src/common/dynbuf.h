/*
 * A growable byte buffer with a cap, after curl's dynbuf (lib/dynbuf.h).
 *
 * The cap (`toobig`) is fixed at init: the buffer never holds more than that
 * many bytes, so no peer can make it grow without bound. Storage grows by
 * doubling and always keeps a NUL after the last byte, so the contents can
 * be read as a C string (they may also hold NULs of their own).
 *
 * Errors are sticky: the first append that fails, over the cap (AC_ETOOLARGE)
 * or out of memory (AC_ENOMEM), frees the bytes, and every later append
 * returns that same error without doing anything. A writer can so append a
 * whole document and check once at the end (ac__dynbuf_err). Reset and free
 * clear the error.
 */
#ifndef AC_COMMON_DYNBUF_H
#define AC_COMMON_DYNBUF_H

#include <stdarg.h>
#include <stddef.h>

struct ac__dynbuf {
  char *bufr;    /* NULL until the first byte; then NUL-terminated */
  size_t leng;   /* bytes held, the NUL not counted */
  size_t allc;   /* bytes allocated, the NUL's included */
  size_t toobig; /* the most bytes the buffer may hold */
  int err;       /* 0, or the first failure (AC_ETOOLARGE, AC_ENOMEM) */
};

/* An empty buffer that will hold at most `toobig` bytes; allocates nothing. */
void ac__dynbuf_init(struct ac__dynbuf *s, size_t toobig);
/* Frees the bytes and clears the error; the buffer can be used again. */
void ac__dynbuf_free(struct ac__dynbuf *s);
/* Empties the buffer and clears the error but keeps its memory for reuse. */
void ac__dynbuf_reset(struct ac__dynbuf *s);

/* Appends; each returns 0, or the sticky error (see above). */
int ac__dynbuf_add(struct ac__dynbuf *s, const void *mem, size_t len);
int ac__dynbuf_addc(struct ac__dynbuf *s, char c);
int ac__dynbuf_adds(struct ac__dynbuf *s, const char *str);
int ac__dynbuf_addf(struct ac__dynbuf *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ac__dynbuf_vaddf(struct ac__dynbuf *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Makes room for `extra` more bytes without adding them, for a caller that
 * writes into the tail itself (a socket read) and then calls
 * ac__dynbuf_setlen. Returns 0 or the sticky error; failing frees the bytes
 * like a failed append. ac__dynbuf_reserve(s, 0) on an empty buffer
 * allocates it, so that ac__dynbuf_take hands over "" rather than NULL.
 */
int ac__dynbuf_reserve(struct ac__dynbuf *s, size_t extra);
/* Room left in the allocation past the bytes held, the NUL's byte excluded. */
size_t ac__dynbuf_spare(const struct ac__dynbuf *s);
/* Sets the length to `len`, at most the bytes held plus the spare room
 * (AC_EINVAL past it), and writes the NUL after it. Shortening is allowed. */
int ac__dynbuf_setlen(struct ac__dynbuf *s, size_t len);

/* The bytes, NUL-terminated; NULL while nothing has been allocated (never
 * added to, freed, or failed). */
char *ac__dynbuf_ptr(const struct ac__dynbuf *s);
size_t ac__dynbuf_len(const struct ac__dynbuf *s);
/* 0, or the sticky error. */
int ac__dynbuf_err(const struct ac__dynbuf *s);

/*
 * Hands the bytes (NUL-terminated) to the caller, who frees them with
 * ac__free, and leaves the buffer empty as ac__dynbuf_free does; *len gets
 * their length if len is not NULL. Returns NULL if the buffer holds no
 * allocation (nothing was ever added, or an append failed).
 */
char *ac__dynbuf_take(struct ac__dynbuf *s, size_t *len);

#endif /* AC_COMMON_DYNBUF_H */
