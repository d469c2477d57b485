/*
 * The JSON Lines store: round trip, the 9,040 books byte for byte, a key put
 * twice written once, pretty-printed documents written as one line each (and
 * a raw newline inside a string, not JSON, refused by key), resume (a torn
 * last line cut, keys already in the file skipped, string and number keys),
 * truncation without resume, stdout, and a pipe whose reader went away
 * (EPIPE, never retried, later puts refused at once, no SIGPIPE).
 */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>

#include "site/books.h"
#include "store_test.h"

struct jl_ctx {
  char dir[256];
  char path[300];
  char uri[320];
};

static void jl_ctx_init(struct jl_ctx *c) {
  st_mkdir(c->dir, sizeof(c->dir));
  snprintf(c->path, sizeof(c->path), "%s/items.jsonl", c->dir);
  snprintf(c->uri, sizeof(c->uri), "jsonl:%s", c->path);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  ASSERT_NOT_NULL(f);
  ASSERT_EQ(fwrite(text, 1, strlen(text), f), strlen(text));
  ASSERT_EQ(fclose(f), 0);
}

static void expect_file(const char *path, const char *want) {
  size_t len;
  char *got = st_slurp(path, &len);
  ASSERT_STR_EQ(got, want);
  free(got);
}

/* ------------------------------------------------------- round trip */

static int roundtrip_main(void *arg, void **result) {
  struct jl_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_t *s;
  ac_store_error_t err;
  ac_store_stats_t st;
  struct st_acks a = {0};

  /* Something in the file already: without resume it goes. */
  write_file(c->path, "{\"id\":\"old\"}\n");
  ASSERT_OK(ac_store_open(loop, c->uri, NULL, &s, &err));
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\",\"t\":\"\xf0\x9f\x98\x80\\u0000\"}"));
  ASSERT_OK(st_put(s, &a, "2", "{\"id\":\"2\"}"));
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\",\"again\":true}")); /* same run: skipped */
  ASSERT_OK(ac_store_flush(s));
  ac_store_stats(s, &st);
  ASSERT_UEQ(st.written, 3);
  ASSERT_UEQ(st.skipped, 1);
  /* A newline between tokens is whitespace: the document is one line. */
  ASSERT_OK(st_put(s, &a, "3", "{\"id\":\"3\"}"));
  ASSERT_OK(st_put(s, &a, "nl", "{\"id\":\"nl\",\n\"x\":1}"));
  ASSERT_OK(st_put(s, &a, "4", "{\"id\":\"4\"}"));
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 6);
  ASSERT_EQ(a.failed, 0);
  expect_file(c->path,
              "{\"id\":\"1\",\"t\":\"\xf0\x9f\x98\x80\\u0000\"}\n{\"id\":\"2\"}\n"
              "{\"id\":\"3\"}\n{\"id\":\"nl\",\"x\":1}\n{\"id\":\"4\"}\n");
  return 0;
}

TEST_IMPL(store_jsonl_roundtrip) {
  struct jl_ctx c;
  jl_ctx_init(&c);
  ASSERT_OK(ac_run(roundtrip_main, &c, NULL));
  st_rmdir(c.dir);
}

/* Pretty-printed documents: CR, LF, tabs and spaces between tokens go,
 * strings stay byte for byte (escaped quotes and backslashes included, so
 * the end of each string is found right), and a leading byte order mark
 * goes. A raw newline inside a string is not JSON and cannot be one line:
 * refused, by key, and its neighbours are written. */
