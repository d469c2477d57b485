/*
 * A server for a test, run as a child process: started, waited for until it
 * accepts a connection on 127.0.0.1, and stopped. The one way the tests run
 * nginx, httpbin (gunicorn), `acrawl site` and the MongoDB stand-in.
 *
 * No child outlives its test. Whatever way the test ends (it returns, it
 * exits 77, an ASSERT aborts, it crashes, SIGTERM or SIGINT), every child
 * still running gets SIGTERM, then SIGKILL if it has not exited within 3 s,
 * and is reaped; then the directories of ac_test_tmpdir() are removed. A
 * runner that is SIGKILLed (ctest's timeout) takes its children with it
 * (PR_SET_PDEATHSIG). Each child leads a process group of its own, and the
 * signals go to the group, so a server's own workers (gunicorn's) go too.
 *
 * Start children from the test's main thread: the kernel's "parent died"
 * is the death of the thread that forked.
 */
#ifndef AC_TESTS_CHILD_H
#define AC_TESTS_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct ac_child_opts {
  const char *what;    /* a name for messages ("nginx") */
  char *const *argv;   /* NULL-terminated; argv[0] is a path, or a name
                          looked up in PATH, then in the sbin directories */
  const char *missing; /* argv[0] not found: the test skips (77), saying
                          "WHAT not found (MISSING)": how to install it */
  char *const *env;    /* NAME=VALUE added to the child's environment,
                          NULL-terminated; NULL: none */
  const char *cwd;     /* the child's directory; NULL: the runner's */
  const char *log;     /* the child's stdout and stderr are appended to this
                          file, whose tail a failure shows; NULL: inherited */
  /* How the port is learnt: the server writes it to portfile once it
   * listens (acrawl site, the stand-in), or it was picked beforehand
   * (ac_test_free_port()) and is on the command line (nginx, gunicorn). */
  const char *portfile;
  int port;
  double timeout_s; /* to listen; 0: 20 s; times ac_test_time_multiplier() */
};

struct ac_child {
  pid_t pid;  /* 0 when not running */
  int port;   /* where it listens on 127.0.0.1 */
  int status; /* once stopped: its exit code, or 128 + the signal that killed it */
  char what[64];
  char log[256];
};

/* Start the child and return once it accepts a connection on 127.0.0.1.
 * The test skips (77) when argv[0] is not found; it fails when the child
 * exits first (with its exit status and the tail of its log) or does not
 * listen in time. */
void ac_child_start(struct ac_child *c, const struct ac_child_opts *o);

/* Send sig to the child (its group), wait up to 10 s (times the
 * multiplier), then SIGKILL; always reaped. Returns c->status. Calling it
 * again, or on a child never started, returns c->status and does nothing. */
int ac_child_stop(struct ac_child *c, int sig);

/* A program's path: in PATH, then /usr/local/sbin, /usr/sbin, /sbin. NULL
 * when nowhere. */
const char *ac_child_find(const char *name, char *buf, size_t size);

/* A port on 127.0.0.1 that nothing listens on (bound, then closed). */
int ac_test_free_port(void);

/* A new directory /tmp/PREFIX.XXXXXX, removed with everything in it when
 * the test ends, after the children have been stopped. The returned string
 * lives as long as the test. */
const char *ac_test_tmpdir(const char *prefix);

/* Print "skip: ..." and end the test with 77, ctest's "skipped". */
void ac_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* AC_TESTS_CHILD_H */
