/*
 * A full disk, for real: a small tmpfs mounted in a user and mount
 * namespace of a child process, filled up with a file while a store writes
 * to it, and emptied again. SQLite and JSON Lines must both treat it the
 * same way: the batch is retried (failing, retries, last_error say why),
 * nothing is acknowledged while the disk is full, and everything lands once
 * there is room, nothing doubled. Skips (77) where the kernel or a sandbox
 * refuses the namespaces or the mount.
 */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store_test.h"

enum { N_ITEMS = 60 };

struct full_ctx {
  char dir[256];
  char path[300];
  char uri[320];
  char filler[300];
  const char *want; /* in last_error while the disk is full */
};

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY), ok;
  if (fd < 0) return -1;
  ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
  close(fd);
  return ok ? 0 : -1;
}

/* In the child: become root of a new user namespace (the caller's uid
 * mapped to 0) with its own mounts, and put a small tmpfs on dir. */
static int mount_small_tmpfs(const char *dir) {
  char map[64];
  unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return -1;
  if (write_file("/proc/self/setgroups", "deny") != 0) return -1;
  snprintf(map, sizeof(map), "0 %u 1", uid);
  if (write_file("/proc/self/uid_map", map) != 0) return -1;
  snprintf(map, sizeof(map), "0 %u 1", gid);
  if (write_file("/proc/self/gid_map", map) != 0) return -1;
  return mount("tmpfs", dir, "tmpfs", 0, "size=512k,mode=0700");
}

/* Take every free byte of the file system. */
static void fill_up(const char *path) {
  static char block[4096];
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ssize_t n;
  ASSERT(fd >= 0);
  while ((n = write(fd, block, sizeof(block))) > 0) {
  }
  ASSERT_EQ(errno, ENOSPC);
  /* What a page cannot hold is still free: take it byte by byte. */
  while (write(fd, block, 1) == 1) {
  }
  ASSERT_EQ(close(fd), 0);
}

static long stored(const struct full_ctx *c) {
  size_t len;
  long lines = 0;
  char *text;
  if (strncmp(c->uri, "sqlite:", 7) == 0) return st_sqlite_count(c->path, "items");
  text = st_slurp(c->path, &len);
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  free(text);
  return lines;
}

static int full_main(void *arg, void **result) {
  struct full_ctx *c = arg;
  ac_store_opts_t o;
  ac_store_t *s;
  ac_store_error_t err;
  ac_store_stats_t st;
  struct st_acks a = {0};
  char key[16], doc[1100], pad[1001];
  (void)result;

  memset(pad, 'x', sizeof(pad) - 1);
  pad[sizeof(pad) - 1] = '\0';
  ac_store_opts_init(&o);
  o.retry_min_ms = 5;
  o.retry_max_ms = 20;
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), c->uri, &o, &s, &err));
  ASSERT_OK(st_put(s, &a, "first", "{\"id\":\"first\"}"));
  ASSERT_OK(ac_store_flush(s));
  ASSERT_EQ(a.ok, 1);

  fill_up(c->filler);
  for (int i = 0; i < N_ITEMS; i++) {
    snprintf(key, sizeof(key), "%d", i);
    snprintf(doc, sizeof(doc), "{\"id\":\"%d\",\"pad\":\"%s\"}", i, pad);
    ASSERT_OK(st_put(s, &a, key, doc));
  }
  for (int spins = 0;; spins++) {
    ac_store_stats(s, &st);
    if (st.retries >= 3) break;
    if (a.failed > 0) AC__FAIL("refused for good, not retried: %s", st.last_error);
    ASSERT_LT(spins, 30000);
    ASSERT_OK(ac_sleep(1));
  }
  ASSERT_EQ(st.failing, 1);
  if (strstr(st.last_error, c->want) == NULL) AC__FAIL("last_error: %s", st.last_error);
  ASSERT_EQ(a.ok, 1);
  ASSERT_EQ(a.failed + a.cancelled, 0);

  /* Room again: the batch waiting lands, once. */
  ASSERT_EQ(unlink(c->filler), 0);
  ASSERT_OK(ac_store_flush(s));
  ac_store_stats(s, &st);
  ASSERT_EQ(st.failing, 0);
  ASSERT_UEQ(st.written, N_ITEMS + 1);
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, N_ITEMS + 1);
  ASSERT_EQ(a.failed + a.cancelled, 0);
  ASSERT_EQ(stored(c), N_ITEMS + 1);
  return 0;
}

static void run_full(const char *scheme, const char *file, const char *want) {
  struct full_ctx c;
  pid_t pid;
  int status = 0;
  st_mkdir(c.dir, sizeof(c.dir));
  snprintf(c.path, sizeof(c.path), "%s/%s", c.dir, file);
  snprintf(c.uri, sizeof(c.uri), "%s:%s", scheme, c.path);
  snprintf(c.filler, sizeof(c.filler), "%s/filler", c.dir);
  c.want = want;
  fflush(NULL);
  pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    if (mount_small_tmpfs(c.dir) != 0) {
      printf("skip: no small tmpfs in a user namespace here: %s\n", strerror(errno));
      fflush(stdout);
      _exit(77);
    }
    ASSERT_OK(ac_run(full_main, &c, NULL));
    fflush(NULL);
    _exit(0);
  }
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  st_rmdir(c.dir);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) exit(77);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    AC__FAIL("the child ended with status 0x%x", (unsigned)status);
}

TEST_IMPL(store_sqlite_disk_full_is_retried) {
  run_full("sqlite", "items.db", "database or disk is full");
}

TEST_IMPL(store_jsonl_disk_full_is_retried) {
  run_full("jsonl", "items.jsonl", "No space left on device");
}