static const char *const pretty_in[] = {
    "{\n  \"id\": \"p1\",\n  \"title\": \"a  b\\tc\",\n  \"tags\": [\n    \"x\",\n"
    "    \"y\"\n  ]\n}\n",
    "\xEF\xBB\xBF{\r\n\t\"id\" : \"p2\" ,\r\n\t\"q\" : \"say \\\"hi\\\" \\\\\" ,\r\n"
    "\t\"n\" : [ 1 , -0 , 1E+2 , 8.50 ] ,\r\n\t\"e\" : { }\r\n}\r\n",
    "\r\n {\"id\":\"p3\",\"bs\":\"\\\\\",\"s\":\" {\\\"k\\\": [ ] } \",\"nl\":\"\\n\\r\"}\n\n",
};
static const char *const pretty_out[] = {
    "{\"id\":\"p1\",\"title\":\"a  b\\tc\",\"tags\":[\"x\",\"y\"]}",
    "{\"id\":\"p2\",\"q\":\"say \\\"hi\\\" \\\\\",\"n\":[1,-0,1E+2,8.50],\"e\":{}}",
    "{\"id\":\"p3\",\"bs\":\"\\\\\",\"s\":\" {\\\"k\\\": [ ] } \",\"nl\":\"\\n\\r\"}",
};

static int pretty_main(void *arg, void **result) {
  struct jl_ctx *c = arg;
  ac_store_t *s;
  ac_store_error_t err;
  ac_store_stats_t st;
  struct st_acks a = {0};
  char want[1024] = "";
  (void)result;
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), c->uri, NULL, &s, &err));
  ASSERT_OK(st_put(s, &a, "p1", pretty_in[0]));
  ASSERT_OK(st_put(s, &a, "bad-key-7", "{\"id\":\"bad-key-7\",\n\"t\":\"a\nb\"}"));
  ASSERT_OK(st_put(s, &a, "p2", pretty_in[1]));
  ASSERT_OK(st_put(s, &a, "p3", pretty_in[2]));
  ASSERT_OK(ac_store_flush(s));
  ac_store_stats(s, &st);
  ASSERT(strstr(st.last_error, "\"bad-key-7\"") != NULL);
  ASSERT(strstr(st.last_error, "raw newline inside a string") != NULL);
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 3);
  ASSERT_EQ(a.failed, 1);
  ASSERT_ERR(a.last_error, AC_ESTORE);
  for (size_t i = 0; i < 3; i++) {
    strcat(want, pretty_out[i]);
    strcat(want, "\n");
  }
  expect_file(c->path, want);
  /* Value for value: each line parses to what its input parses to. */
  for (size_t i = 0; i < 3; i++) {
    const char *in = pretty_in[i];
    if (memcmp(in, "\xEF\xBB\xBF", 3) == 0) in += 3;
    cJSON *x = cJSON_Parse(in), *y = cJSON_Parse(pretty_out[i]);
    ASSERT_NOT_NULL(x);
    ASSERT_NOT_NULL(y);
    ASSERT(cJSON_Compare(x, y, 1));
    cJSON_Delete(x);
    cJSON_Delete(y);
  }
  return 0;
}

TEST_IMPL(store_jsonl_pretty_printed_one_line) {
  struct jl_ctx c;
  jl_ctx_init(&c);
  ASSERT_OK(ac_run(pretty_main, &c, NULL));
  st_rmdir(c.dir);
}

/* ------------------------------------------------------- 9,040 books */

static int books_main(void *arg, void **result) {
  struct jl_ctx *c = arg;
  struct ac__books *b;
  ac_store_t *s;
  ac_store_error_t err;
  struct st_acks a = {0};
  char *file, *p;
  size_t len, n;

  ASSERT_OK(ac__books_build(NULL, &b));
  n = ac__books_count(b);
  ASSERT_EQ(n, 9040);
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), c->uri, NULL, &s, &err));
  for (size_t i = 0; i < n; i++) {
    struct ac__books_bytes d;
    ASSERT_OK(ac__books_detail(b, i, &d));
    ASSERT_OK(ac_store_put(s, ac__books_id(b, i), d.base, d.len, st_ack_cb, &a));
  }
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 9040);
  /* The file is the books in put order, each byte-equal, one per line. */
  file = st_slurp(c->path, &len);
  p = file;
  for (size_t i = 0; i < n; i++) {
    struct ac__books_bytes d;
    ASSERT_OK(ac__books_detail(b, i, &d));
    ASSERT((size_t)(file + len - p) >= d.len + 1);
    ASSERT_EQ(memcmp(p, d.base, d.len), 0);
    ASSERT_EQ(p[d.len], '\n');
    p += d.len + 1;
  }
  ASSERT(p == file + len);
  free(file);
  ac__books_free(b);
  return 0;
}

