/*
 * acrawl error codes.
 *
 * Every fallible acrawl function returns an int: 0 on success, a negative AC_E*
 * code on failure. Codes that have a POSIX twin are -errno (so a libuv status,
 * which is also -errno on Unix, passes through unchanged); acrawl's own codes
 * live below AC__EBASE. One table, AC_ERRNO_MAP, gives every code its name and
 * message: ac_strerror() and ac_err_name() are generated from it.
 */
#ifndef ACRAWL_ERRNO_H
#define ACRAWL_ERRNO_H

#include <errno.h>

#include "acrawl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AC__EBASE (-30000)

/* XX(name, value, message) */
#define AC_ERRNO_MAP(XX)                                                        \
  XX(ENOMEM, -ENOMEM, "out of memory")                                          \
  XX(EINVAL, -EINVAL, "invalid argument")                                       \
  XX(ECANCELED, -ECANCELED, "operation canceled")                               \
  XX(ETIMEDOUT, -ETIMEDOUT, "timed out")                                        \
  XX(EAGAIN, -EAGAIN, "resource temporarily unavailable")                       \
  XX(EBUSY, -EBUSY, "resource busy")                                            \
  XX(EPERM, -EPERM, "operation not permitted here")                             \
  XX(ENOENT, -ENOENT, "no such file or directory")                              \
  XX(EEXIST, -EEXIST, "already exists")                                         \
  XX(EIO, -EIO, "i/o error")                                                    \
  XX(EPIPE, -EPIPE, "broken pipe")                                              \
  XX(ENOSYS, -ENOSYS, "function not implemented")                               \
  XX(EDEADLK, -EDEADLK, "deadlock: nothing left that could complete the wait")  \
  XX(ECONNREFUSED, -ECONNREFUSED, "connection refused")                         \
  XX(ECONNRESET, -ECONNRESET, "connection reset by peer")                       \
  XX(EADDRINUSE, -EADDRINUSE, "address already in use")                         \
  XX(EMFILE, -EMFILE, "too many open files")                                    \
  XX(ECLOSED, AC__EBASE - 1, "closed")                                          \
  XX(EINPROGRESS, AC__EBASE - 2, "not done yet")                                \
  XX(ENOTASK, AC__EBASE - 3, "must be called from inside a task")               \
  XX(EFAILED, AC__EBASE - 4, "task failed")                                     \
  XX(EEOF, AC__EBASE - 5, "end of sequence")                                    \
  XX(ETOOLARGE, AC__EBASE - 6, "size over the configured limit")               \
  XX(EDNS, AC__EBASE - 7, "host name could not be resolved")                    \
  XX(ETLS, AC__EBASE - 8, "tls error")                                          \
  XX(EPROTO, AC__EBASE - 9, "protocol error")                                   \
  XX(EHTTPSTATUS, AC__EBASE - 10, "unexpected http status")                     \
  XX(EPARSE, AC__EBASE - 11, "malformed input")                                 \
  XX(ESHORT, AC__EBASE - 12, "body shorter than announced")                     \
  XX(EREDIRECT, AC__EBASE - 13, "too many redirects")                           \
  XX(ESTORE, AC__EBASE - 14, "store error")                                     \
  XX(EUNKNOWN, AC__EBASE - 99, "unknown error")

typedef enum {
#define AC__ERR_ENUM(name, val, msg) AC_##name = (val),
  AC_ERRNO_MAP(AC__ERR_ENUM)
#undef AC__ERR_ENUM
} ac_errno_t;

/**
 * The message for an error code. Never NULL; for a code outside the table it
 * returns a static "unknown error" string (system codes get strerror's text).
 * The string is static: do not free it.
 */
AC_EXTERN const char *ac_strerror(int err);

/** The symbolic name ("AC_ETIMEDOUT") of an error code, "OK" for 0, or
 * "AC_EUNKNOWN" for a code outside the table. Static. */
AC_EXTERN const char *ac_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif /* ACRAWL_ERRNO_H */
