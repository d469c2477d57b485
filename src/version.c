/*
 * What this build of libacrawl is: it describes every layer, so it sits above
 * them all.
 */
#include "acrawl.h"
#include "runtime/coro.h"

#include <stdio.h>

const char *ac_version(void) { return AC_VERSION_STRING; }

const char *ac_version_info(void) {
  static char info[128];
  if (info[0] == '\0')
    snprintf(info, sizeof(info), "acrawl %s (coroutines: %s)", AC_VERSION_STRING,
             ac__coro_backend());
  return info;
}
