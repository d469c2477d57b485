/*
 * The mongodb:// backend as the library sees it: the first open loads the
 * MongoDB module (mongo_module.h explains why it is a module), and every
 * call goes on to the module's backend. Opens run on worker threads, so the
 * load (libmongoc and its dependencies: 5-20 ms) never blocks the loop, and
 * pthread_once makes it happen once per process. The module stays loaded
 * until exit: libmongoc's cleanup runs from an atexit handler inside it.
 *
 * Where the module is looked for, first found wins:
 *   $ACRAWL_MODULE_DIR (when set, the only place looked at);
 *   the running program's directory and its parent (the build tree:
 *   build/acrawl, build/tests/ac_tests, build/bench/...), and LIBDIR/acrawl
 *   beside the program's bin/ (an install moved elsewhere);
 *   beside the libacrawl.so this code is in, or in acrawl/ there;
 *   AC_MODULE_INSTALL_DIR, where `make install` puts it.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acrawl/errno.h"
#include "acrawl/version.h"
#include "common/alloc.h"
#include "store/mongo_module.h"

#ifndef AC_MODULE_INSTALL_DIR
#define AC_MODULE_INSTALL_DIR "/usr/local/lib/acrawl"
#endif
#ifndef AC_MODULE_LIBDIR
#define AC_MODULE_LIBDIR "lib"
#endif

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const ac__store_backend_t *impl;
static char load_error[2 * PATH_MAX + 512];

/* Append dir to list (for the error message) and try it. Returns 1 when the
 * search is over: the module was there (loaded, or failed to load). */
static int try_dir(const char *dir, char *tried, size_t tried_len) {
  char path[PATH_MAX];
  void *h;
  ac__mongo_module_fn entry;
  static const ac__mongo_host_t host = {AC_VERSION_STRING, sizeof(ac__mongo_host_t),
                                        ac__malloc,         ac__calloc,
                                        ac__realloc,        ac__free,
                                        ac__strdup};
  size_t used = strlen(tried);
  snprintf(tried + used, tried_len - used, "%s%s", used ? ", " : "", dir);
  if (snprintf(path, sizeof(path), "%s/%s", dir, AC__MONGO_MODULE_FILE) >= (int)sizeof(path) ||
      access(path, F_OK) != 0)
    return 0;
  h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(load_error, sizeof(load_error), "cannot load the MongoDB module: %s", dlerror());
    return 1;
  }
  /* dlsym returns a data pointer; POSIX guarantees it converts. */
  *(void **)&entry = dlsym(h, AC__MONGO_MODULE_ENTRY);
  if (entry == NULL) {
    snprintf(load_error, sizeof(load_error), "%s is not acrawl's MongoDB module (no %s)", path,
             AC__MONGO_MODULE_ENTRY);
    return 1;
  }
  impl = entry(&host);
  if (impl == NULL)
    snprintf(load_error, sizeof(load_error),
             "%s is from another build of acrawl (this one is %s): reinstall both", path,
             AC_VERSION_STRING);
  return 1;
}

/* dir of path (cut at its last '/'), into out; 0 if there is none. */
static int dir_of(const char *path, char *out, size_t outlen) {
  const char *slash = strrchr(path, '/');
  size_t n;
  if (slash == NULL) return 0;
  n = slash == path ? 1 : (size_t)(slash - path);
  if (n >= outlen) return 0;
  memcpy(out, path, n);
  out[n] = '\0';
  return 1;
}

static void load(void) {
  char tried[PATH_MAX] = "", self_exe[PATH_MAX] = "", exe[PATH_MAX], dir[PATH_MAX],
       cand[PATH_MAX + 64];
  const char *env = getenv("ACRAWL_MODULE_DIR");
  Dl_info self;
  ssize_t n;

  if (env != NULL && env[0] != '\0') {
    if (!try_dir(env, tried, sizeof(tried)))
      snprintf(load_error, sizeof(load_error),
               "the MongoDB store needs its module %s, which is not in ACRAWL_MODULE_DIR (%s)",
               AC__MONGO_MODULE_FILE, env);
    return;
  }
  /* The program's directory, its parent, and LIBDIR/acrawl beside its bin/. */
  n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = '\0';
    memcpy(self_exe, exe, (size_t)n + 1);
    if (dir_of(exe, dir, sizeof(dir))) {
      if (try_dir(dir, tried, sizeof(tried))) return;
      if (dir_of(dir, exe, sizeof(exe))) {
        if (try_dir(exe, tried, sizeof(tried))) return;
        snprintf(cand, sizeof(cand), "%s/%s/acrawl", exe, AC_MODULE_LIBDIR);
        if (try_dir(cand, tried, sizeof(tried))) return;
      }
    }
  }
  /* LIBDIR/acrawl beside the library this loader is part of (libacrawl.so
   * used by another program, wherever it was installed); not when the
   * loader is linked into the program itself (libacrawl.a). */
  if (dladdr((void *)&ac__store_mongo, &self) != 0 && self.dli_fname != NULL &&
      realpath(self.dli_fname, exe) != NULL && strcmp(exe, self_exe) != 0 &&
      dir_of(exe, dir, sizeof(dir))) {
    if (try_dir(dir, tried, sizeof(tried))) return; /* the build tree keeps them together */
    snprintf(cand, sizeof(cand), "%s/acrawl", dir);
    if (try_dir(cand, tried, sizeof(tried))) return;
  }
  if (try_dir(AC_MODULE_INSTALL_DIR, tried, sizeof(tried))) return;
  snprintf(load_error, sizeof(load_error),
           "the MongoDB store needs its module %s, found in none of: %s "
           "(install acrawl, or set ACRAWL_MODULE_DIR to the module's directory)",
           AC__MONGO_MODULE_FILE, tried);
}

static int load_open(const ac__store_target_t *t, void **be, char *err, size_t errlen) {
  pthread_once(&load_once, load);
  if (impl == NULL) {
    ac__store_errf(err, errlen, "%s", load_error);
    return AC_ESTORE;
  }
  return impl->open(t, be, err, errlen);
}

/* Only ever called on a backend that opened, so impl is set. */
static int fwd_write(void *be, const ac__store_doc_t *docs, size_t n, uint64_t *skipped,
                     int *transient, char *err, size_t errlen) {
  return impl->write(be, docs, n, skipped, transient, err, errlen);
}

static int fwd_close(void *be, char *err, size_t errlen) { return impl->close(be, err, errlen); }

const ac__store_backend_t ac__store_mongo = {
    "mongodb", ac__mongo_uri_match, load_open, fwd_write, fwd_close,
    NULL,      NULL,                NULL, /* no reading back (store.h) */
};
