/*
 * acrawl fetch: fetch URLs with N requests in flight, one JSON line per
 * response (or the bodies). The tutorial's "500 requests" test is
 *   seq 500 | sed 's|.*|http://127.0.0.1:8080/delay/1|' | acrawl fetch -c 500
 *
 * URLs come from the arguments, from -i FILE, or from stdin. Input is read on
 * a worker thread in batches (ac_run_in_thread), so a slow pipe never stalls
 * the requests in flight. One task takes a semaphore permit per URL and
 * starts the request in the callback form (ac_session_send); the callback
 * prints the result and gives the permit back. No task (and stack) per
 * request: with 10,000 in flight, a task each was a quarter of the memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acrawl.h"
#include "cli/cli.h"
#include "cli/opts.h"

#define MAX_HEADERS AC__OPT_LIST_MAX
#define MAX_LINE (64 * 1024)
#define BATCH 256
/* As acrawl books' per-request default: a server that never finishes its
 * answer must not hold a run forever. */
#define DEFAULT_TIMEOUT_MS 30000
#define STR_(x) #x
#define STR(x) STR_(x)

struct fetch_cfg {
  char **urls;               /* from the arguments */
  int nurls;
  const char *input;         /* -i FILE, "-" for stdin */
  FILE *in;
  size_t concurrency;
  const char *method;
  struct ac__opt_list header_args; /* -H, as given */
  ac_http_kv_t headers[MAX_HEADERS];
  char *header_buf[MAX_HEADERS];
  size_t nheaders;
  const char *data;
  uint64_t timeout_ms;
  size_t max_body;
  int bodies;
  ac_session_t *session;
  ac_sem_t *sem;
  size_t failed;
  size_t done;
  int out_errno; /* why writing stdout first failed, 0 while it has not */
};

struct job {
  struct fetch_cfg *cfg;
  char *url;
  double t0;
};

struct batch {
  FILE *in;
  char *lines[BATCH];
  size_t n;
  int eof;
  int err;
};

/* Runs on a worker thread: read up to BATCH non-empty lines. */
static void read_batch(void *arg) {
  struct batch *b = arg;
  char *line = malloc(MAX_LINE);
  b->n = 0;
  if (line == NULL) {
    b->err = ENOMEM;
    return;
  }
  while (b->n < BATCH) {
    size_t len;
    if (fgets(line, MAX_LINE, b->in) == NULL) {
      b->eof = 1;
      if (ferror(b->in)) b->err = errno != 0 ? errno : EIO;
      break;
    }
    len = strlen(line);
    if (len == MAX_LINE - 1 && line[len - 1] != '\n') {
      b->err = E2BIG;
      break;
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
      line[--len] = '\0';
    if (len == 0 || line[0] == '#') continue;
    b->lines[b->n] = strdup(line);
    if (b->lines[b->n] == NULL) {
      b->err = ENOMEM;
      break;
    }
    b->n++;
  }
  free(line);
}

/* s as a JSON string (quotes included) into out. */
static void put_json_string(FILE *out, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  putc('"', out);
  for (; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\') {
      putc('\\', out);
      putc(*p, out);
    } else if (*p < 0x20) {
      fprintf(out, "\\u%04x", *p);
    } else {
      putc(*p, out);
    }
  }
  putc('"', out);
}

/* One JSON line per response, written directly: building a cJSON tree and
 * printing its numbers (sprintf + strtod round trips) was a visible part of
 * the CLI's CPU per request. */
