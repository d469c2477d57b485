/*
 * acrawl site: run the book-site replica (src/site) until SIGINT or SIGTERM,
 * or dump its data set as JSON Lines.
 *
 * Options come from one table (name, kind, bounds, help), which drives both
 * the parser and --help, so the two cannot drift apart.
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
#include "site/site.h"

enum opt_kind { OPT_STR, OPT_U64, OPT_PROB, OPT_FLAG, OPT_ENUM };

struct site_cli {
  const char *host;
  const char *portfile;
  const char *dump;
  const char *content_type;
  int json_style, json_escape;
  uint64_t port, books, seed, page_size, delay, jitter, fail_first, retry_after, gone,
      max_in_flight, fault_seed, max_limit, max_connections;
  int gzip_ahead;
  double p429, preset, pshort, pbadjson, phtml200, pempty200, pbom;
};

struct opt {
  const char *name;
  enum opt_kind kind;
  size_t off;        /* of the field in struct site_cli */
  uint64_t max;      /* OPT_U64: the largest value accepted */
  /* The argument's name in --help. OPT_ENUM: the accepted words between
   * '|'; the i-th sets the int field to i, but "any" sets AC__SITE_ANY. */
  const char *arg;
  const char *help;
};

#define F(field) offsetof(struct site_cli, field)

static const struct opt opts[] = {
    {"host", OPT_STR, F(host), 0, "ADDR", "address to bind, an IPv4 or IPv6 literal (127.0.0.1)"},
    {"port", OPT_U64, F(port), 65535, "N", "port to listen on; 0 picks a free one (0)"},
    {"portfile", OPT_STR, F(portfile), 0, "FILE", "write the port there once listening"},
    {"books", OPT_U64, F(books), AC__BOOKS_MAX_N, "N", "books in the data set (9040)"},
    {"seed", OPT_U64, F(seed), UINT64_MAX, "S", "data set seed (20200321)"},
    {"page-size", OPT_U64, F(page_size), AC__BOOKS_MAX_PAGE_SIZE, "N",
     "default ?limit= of the list API (18)"},
    {"max-limit", OPT_U64, F(max_limit), AC__BOOKS_MAX_PAGE_SIZE, "N",
     "largest ?limit= honoured (100)"},
    {"max-connections", OPT_U64, F(max_connections), 1000000, "N",
     "connections open at once; more wait in the backlog (16384)"},
    {"dump", OPT_STR, F(dump), 0, "FILE|-", "write the data set as JSON Lines and exit"},
    {"gzip-ahead", OPT_FLAG, F(gzip_ahead), 0, "",
     "gzip every body at start, not at its first gzip request (benchmarks)"},
    {"delay", OPT_U64, F(delay), 600000, "MS", "answer each book API request MS after it arrived"},
    {"jitter", OPT_U64, F(jitter), 600000, "MS", "plus a random 0..MS"},
    {"fail-first", OPT_U64, F(fail_first), 1000, "K", "every book URL fails its first K tries (5xx)"},
    {"p429", OPT_PROB, F(p429), 0, "P", "share of 429 Too Many Requests"},
    {"retry-after", OPT_U64, F(retry_after), 86400, "S", "Retry-After of a 429 (1)"},
    {"preset", OPT_PROB, F(preset), 0, "P", "share of connections reset mid-body"},
    {"pshort", OPT_PROB, F(pshort), 0, "P", "share of bodies shorter than announced"},
    {"pbadjson", OPT_PROB, F(pbadjson), 0, "P",
     "share of 200s with invalid JSON (the body cut in half)"},
    {"phtml200", OPT_PROB, F(phtml200), 0, "P",
     "share of 200s with an HTML error page as the body (a proxy's 502, ...)"},
    {"pempty200", OPT_PROB, F(pempty200), 0, "P",
     "share of 200s with an empty body; a URL gets at most one of these three, once"},
    /* The words in the order of enum ac__json_style and ac__json_escape. */
    {"json-style", OPT_ENUM, F(json_style), 0, "compact|pretty|spaced|mixed|any",
     "200 list/detail bodies laid out with no whitespace, indented by 2, with \", \" and "
     "\": \", with any JSON whitespace, one of these per URL (compact)"},
    {"json-escape", OPT_ENUM, F(json_escape), 0, "none|ascii|slash|php|any",
     "their strings' escapes: as they are, \\uXXXX for non-ASCII, \\/ for /, both (as "
     "PHP), one of these per URL (none)"},
    {"pbom", OPT_PROB, F(pbom), 0, "P", "share of URLs whose 200 bodies start with a UTF-8 BOM"},
    {"content-type", OPT_STR, F(content_type), 0, "TYPE",
     "Content-Type of the book API's JSON (application/json); any: one per URL"},
    {"gone", OPT_U64, F(gone), AC__BOOKS_MAX_N, "N", "N ids answer 404 forever"},
    {"max-in-flight", OPT_U64, F(max_in_flight), UINT32_MAX, "N",
     "past N requests in flight, the book API answers 503 (0: no cap)"},
    {"fault-seed", OPT_U64, F(fault_seed), UINT64_MAX, "S", "fault planner seed (1)"},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void ac_cli_site_usage(FILE *out) {
  fprintf(out, "usage: acrawl site [options]\n\n"
               "Serve the tutorial's book site (a deterministic replica) with httpbin-style\n"
               "endpoints and seeded faults. Stops cleanly on SIGINT or SIGTERM.\n\noptions:\n");
  for (size_t i = 0; i < NOPTS; i++) {
    char left[80];
    snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, *opts[i].arg ? " " : "", opts[i].arg);
    if (strlen(left) > 24) /* a list of words: the help goes under it */
      fprintf(out, "  %s\n  %-24s %s\n", left, "", opts[i].help);
    else
      fprintf(out, "  %-24s %s\n", left, opts[i].help);
  }
  fprintf(out, "  %-24s %s\n", "--help", "print this help");
}

