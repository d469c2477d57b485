/*
 * Room for many descriptors, made before it is needed.
 *
 * Linux keeps a process's descriptors in a table that doubles when an fd
 * past its end is opened (64, 256, 512, ... entries). In a process with more
 * than one thread each doubling waits for an RCU grace period
 * (expand_fdtable -> synchronize_rcu) with the opening thread asleep: 10 to
 * 16 ms each on the test VM. A loop that opens 10,000 sockets went through
 * six of them, 60-100 ms in which it started no request. Opening one
 * descriptor at the far end grows the table once, at a time the caller
 * chooses; before the first thread exists it costs no grace period at all.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "acrawl/errno.h"
#include "acrawl/runtime.h"

int ac_reserve_fds(size_t n, size_t *available) {
  struct rlimit rl;
  rlim_t want = (rlim_t)n;
  int probe, far, rc = 0;

  if (available != NULL) *available = 0;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return AC_EIO;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    struct rlimit up = rl;
    up.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &up) == 0) rl = up;
    if (rl.rlim_cur < want) rc = AC_EMFILE; /* the hard limit is lower: use what there is */
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) want = rl.rlim_cur;
  if (available != NULL) *available = (size_t)want;
  if (want < 2 || want > (rlim_t)0x7fffffff) return rc;

  /* The lowest free fd at or above want - 1: the table grows to hold it (the
   * kernel never shrinks it back when both are closed). */
  probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (probe < 0) return rc != 0 ? rc : AC_EIO;
  far = probe >= (int)(want - 1) ? -1 : fcntl(probe, F_DUPFD_CLOEXEC, (int)(want - 1));
  if (far >= 0) close(far);
  close(probe);
  return rc;
}
