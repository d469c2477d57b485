/*
 * Helpers for the acrawl site tests: run the built binary ($ACRAWL_BIN, set
 * by CMake) as a child process on a free port, talk to it with curl, and stop
 * it. The child is the runner's (tests/runner/child.h): stopped however the
 * test ends.
 */
#ifndef AC_TESTS_SITE_PROC_H
#define AC_TESTS_SITE_PROC_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "child.h"

struct site_proc {
  struct ac_child child;
  int port;
  char dir[64];       /* a temporary directory of the test's own */
  char portfile[96];
  char log[96];       /* the child's stderr */
  char url[64];       /* "http://127.0.0.1:PORT" */
};

/* The acrawl binary; skips the test (77) when ACRAWL_BIN is not set. */
const char *site_bin(void);
/* The test's temporary directory, removed when it ends; returns its path. */
const char *site_tmpdir(void);
/* Start `acrawl site --port 0 --portfile F ARGS` (args split on spaces;
 * may be NULL), wait until it listens, fill p. Asserts on failure. With
 * valgrind non-NULL, the command is run under it (its arguments first). */
void site_start_with(struct site_proc *p, const char *args, const char *valgrind);
#define site_start(p, args) site_start_with((p), (args), NULL)
/* Send sig and wait for the child (SIGKILL after 10 s); returns its exit
 * status (128 + signal when killed by one). */
int site_stop(struct site_proc *p, int sig);

/* Run a shell command with stdout into a new buffer (free it), *status the
 * exit status, NUL-terminated, *len its length (either may be NULL). */
char *site_sh(const char *cmd, int *status, size_t *len);
/* printf-style site_sh, asserting the command exited 0. */
char *site_shf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The HTTP status curl got for url (one GET), as an int. */
int site_code(const struct site_proc *p, const char *path_and_query);
/* GET and parse the body as JSON; NULL when it does not parse. */
cJSON *site_json(const struct site_proc *p, const char *path_and_query);
/* A number field of a JSON object, asserting it is there. */
double site_num(const cJSON *obj, const char *name);

/* Read a whole file into a new buffer (free it). */
char *site_read_file(const char *path, size_t *len);

#endif