static void print_result(struct fetch_cfg *cfg, const char *url, int rc, ac_response_t *resp,
                         const ac_http_error_t *err, double seconds) {
  char msg[320];
  size_t len = 0;
  const void *body = resp != NULL ? ac_response_body(resp, &len) : NULL;
  long long us = (long long)(seconds * 1e6 + 0.5); /* microseconds: the clock's grain */

  if (cfg->bodies) {
    if (body != NULL) fwrite(body, 1, len, stdout);
    if (rc != 0) fprintf(stderr, "acrawl fetch: %s: %s: %s\n", url, ac_err_name(rc), err->message);
    return;
  }
  fputs("{\"url\":", stdout);
  put_json_string(stdout, url);
  if (resp != NULL)
    printf(",\"status\":%d", ac_response_status(resp));
  else
    fputs(",\"status\":null", stdout);
  printf(",\"bytes\":%zu,\"time\":%lld.%06lld,\"error\":", len, us / 1000000, us % 1000000);
  if (rc == 0) {
    fputs("null}\n", stdout);
  } else {
    snprintf(msg, sizeof(msg), "%s: %s", ac_err_name(rc), err->message);
    put_json_string(stdout, msg);
    fputs("}\n", stdout);
  }
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_fetched(ac_session_t *session, int rc, ac_response_t *resp,
                       const ac_http_error_t *err, void *userdata) {
  struct job *job = userdata;
  struct fetch_cfg *cfg = job->cfg;
  (void)session;
  errno = 0;
  print_result(cfg, job->url, rc, resp, err, now_seconds() - job->t0);
  if (cfg->out_errno == 0 && ferror(stdout)) cfg->out_errno = errno != 0 ? errno : EIO;
  if (rc != 0) cfg->failed++;
  cfg->done++;
  ac_response_free(resp);
  free(job->url);
  free(job);
  ac_sem_release(cfg->sem);
}

/* Take a permit, then start the request; url is taken over. */
static int start_one(struct fetch_cfg *cfg, char *url) {
  ac_request_opts_t opts;
  ac_http_error_t err;
  struct job *job;
  int rc = ac_sem_acquire(cfg->sem);
  if (rc != 0) {
    free(url);
    return rc;
  }
  job = malloc(sizeof(*job));
  if (job == NULL) {
    fprintf(stderr, "acrawl fetch: out of memory\n");
    exit(1);
  }
  job->cfg = cfg;
  job->url = url;
  job->t0 = now_seconds();
  ac_request_opts_init(&opts);
  opts.url = url;
  opts.method = cfg->method;
  opts.headers = cfg->headers;
  opts.nheaders = cfg->nheaders;
  opts.timeout_ms = cfg->timeout_ms;
  opts.max_body = cfg->max_body;
  if (cfg->data != NULL) {
    opts.body_kind = AC_BODY_BYTES;
    opts.body = cfg->data;
    opts.body_len = strlen(cfg->data);
    opts.content_type = "application/x-www-form-urlencoded"; /* as curl -d does */
  }
  memset(&err, 0, sizeof(err));
  rc = ac_session_send(cfg->session, &opts, on_fetched, job, NULL);
  if (rc != 0) {
    /* Refused before it started: a result line like any other. */
    err.code = rc;
    snprintf(err.message, sizeof(err.message), "%s", ac_strerror(rc));
    on_fetched(cfg->session, rc, NULL, &err, job);
  }
  return 0;
}

static int fetch_main(void *arg, void **result) {
  struct fetch_cfg *cfg = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  int rc = 0, i;
  size_t k;
  (void)result;

  rc = ac_session_new(loop, NULL, &cfg->session);
  if (rc == 0) rc = ac_sem_new(loop, cfg->concurrency, &cfg->sem);
  if (rc != 0) {
    fprintf(stderr, "acrawl fetch: cannot start: %s\n", ac_strerror(rc));
    ac_session_free(cfg->session);
    return rc;
  }
  /* A reader that went away (`| head`) ends the run: SIGPIPE is ignored,
   * so a failed write to stdout is what says so. */
  for (i = 0; i < cfg->nurls && rc == 0 && !ferror(stdout); i++) {
    char *url = strdup(cfg->urls[i]);
    if (url == NULL) rc = AC_ENOMEM;
    else rc = start_one(cfg, url);
  }
  if (cfg->in != NULL) {
    struct batch b;
    memset(&b, 0, sizeof(b));
    b.in = cfg->in;
    while (rc == 0 && !b.eof && !ferror(stdout)) {
      rc = ac_run_in_thread(read_batch, &b);
      for (k = 0; k < b.n; k++) {
        if (rc == 0 && !ferror(stdout)) rc = start_one(cfg, b.lines[k]);
        else free(b.lines[k]);
      }
      if (rc == 0 && b.err != 0) {
        fprintf(stderr, "acrawl fetch: reading %s: %s\n", cfg->input, strerror(b.err));
        rc = AC_EIO;
      }
    }
  }
  /* Every request is over once all the permits are back. */
  for (k = 0; k < cfg->concurrency; k++) ac_sem_acquire(cfg->sem);
  ac_sem_free(cfg->sem);
  ac_session_free(cfg->session);
  return rc;
}

static void free_headers(struct fetch_cfg *cfg) {
  size_t i;
  for (i = 0; i < cfg->nheaders; i++) free(cfg->header_buf[i]);
}

/* -H 'Name: value': a name before the colon. */
static int vet_header(void *field, const char *arg) {
  const char *colon = strchr(arg, ':');
  (void)field;
  return colon == NULL || colon == arg ? -1 : 0;
}

/* A vetted -H as a header: the name cut at the colon, the value's leading
 * blanks skipped. */
static int add_header(struct fetch_cfg *cfg, const char *arg) {
  char *copy = strdup(arg), *colon, *v;
  if (copy == NULL) return -1;
  colon = strchr(copy, ':');
  *colon = '\0';
  v = colon + 1;
  while (*v == ' ' || *v == '\t') v++;
  cfg->header_buf[cfg->nheaders] = copy;
  cfg->headers[cfg->nheaders].key = copy;
  cfg->headers[cfg->nheaders].value = v;
  cfg->nheaders++;
  return 0;
}

/* An argument that is not an option: a URL. */
static int take_url(void *arg, const char *a) {
  struct fetch_cfg *cfg = arg;
  if (strncmp(a, "http://", 7) != 0 && strncmp(a, "https://", 8) != 0) {
    fprintf(stderr, "acrawl fetch: not an http(s) URL: '%s'\n", a);
    return -1;
  }
  cfg->urls[cfg->nurls++] = (char *)a;
  return 0;
}

#define AT(f) AC__OPT_AT(struct fetch_cfg, f)

static const struct ac__opt fetch_opts[] = {
    {.short_name = 'i', .type = AC__OPT_STR, AT(input), .arg = "FILE",
     .help = "read URLs from FILE, one per line ('-': stdin)"},
    {.short_name = 'c', .type = AC__OPT_UINT, AT(concurrency), .min = 1, .max = 100000,
     .arg = "N",
     .help = "requests in flight (default 10; the open files limit is\n"
             "raised to N + 64 when the hard limit allows)"},
    {.short_name = 'X', .type = AC__OPT_STR, AT(method), .arg = "METHOD",
     .help = "request method (default GET)"},
    {.short_name = 'H', .type = AC__OPT_LIST, AT(header_args), .max = MAX_HEADERS,
     .fn = vet_header, .wants = "'Name: value'", .arg = "'Name: v'",
     .help = "add a request header (repeatable, up to " STR(MAX_HEADERS) ")"},
    {.short_name = 'd', .type = AC__OPT_STR, .flags = AC__OPT_EMPTY, AT(data), .arg = "DATA",
     .help = "send DATA as the request body"},
    /* At most a day, as acrawl books' --timeout. */
    {.short_name = 't', .type = AC__OPT_UINT, AT(timeout_ms), .min = 0, .max = 86400000,
     .arg = "MS",
     .help = "total timeout per request in milliseconds, redirects\n"
             "included (default " STR(DEFAULT_TIMEOUT_MS) "; 0: none)"},
    {.name = "max-body", .type = AC__OPT_SIZE, AT(max_body), .min = 1, .max = (uint64_t)1 << 40,
     .arg = "N",
     .help = "fail responses larger than N bytes (default 64M;\n"
             "suffixes K, M, G, T: times 1024, 1024^2, ...)"},
    {.name = "bodies", .type = AC__OPT_FLAG, AT(bodies),
     .help = "print the response bodies instead of JSON lines"},
};

#undef AT

static const struct ac__opts fetch_spec = {
    .cmd = "fetch",
    .opts = fetch_opts,
    .nopts = sizeof(fetch_opts) / sizeof(fetch_opts[0]),
    .positional = take_url,
    .width = 14,
    .intro = "usage: acrawl fetch [options] [URL...]\n"
             "\n"
             "Fetch URLs (from the arguments, -i FILE, or stdin) with N requests in\n"
             "flight; print one JSON line per response: url, status, bytes, time (s), error.\n",
    .outro = "Exit status: 0 if every request got a response, 1 if any failed, 2 on bad usage.\n",
};

/* A socket per request in flight, and a few more descriptors for the loop,
 * its threads and the input: reserved before the loop starts its threads,
 * so that growing the descriptor table never stalls it (ac_reserve_fds). */
static void reserve_fds(size_t concurrency) {
  size_t avail = 0;
  if (ac_reserve_fds(concurrency + 64, &avail) == AC_EMFILE)
    fprintf(stderr,
            "acrawl fetch: -c %zu needs about %zu open files, the hard limit allows %zu: "
            "requests past that fail (too many open files)\n",
            concurrency, concurrency + 64, avail);
}

int ac__cli_fetch(int argc, char **argv) {
  struct fetch_cfg cfg;
  int i, rc;

  memset(&cfg, 0, sizeof(cfg));
  cfg.concurrency = 10;
  cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
  cfg.urls = calloc((size_t)argc + 1, sizeof(char *));
  if (cfg.urls == NULL) {
    fprintf(stderr, "acrawl fetch: out of memory\n");
    return 1;
  }
  rc = ac__opts_parse(&fetch_spec, &cfg, argc, argv);
  if (rc != AC__OPTS_OK) {
    if (rc == AC__OPTS_HELP) ac__opts_usage(&fetch_spec, stdout);
    free(cfg.urls);
    return rc == AC__OPTS_HELP ? 0 : AC__EXIT_USAGE;
  }
  for (i = 0; i < (int)cfg.header_args.n; i++) {
    if (add_header(&cfg, cfg.header_args.v[i]) != 0) {
      fprintf(stderr, "acrawl fetch: out of memory\n");
      free(cfg.urls);
      free_headers(&cfg);
      return 1;
    }
  }
  if (cfg.input != NULL) {
    cfg.in = strcmp(cfg.input, "-") == 0 ? stdin : fopen(cfg.input, "r");
    if (cfg.in == NULL) {
      fprintf(stderr, "acrawl fetch: cannot open %s: %s\n", cfg.input, strerror(errno));
      free(cfg.urls);
      free_headers(&cfg);
      return AC__EXIT_USAGE;
    }
  } else if (cfg.nurls == 0) {
    cfg.input = "stdin";
    cfg.in = stdin;
  }
  reserve_fds(cfg.concurrency);
  rc = ac_run(fetch_main, &cfg, NULL);
  if (cfg.in != NULL && cfg.in != stdin) fclose(cfg.in);
  free(cfg.urls);
  free_headers(&cfg);
  if (fflush(stdout) != 0 && cfg.out_errno == 0) cfg.out_errno = errno;
  if (cfg.out_errno != 0) {
    fprintf(stderr, "acrawl fetch: writing stdout failed (%s): stopped\n",
            cfg.out_errno == EPIPE ? "EPIPE: its reader closed it" : strerror(cfg.out_errno));
    return 1;
  }
  if (rc != 0) {
    fprintf(stderr, "acrawl fetch: %s\n", ac_strerror(rc));
    return 1;
  }
  return cfg.failed > 0 ? 1 : 0;
}
