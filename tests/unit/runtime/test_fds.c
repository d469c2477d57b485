/*
 * ac_reserve_fds: the soft limit is raised to what was asked, the kernel's
 * descriptor table is grown to hold it (FDSize in /proc/self/status: the
 * table's size, which only grows when a descriptor past its end is opened),
 * no descriptor is left open behind, and a request past the hard limit gets
 * what there is and AC_EMFILE.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acrawl.h"
#include "runner.h"

/* The descriptor table's size, or -1 where /proc does not say. */
static void skip(const char *why) {
  printf("skip: %s\n", why);
  exit(77);
}

static long fd_table_size(void) {
  char line[256];
  long n = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  while (fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "FDSize: %ld", &n) == 1) break;
  fclose(f);
  return n;
}

static int open_fd_count(void) {
  int n = 0;
  struct dirent *e;
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return -1;
  while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
  closedir(d);
  return n - 1; /* the directory's own */
}

TEST_IMPL(reserve_fds_grows_the_table_and_the_limit) {
  struct rlimit rl;
  size_t want, avail = 0;
  long before, after;
  int open_before;
  int rc;

  ASSERT_OK(getrlimit(RLIMIT_NOFILE, &rl));
  want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 3000 ? 3000 : (size_t)rl.rlim_max;
  if (want < 600 || (before = fd_table_size()) < 0) skip("a low hard limit, or no FDSize");
  if ((size_t)before >= want) skip("the table is already that large (valgrind's own files)");
  open_before = open_fd_count();

  rc = ac_reserve_fds(want, &avail);
  if (rc == AC_EMFILE) skip("the limit cannot be raised here (valgrind keeps its own)");
  ASSERT_OK(rc);
  ASSERT_UEQ(avail, want);
  ASSERT_OK(getrlimit(RLIMIT_NOFILE, &rl));
  ASSERT(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want);
  after = fd_table_size();
  ASSERT_GE(after, (long)want);
  ASSERT_EQ(open_fd_count(), open_before);

  /* Asking for less never shrinks anything. */
  ASSERT_OK(ac_reserve_fds(16, &avail));
  ASSERT_UEQ(avail, 16);
  ASSERT_EQ(fd_table_size(), after);
  ASSERT_OK(getrlimit(RLIMIT_NOFILE, &rl));
  ASSERT(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want);
}

TEST_IMPL(reserve_fds_past_the_hard_limit_is_emfile) {
  pid_t pid;
  int status = 0;
  if (fd_table_size() < 0) skip("no FDSize in /proc/self/status");
  /* Lowering the hard limit cannot be undone: in a child. */
  pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    struct rlimit rl = {512, 700};
    size_t avail = 0;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(77);
    if (ac_reserve_fds(5000, &avail) != AC_EMFILE) _exit(1);
    if (avail != 700) _exit(2);
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != 700) _exit(3);
    if (fd_table_size() < 700) _exit(4);
    _exit(0);
  }
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) skip("the child could not lower its limit");
  ASSERT_EQ(WEXITSTATUS(status), 0);
}
