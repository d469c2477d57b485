/* The backends' error formatting, in its own file: the MongoDB module
 * (mongo_module.h) compiles it too. */
#include <stdarg.h>
#include <stdio.h>

#include "store/internal.h"

void ac__store_errf(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (err == NULL || errlen == 0) return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}
