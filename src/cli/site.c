/*
 * acrawl site: run the book-site replica (src/site) until SIGINT or SIGTERM,
 * or dump its data set as JSON Lines.
 *
 * Options come from one table (cli/opts.h), which drives both the parser and
 * --help, so the two cannot drift apart.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acrawl.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "site/json_write.h"
#include "site/site.h"

struct site_cli {
  const char *host;
  const char *portfile;
  const char *dump;
  const char *content_type;
  int json_style, json_escape;
  uint64_t port, books, seed, page_size, delay, jitter, fail_first, retry_after, gone,
      max_in_flight, fault_seed, max_limit, max_connections, cursor_loop;
  int gzip_ahead;
  double p429, preset, pshort, pbadjson, phtml200, pempty200, pbom;
};

/* --content-type: printable ASCII only (it goes into a header). */
static int vet_content_type(void *field, const char *t) {
  (void)field;
  for (; *t; t++)
    if ((unsigned char)*t < 0x20 || (unsigned char)*t >= 0x7F) return -1;
  return 0;
}

/* What each word of --json-style and --json-escape sets. */
static const int json_styles[] = {AC__STYLE_COMPACT, AC__STYLE_PRETTY, AC__STYLE_SPACED,
                                  AC__STYLE_MIXED, AC__SITE_ANY};
static const int json_escapes[] = {AC__ESCAPE_NONE, AC__ESCAPE_ASCII, AC__ESCAPE_SLASH,
                                   AC__ESCAPE_PHP, AC__SITE_ANY};

#define AT(f) AC__OPT_AT(struct site_cli, f)
#define U64(n, f, lo, hi, a, h) \
  {.name = n, .type = AC__OPT_UINT, AT(f), .min = lo, .max = hi, .arg = a, .help = h}
#define PROB(n, f, h) \
  {.name = n, .type = AC__OPT_DOUBLE, AT(f), .dmin = 0, .dmax = 1, .arg = "P", .help = h}
#define STR(n, f, a, h) {.name = n, .type = AC__OPT_STR, AT(f), .arg = a, .help = h}