TEST_IMPL(store_jsonl_books_9040_byte_exact) {
  struct jl_ctx c;
  jl_ctx_init(&c);
  ASSERT_OK(ac_run(books_main, &c, NULL));
  st_rmdir(c.dir);
}

/* ------------------------------------------------------------ resume */

static int resume_main(void *arg, void **result) {
  struct jl_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_opts_t o;
  ac_store_t *s;
  ac_store_error_t err;
  ac_store_stats_t st;
  struct st_acks a = {0};

  /* Two string keys, a number key, a blank line, and a torn last line (a
   * crash in the middle of writing key 4). */
  write_file(c->path,
             "{\"id\":\"1\",\"v\":\"first\"}\n{\"name\":\"x\",\"id\":\"2\"}\n\n{\"id\":3}\n"
             "{\"id\":\"4\",\"v\":\"to");
  ac_store_opts_init(&o);
  o.resume = 1;
  ASSERT_OK(ac_store_open(loop, c->uri, &o, &s, &err));
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\",\"v\":\"second\"}")); /* in the file */
  ASSERT_OK(st_put(s, &a, "3", "{\"id\":3,\"v\":\"second\"}"));     /* number key */
  ASSERT_OK(st_put(s, &a, "4", "{\"id\":\"4\",\"v\":\"whole\"}"));   /* was torn */
  ASSERT_OK(st_put(s, &a, "5", "{\"id\":\"5\"}"));
  ASSERT_OK(st_put(s, &a, "5", "{\"id\":\"5\",\"v\":\"twice\"}"));   /* this run */
  ASSERT_OK(ac_store_flush(s));
  ac_store_stats(s, &st);
  ASSERT_UEQ(st.skipped, 3);
  ASSERT_UEQ(st.written, 5);
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 5);
  expect_file(c->path,
              "{\"id\":\"1\",\"v\":\"first\"}\n{\"name\":\"x\",\"id\":\"2\"}\n\n{\"id\":3}\n"
              "{\"id\":\"4\",\"v\":\"whole\"}\n{\"id\":\"5\"}\n");

  /* Resume again: everything is there, nothing is doubled. */
  memset(&a, 0, sizeof(a));
  ASSERT_OK(ac_store_open(loop, c->uri, &o, &s, &err));
  for (int i = 1; i <= 5; i++) {
    char key[8];
    snprintf(key, sizeof(key), "%d", i);
    ASSERT_OK(st_put(s, &a, key, "{\"id\":\"dup\"}"));
  }
  ASSERT_OK(ac_store_flush(s));
  ac_store_stats(s, &st);
  ASSERT_UEQ(st.skipped, 5);
  ASSERT_OK(ac_store_close(s));
  expect_file(c->path,
              "{\"id\":\"1\",\"v\":\"first\"}\n{\"name\":\"x\",\"id\":\"2\"}\n\n{\"id\":3}\n"
              "{\"id\":\"4\",\"v\":\"whole\"}\n{\"id\":\"5\"}\n");

  /* A line that is not JSON, or has no key, stops the resume with its number. */
  write_file(c->path, "{\"id\":\"1\"}\nnot json\n");
  ASSERT_ERR(ac_store_open(loop, c->uri, &o, &s, &err), AC_ESTORE);
  ASSERT(strstr(err.message, "line 2") != NULL);
  ASSERT(strstr(err.message, c->path) != NULL);
  write_file(c->path, "{\"id\":\"1\"}\n{\"name\":\"no id\"}\n");
  ASSERT_ERR(ac_store_open(loop, c->uri, &o, &s, &err), AC_ESTORE);
  ASSERT(strstr(err.message, "line 2 has no \"id\"") != NULL);
  /* Resume of a file that does not exist yet starts it. */
  ASSERT_EQ(unlink(c->path), 0);
  ASSERT_OK(ac_store_open(loop, c->uri, &o, &s, &err));
  ASSERT_OK(st_put(s, &a, "9", "{\"id\":\"9\"}"));
  ASSERT_OK(ac_store_close(s));
  expect_file(c->path, "{\"id\":\"9\"}\n");
  return 0;
}

