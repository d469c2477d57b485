/*
 * acrawl: an asynchronous crawler toolkit in C.
 *
 * The umbrella header: version, errors, allocation, and every layer's public
 * API. Include this, or one layer's header from acrawl/.
 */
#ifndef ACRAWL_H
#define ACRAWL_H

#include <stddef.h>

#include "acrawl/export.h"
#include "acrawl/alloc.h"
#include "acrawl/errno.h"
#include "acrawl/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The library's version string ("0.1.0"); may differ from AC_VERSION_STRING
 * when a program runs against a newer shared library. Static. */
AC_EXTERN const char *ac_version(void);

/** What this build contains (coroutine backend, optional parts), one line. Static. */
AC_EXTERN const char *ac_version_info(void);

#ifdef __cplusplus
}
#endif

#include "acrawl/runtime.h"
#include "acrawl/http.h"
#include "acrawl/server.h"
#include "acrawl/store.h"
#include "acrawl/crawl.h"
#include "acrawl/spec.h"

#endif /* ACRAWL_H */
