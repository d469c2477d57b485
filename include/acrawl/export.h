/* Symbol visibility: the library is built with -fvisibility=hidden and only
 * AC_EXTERN declarations are exported from the shared object. */
#ifndef ACRAWL_EXPORT_H
#define ACRAWL_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define AC_EXTERN __attribute__((visibility("default")))
#else
#define AC_EXTERN
#endif

#endif /* ACRAWL_EXPORT_H */