static const struct ac__opt site_opts[] = {
    STR("host", host, "ADDR", "address to bind, an IPv4 or IPv6 literal (127.0.0.1)"),
    U64("port", port, 0, 65535, "N", "port to listen on; 0 picks a free one (0)"),
    STR("portfile", portfile, "FILE", "write the port there once listening"),
    U64("books", books, 0, AC__BOOKS_MAX_N, "N", "books in the data set (9040)"),
    U64("seed", seed, 0, UINT64_MAX, "S", "data set seed (20200321)"),
    U64("page-size", page_size, 1, AC__BOOKS_MAX_PAGE_SIZE, "N",
        "default ?limit= of the list API (18)"),
    U64("max-limit", max_limit, 0, AC__BOOKS_MAX_PAGE_SIZE, "N", "largest ?limit= honoured (100)"),
    U64("max-connections", max_connections, 1, 1000000, "N",
        "connections open at once; more wait in the backlog (16384)"),
    STR("dump", dump, "FILE|-", "write the data set as JSON Lines and exit"),
    {.name = "gzip-ahead", .type = AC__OPT_FLAG, AT(gzip_ahead),
     .help = "gzip every body at start, not at its first gzip request (benchmarks)"},
    U64("delay", delay, 0, 600000, "MS", "answer each book API request MS after it arrived"),
    U64("jitter", jitter, 0, 600000, "MS", "plus a random 0..MS"),
    U64("fail-first", fail_first, 0, 1000, "K", "every book URL fails its first K tries (5xx)"),
    PROB("p429", p429, "share of 429 Too Many Requests"),
    U64("retry-after", retry_after, 0, 86400, "S", "Retry-After of a 429 (1)"),
    PROB("preset", preset, "share of connections reset mid-body"),
    PROB("pshort", pshort, "share of bodies shorter than announced"),
    PROB("pbadjson", pbadjson, "share of 200s with invalid JSON (the body cut in half)"),
    PROB("phtml200", phtml200,
         "share of 200s with an HTML error page as the body (a proxy's 502, ...)"),
    PROB("pempty200", pempty200,
         "share of 200s with an empty body; a URL gets at most one of these three, once"),
    {.name = "json-style", .type = AC__OPT_ENUM, AT(json_style), .values = json_styles,
     .arg = "compact|pretty|spaced|mixed|any",
     .help = "200 list/detail bodies laid out with no whitespace, indented by 2, with \", \" and "
             "\": \", with any JSON whitespace, one of these per URL (compact)"},
    {.name = "json-escape", .type = AC__OPT_ENUM, AT(json_escape), .values = json_escapes,
     .arg = "none|ascii|slash|php|any",
     .help = "their strings' escapes: as they are, \\uXXXX for non-ASCII, \\/ for /, both (as "
             "PHP), one of these per URL (none)"},
    PROB("pbom", pbom, "share of URLs whose 200 bodies start with a UTF-8 BOM"),
    {.name = "content-type", .type = AC__OPT_STR, AT(content_type), .fn = vet_content_type,
     .wants = "printable ASCII", .arg = "TYPE",
     .help = "Content-Type of the book API's JSON (application/json); any: one per URL"},
    U64("gone", gone, 0, AC__BOOKS_MAX_N, "N", "N ids answer 404 forever"),
    U64("max-in-flight", max_in_flight, 0, UINT32_MAX, "N",
        "past N requests in flight, the book API answers 503 (0: no cap)"),
    U64("fault-seed", fault_seed, 0, UINT64_MAX, "S", "fault planner seed (1)"),
    U64("cursor-loop", cursor_loop, 0, AC__BOOKS_MAX_N, "N",
        "page N (0-based) of /api/books/cursor points back to page N-1 (0: off)"),
};

#undef STR
#undef PROB
#undef U64
#undef AT

static const struct ac__opts site_spec = {
    .cmd = "site",
    .opts = site_opts,
    .nopts = sizeof(site_opts) / sizeof(site_opts[0]),
    .width = 22,
    .intro = "usage: acrawl site [options]\n\n"
             "Serve the tutorial's book site (a deterministic replica) with httpbin-style\n"
             "endpoints and seeded faults. Stops cleanly on SIGINT or SIGTERM.\n\n"
             "The book list is also served through other paginators: /api/books/pages,\n"
             "/api/books/pages-open, /api/books/cursor, /api/books/next, /api/books/linked\n"
             "(GET) and /api/books/search (POST); see docs/internals/site-server.md.\n",
};

/* argv after "site". Returns 0, 1 for --help (printed), -1 on a bad option (said). */
static int parse(struct site_cli *c, int argc, char **argv) {
  int rc = ac__opts_parse(&site_spec, c, argc, argv);
  if (rc == AC__OPTS_HELP) {
    ac__opts_usage(&site_spec, stdout);
    return 1;
  }
  if (rc != AC__OPTS_OK) return -1;
  if (c->p429 + c->preset + c->pshort + c->pbadjson + c->phtml200 + c->pempty200 > 1.0 + 1e-9) {
    fprintf(stderr, "acrawl site: --p429, --preset, --pshort, --pbadjson, --phtml200 and "
                    "--pempty200 add up past 1\n");
    return -1;
  }
  return 0;
}