/* Parse text as the option's kind into the field; prints the error. */
static int set_opt(struct site_cli *c, const struct opt *o, const char *text) {
  char *p = (char *)c + o->off, *end;
  if (o->kind == OPT_STR) {
    if (*text == '\0') goto bad;
    *(const char **)(void *)p = text;
    return 0;
  }
  if (o->kind == OPT_FLAG) {
    *(int *)(void *)p = 1;
    return 0;
  }
  if (o->kind == OPT_ENUM) {
    const char *w = o->arg;
    size_t tlen = strlen(text);
    for (int i = 0; *w != '\0'; i++) {
      size_t wlen = strcspn(w, "|");
      if (wlen == tlen && strncmp(w, text, tlen) == 0) {
        *(int *)(void *)p = strcmp(text, "any") == 0 ? AC__SITE_ANY : i;
        return 0;
      }
      w += wlen + (w[wlen] == '|');
    }
    fprintf(stderr, "acrawl site: --%s: '%s' is not one of %s\n", o->name, text, o->arg);
    return -1;
  }
  errno = 0;
  if (o->kind == OPT_U64) {
    unsigned long long v;
    if (*text < '0' || *text > '9') goto bad;
    v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > o->max) goto bad;
    *(uint64_t *)(void *)p = (uint64_t)v;
    return 0;
  }
  {
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= 0.0 && v <= 1.0)) goto bad;
    *(double *)(void *)p = v;
    return 0;
  }
bad:
  if (o->kind == OPT_PROB)
    fprintf(stderr, "acrawl site: --%s: '%s' is not a probability between 0 and 1\n", o->name,
            text);
  else if (o->kind == OPT_U64)
    fprintf(stderr, "acrawl site: --%s: '%s' is not an integer between 0 and %llu\n", o->name,
            text, (unsigned long long)o->max);
  else
    fprintf(stderr, "acrawl site: --%s: empty value\n", o->name);
  return -1;
}

/* argv after "site". Returns 0, 1 for --help, -1 on a bad option. */
static int parse(struct site_cli *c, int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *val = NULL, *eq;
    size_t nlen;
    const struct opt *o = NULL;

    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return 1;
    if (strncmp(a, "--", 2) != 0) {
      fprintf(stderr, "acrawl site: unexpected argument '%s' (see acrawl site --help)\n", a);
      return -1;
    }
    a += 2;
    eq = strchr(a, '=');
    nlen = eq ? (size_t)(eq - a) : strlen(a);
    for (size_t k = 0; k < NOPTS; k++)
      if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, a, nlen) == 0) o = &opts[k];
    if (o == NULL) {
      fprintf(stderr, "acrawl site: unknown option '--%.*s' (see acrawl site --help)\n",
              (int)nlen, a);
      return -1;
    }
    if (o->kind == OPT_FLAG) {
      if (eq != NULL) {
        fprintf(stderr, "acrawl site: --%s takes no value\n", o->name);
        return -1;
      }
      val = "";
    } else if (eq != NULL) {
      val = eq + 1;
    } else if (i + 1 < argc) {
      val = argv[++i];
    } else {
      fprintf(stderr, "acrawl site: --%s needs a value (%s)\n", o->name, o->arg);
      return -1;
    }
    if (set_opt(c, o, val) != 0) return -1;
  }
  if (c->max_connections == 0) {
    fprintf(stderr, "acrawl site: --max-connections: must be at least 1\n");
    return -1;
  }
  if (c->page_size == 0) {
    fprintf(stderr, "acrawl site: --page-size: must be at least 1\n");
    return -1;
  }
  if (c->p429 + c->preset + c->pshort + c->pbadjson + c->phtml200 + c->pempty200 > 1.0 + 1e-9) {
    fprintf(stderr, "acrawl site: --p429, --preset, --pshort, --pbadjson, --phtml200 and "
                    "--pempty200 add up past 1\n");
    return -1;
  }
  if (c->content_type != NULL) {
    for (const char *t = c->content_type; *t; t++) {
      if ((unsigned char)*t < 0x20 || (unsigned char)*t >= 0x7F) {
        fprintf(stderr, "acrawl site: --content-type: only printable ASCII\n");
        return -1;
      }
    }
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

int ac_cli_site(int argc, char **argv) {
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
  if (rc != 0) {
    if (rc > 0) ac_cli_site_usage(stdout);
    return rc > 0 ? 0 : 2;
  }
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