TEST_IMPL(store_jsonl_resume) {
  struct jl_ctx c;
  jl_ctx_init(&c);
  ASSERT_OK(ac_run(resume_main, &c, NULL));
  st_rmdir(c.dir);
}

/* -------------------------------------------------------------- stdout */

static int stdout_main(void *arg, void **result) {
  ac_store_t *s;
  ac_store_error_t err;
  struct st_acks a = {0};
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), "jsonl:-", NULL, &s, &err));
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\"}"));
  ASSERT_OK(st_put(s, &a, "2", "{\"id\":\"2\"}"));
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 2);
  return 0;
}

/* stdout goes to a file for the duration, then is read back. */
TEST_IMPL(store_jsonl_stdout) {
  struct jl_ctx c;
  int saved, fd;
  jl_ctx_init(&c);
  fflush(stdout);
  saved = dup(1);
  fd = open(c.path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(dup2(fd, 1), 1);
  close(fd);
  ASSERT_OK(ac_run(stdout_main, NULL, NULL));
  fflush(stdout);
  ASSERT_EQ(dup2(saved, 1), 1);
  close(saved);
  expect_file(c.path, "{\"id\":\"1\"}\n{\"id\":\"2\"}\n");
  st_rmdir(c.dir);
}

/* ------------------------------------------------ streams: /dev/null, FIFO */

struct fifo_reader {
  const char *path;
  char got[256];
  size_t len;
};

static void *read_fifo(void *arg) {
  struct fifo_reader *r = arg;
  int fd = open(r->path, O_RDONLY);
  ssize_t n;
  if (fd < 0) return NULL;
  while ((n = read(fd, r->got + r->len, sizeof(r->got) - 1 - r->len)) > 0) r->len += (size_t)n;
  r->got[r->len] = '\0';
  close(fd);
  return NULL;
}

/* A path that is not a regular file cannot seek, be cut or be synced: the
 * store writes it like stdout, with or without resume. */
static int stream_main(void *arg, void **result) {
  struct jl_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_opts_t o;
  ac_store_t *s;
  ac_store_error_t err;
  ac_store_stats_t st;
  struct st_acks a = {0};
  (void)result;
  ac_store_opts_init(&o);
  o.resume = 1;
  ASSERT_OK(ac_store_open(loop, "jsonl:/dev/null", &o, &s, &err));
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\"}"));
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\"}")); /* still written once */
  ASSERT_OK(ac_store_flush(s));
  ac_store_stats(s, &st);
  ASSERT_UEQ(st.written, 2);
  ASSERT_UEQ(st.skipped, 1);
  ASSERT_STR_EQ(st.last_error, "");
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 2);
  ASSERT_EQ(a.failed, 0);

  ASSERT_OK(ac_store_open(loop, c->uri, &o, &s, &err)); /* a FIFO, see the caller */
  ASSERT_OK(st_put(s, &a, "2", "{\"id\":\"2\"}"));
  ASSERT_OK(st_put(s, &a, "3", "{\"id\":\"3\"}"));
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 4);
  ASSERT_EQ(a.failed, 0);
  return 0;
}