static int dump(const struct site_cli *c) {
  struct ac__books_options bo;
  struct ac__books *b;
  FILE *f = stdout;
  int rc;

  ac__books_options_init(&bo);
  bo.n = (size_t)c->books;
  bo.seed = c->seed;
  bo.page_size = (size_t)c->page_size;
  rc = ac__books_build(&bo, &b);
  if (rc != 0) {
    fprintf(stderr, "acrawl site: cannot build the data set: %s\n", ac_strerror(rc));
    return 1;
  }
  if (strcmp(c->dump, "-") != 0 && (f = fopen(c->dump, "wb")) == NULL) {
    fprintf(stderr, "acrawl site: --dump: cannot open '%s': %s\n", c->dump, strerror(errno));
    ac__books_free(b);
    return 1;
  }
  rc = ac__books_dump_jsonl(b, f);
  if (fflush(f) != 0) rc = AC_EIO;
  if (f != stdout && fclose(f) != 0) rc = AC_EIO;
  ac__books_free(b);
  if (rc != 0) {
    fprintf(stderr, "acrawl site: --dump: write failed: %s\n", ac_strerror(rc));
    return 1;
  }
  return 0;
}

/* Write the port to path atomically (a temporary file renamed over it), so a
 * reader polling for the file never sees it half written. */
static int write_portfile(const char *path, int port) {
  size_t n = strlen(path) + 32;
  char *tmp = malloc(n);
  FILE *f;
  int ok;
  if (tmp == NULL) return -1;
  snprintf(tmp, n, "%s.%ld.tmp", path, (long)getpid());
  f = fopen(tmp, "w");
  ok = f != NULL && fprintf(f, "%d\n", port) > 0;
  if (f != NULL && fclose(f) != 0) ok = 0;
  if (ok && rename(tmp, path) != 0) ok = 0;
  if (!ok) {
    fprintf(stderr, "acrawl site: --portfile: cannot write '%s': %s\n", path, strerror(errno));
    unlink(tmp);
  }
  free(tmp);
  return ok ? 0 : -1;
}

/* Descriptors for want connections, reserved before the loop has threads
 * (ac_reserve_fds): Debian's default soft limit of 1,024 would cap the
 * connections, and growing the descriptor table while serving 10,000
 * clients would stall the loop at every doubling. */
static void reserve_fds(uint64_t want) {
  size_t avail = 0;
  if (ac_reserve_fds((size_t)want, &avail) == AC_EMFILE)
    fprintf(stderr, "acrawl site: the open files limit allows %zu connections, not %llu\n",
            avail > 64 ? avail - 64 : 0, (unsigned long long)(want - 64));
}

struct run {
  struct site_cli *cli;
  struct ac__site *site;
  ac_event_t *stop;
  int signum;
  int exit_code;
};

static void on_signal(ac_loop_t *loop, int signum, void *ud) {
  struct run *r = ud;
  (void)loop;
  if (r->signum == 0) r->signum = signum;
  ac_event_set(r->stop);
}

static int serve(void *arg, void **result) {
  struct run *r = arg;
  ac_server_t *srv = ac__site_server(r->site);
  ac_server_stats_t st;
  int rc;

  (void)result;
  rc = ac_server_listen(srv, r->cli->host, (int)r->cli->port);
  if (rc != 0) {
    fprintf(stderr, "acrawl site: cannot listen on %s:%llu: %s\n", r->cli->host,
            (unsigned long long)r->cli->port, ac_strerror(rc));
    r->exit_code = 1;
    return 0;
  }
  if (r->cli->portfile != NULL && write_portfile(r->cli->portfile, ac_server_port(srv)) != 0) {
    ac_server_close(srv);
    r->exit_code = 1;
  } else {
    fprintf(stderr, "acrawl site: listening on http://%s%s%s:%d/ (%llu books, seed %llu)\n",
            strchr(r->cli->host, ':') ? "[" : "", r->cli->host,
            strchr(r->cli->host, ':') ? "]" : "", ac_server_port(srv),
            (unsigned long long)r->cli->books, (unsigned long long)r->cli->seed);
    ac_event_wait(r->stop);
  }
  /* Requests in flight get a few seconds to finish; a client stalled in a
   * long /delay is cut off after that. */
  ac_server_shutdown(srv, 3000);
  ac_server_stats(srv, &st);
  if (r->exit_code == 0)
    fprintf(stderr, "acrawl site: stopped by %s after %llu requests\n",
            r->signum == SIGINT ? "SIGINT" : "SIGTERM", (unsigned long long)st.requests_total);
  return 0;
}

