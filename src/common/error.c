/*
 * ac_strerror and ac_err_name, generated from AC_ERRNO_MAP.
 */
#include <string.h>

#include "acrawl.h"

const char *ac_strerror(int err) {
  switch (err) {
  case 0: return "success";
#define AC__ERR_MSG(name, val, msg) case AC_##name: return msg;
    AC_ERRNO_MAP(AC__ERR_MSG)
#undef AC__ERR_MSG
  default: break;
  }
  /* A system error acrawl has no name for (a libuv status passed through). */
  if (err < 0 && err > -4096) return strerror(-err);
  return "unknown error";
}

const char *ac_err_name(int err) {
  switch (err) {
  case 0: return "OK";
#define AC__ERR_NAME(name, val, msg) case AC_##name: return "AC_" #name;
    AC_ERRNO_MAP(AC__ERR_NAME)
#undef AC__ERR_NAME
  default: return "AC_EUNKNOWN";
  }
}