TEST_IMPL(store_jsonl_streams) {
  struct jl_ctx c;
  struct fifo_reader r;
  pthread_t t;
  jl_ctx_init(&c);
  ASSERT_EQ(mkfifo(c.path, 0600), 0);
  memset(&r, 0, sizeof(r));
  r.path = c.path;
  ASSERT_EQ(pthread_create(&t, NULL, read_fifo, &r), 0);
  ASSERT_OK(ac_run(stream_main, &c, NULL));
  ASSERT_EQ(pthread_join(t, NULL), 0);
  ASSERT_STR_EQ(r.got, "{\"id\":\"2\"}\n{\"id\":\"3\"}\n");
  ASSERT_EQ(unlink(c.path), 0);
  st_rmdir(c.dir);
}

/* ------------------------------------------------ the reader goes away */

/* `acrawl books --store jsonl:- | head`: the reader of the pipe is gone.
 * The write fails with EPIPE, which is said as such; the process is not
 * killed by SIGPIPE (left at its default here: the store itself keeps it
 * from being delivered); nothing is retried, later puts are refused at once
 * (part of a line may be out), and the store closes. */
struct pipe_ctx {
  const char *uri;
  char want[128];
  int pipe_rd; /* closed by the task once the store is open */
};

static int reader_gone_main(void *arg, void **result) {
  struct pipe_ctx *p = arg;
  ac_store_opts_t o;
  ac_store_t *s;
  ac_store_error_t err;
  ac_store_stats_t st;
  struct st_acks a = {0};
  (void)result;
  ac_store_opts_init(&o);
  o.retry_min_ms = o.retry_max_ms = 1;
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), p->uri, &o, &s, &err));
  ASSERT_EQ(close(p->pipe_rd), 0);
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\"}"));
  ASSERT_OK(st_put(s, &a, "2", "{\"id\":\"2\"}"));
  ASSERT_OK(ac_store_flush(s));
  ASSERT_EQ(a.failed, 2);
  ASSERT_ERR(a.last_error, AC_ESTORE);
  ac_store_stats(s, &st);
  ASSERT_STR_EQ(st.last_error, p->want);
  ASSERT_OK(st_put(s, &a, "3", "{\"id\":\"3\"}"));
  ASSERT_OK(ac_store_flush(s));
  ac_store_stats(s, &st);
  ASSERT_UEQ(st.retries, 0);
  ASSERT_UEQ(st.written, 0);
  ASSERT_STR_EQ(st.last_error, p->want);
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.failed, 3);
  ASSERT_EQ(a.ok + a.cancelled, 0);
  return 0;
}

TEST_IMPL(store_jsonl_reader_gone_epipe) {
  struct sigaction sa;
  struct pipe_ctx p;
  sigset_t pending;
  char uri[64];
  int fds[2], saved;

  ASSERT_EQ(sigaction(SIGPIPE, NULL, &sa), 0);
  ASSERT(sa.sa_handler == SIG_DFL);

  /* stdout is the pipe. */
  ASSERT_EQ(pipe(fds), 0);
  fflush(stdout);
  saved = dup(1);
  ASSERT_EQ(dup2(fds[1], 1), 1);
  close(fds[1]);
  p.uri = "jsonl:-";
  p.pipe_rd = fds[0];
  snprintf(p.want, sizeof(p.want), "jsonl:-: the reader closed stdout (EPIPE)");
  ASSERT_OK(ac_run(reader_gone_main, &p, NULL));
  clearerr(stdout);
  ASSERT_EQ(dup2(saved, 1), 1);
  close(saved);

  /* A path that is a pipe (a FIFO, here the kernel's name for one). */
  ASSERT_EQ(pipe(fds), 0);
  snprintf(uri, sizeof(uri), "jsonl:/proc/self/fd/%d", fds[1]);
  p.uri = uri;
  p.pipe_rd = fds[0];
  snprintf(p.want, sizeof(p.want), "%s: the reader closed the pipe (EPIPE)", uri);
  ASSERT_OK(ac_run(reader_gone_main, &p, NULL));
  close(fds[1]);

  /* No SIGPIPE left waiting to kill the process later. */
  ASSERT_EQ(sigpending(&pending), 0);
  ASSERT(!sigismember(&pending, SIGPIPE));
}