int ac__cli_site(int argc, char **argv) {
  struct site_cli c;
  struct ac__site_options so;
  struct run r;
  ac_loop_t *loop = NULL;
  ac_task_t *task = NULL;
  int rc;

  memset(&c, 0, sizeof(c));
  c.host = "127.0.0.1";
  c.books = AC__BOOKS_DEFAULT_N;
  c.seed = AC__BOOKS_DEFAULT_SEED;
  c.page_size = AC__BOOKS_DEFAULT_PAGE_SIZE;
  c.max_limit = AC__SITE_DEFAULT_MAX_LIMIT;
  c.retry_after = 1;
  c.fault_seed = 1;
  c.max_connections = 16384;
  rc = parse(&c, argc, argv);
  if (rc != 0) return rc > 0 ? 0 : AC__EXIT_USAGE;
  if (c.dump != NULL) return dump(&c);

  ac__site_options_init(&so);
  so.books.n = (size_t)c.books;
  so.books.seed = c.seed;
  so.books.page_size = (size_t)c.page_size;
  if (c.gzip_ahead) so.books.flags |= AC__BOOKS_GZIP;
  so.max_limit = (size_t)c.max_limit;
  so.faults.seed = c.fault_seed;
  so.faults.delay_ms = (uint32_t)c.delay;
  so.faults.jitter_ms = (uint32_t)c.jitter;
  so.faults.fail_first = (uint32_t)c.fail_first;
  so.faults.p429 = c.p429;
  so.faults.retry_after_s = (uint32_t)c.retry_after;
  so.faults.preset = c.preset;
  so.faults.pshort = c.pshort;
  so.faults.pbadjson = c.pbadjson;
  so.faults.phtml200 = c.phtml200;
  so.faults.pempty200 = c.pempty200;
  so.shapes.style = c.json_style;
  so.shapes.escape = c.json_escape;
  so.shapes.pbom = c.pbom;
  so.shapes.content_type = c.content_type;
  so.faults.max_in_flight = (uint32_t)c.max_in_flight;
  so.gone = (size_t)c.gone;
  so.cursor_loop = (size_t)c.cursor_loop;
  /* The site must never be what limits a benchmark (10,000 clients at once
   * on /delay/1): many connections, a deep backlog, and the descriptors for
   * them. */
  so.server.max_connections = (size_t)c.max_connections;
  so.server.max_tracked_clients = 4096;
  so.server.backlog = 4096;
  reserve_fds(c.max_connections + 64);

  memset(&r, 0, sizeof(r));
  r.cli = &c;
  rc = ac_loop_new(&loop);
  if (rc == 0) rc = ac__site_new(loop, &so, &r.site);
  if (rc == 0) rc = ac_event_new(loop, &r.stop);
  if (rc == 0) rc = ac_signal_watch(loop, SIGINT, on_signal, &r);
  if (rc == 0) rc = ac_signal_watch(loop, SIGTERM, on_signal, &r);
  if (rc == 0) rc = ac_task_spawn(loop, serve, &r, NULL, &task);
  if (rc == 0) rc = ac_loop_run_until_done(loop, task);
  if (rc != 0) {
    fprintf(stderr, "acrawl site: %s\n", ac_strerror(rc));
    r.exit_code = 1;
  }
  if (task != NULL) ac_task_release(task);
  if (loop != NULL) {
    ac_signal_unwatch(loop, SIGINT);
    ac_signal_unwatch(loop, SIGTERM);
  }
  if (r.stop != NULL) ac_event_free(r.stop);
  if (r.site != NULL && ac__site_free(r.site) != 0) r.exit_code = 1;
  if (loop != NULL) {
    ac_loop_run(loop);
    if (ac_loop_close(loop) != 0) r.exit_code = 1;
  }
  return r.exit_code;
}
