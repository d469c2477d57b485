/*
 * acrawl crawl SPEC: any JSON API, crawled as a spec describes it
 * (include/acrawl/spec.h, docs/specs.md), into the stores, with every
 * option of acrawl books (run.h). --check only loads and checks the spec.
 */
#include <stdio.h>
#include <string.h>

#include "acrawl.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/run.h"

typedef struct crawl_cfg {
  const char *spec;
  const char *base;
  int check;
  ac__cli_run_t run;
} crawl_cfg_t;

static int take_spec(void *arg, const char *value) {
  crawl_cfg_t *cfg = arg;
  if (cfg->spec != NULL) {
    fprintf(stderr, "acrawl crawl: one spec at a time ('%s', then '%s')\n", cfg->spec, value);
    return -1;
  }
  cfg->spec = value;
  return 0;
}

#define AT(f) AC__OPT_AT(crawl_cfg_t, f)

static const struct ac__opt crawl_opts[] = {
    {.name = "check", .type = AC__OPT_FLAG, AT(check),
     .help = "only check the spec: exit 0 if it is good, 2 naming what is not"},
    {.name = "base", .type = AC__OPT_STR, AT(base), .arg = "URL",
     .help = "crawl this site instead of the spec's base_url (a local\n"
             "replica, a staging site)"},
    AC__CLI_RUN_OPTS(crawl_cfg_t, run, "items", "NAME.db, NAME the spec's"),
};

#undef AT

static const struct ac__opts crawl_spec = {
    .cmd = "crawl",
    .opts = crawl_opts,
    .nopts = sizeof(crawl_opts) / sizeof(crawl_opts[0]),
    .positional = take_spec,
    .width = 19,
    .intro = "usage: acrawl crawl SPEC [options]\n"
             "       acrawl crawl --check SPEC\n"
             "\n"
             "Crawl a JSON API as the spec file SPEC describes it: its resources, how\n"
             "each paginates (offset, page, cursor, next_url, link_header), which run\n"
             "once per record of another, and the key of each item, upserted into the\n"
             "stores (tables or collections as the spec names them). The spec's crawl\n"
             "defaults (concurrency, per_host, rate, retries, timeout) apply unless\n"
             "given here. Progress, summary, Ctrl-C and --resume as for acrawl books.\n"
             "\n"
             "The spec format: docs/specs.md; its JSON Schema, for editors:\n"
             "specs/schema.json; examples: specs/*.json.\n",
    .outro = AC__CLI_RUN_EXIT_HELP,
};

int ac__cli_crawl(int argc, char **argv) {
  crawl_cfg_t cfg;
  ac_spec_t *spec = NULL;
  const char *path;
  ac_spec_error_t err;
  ac_spider_t spider;
  ac_spec_spider_opts_t so;
  char db[300];
  int rc;
  memset(&cfg, 0, sizeof(cfg));
  ac__cli_run_init(&cfg.run);
  cfg.run.cmd = "crawl";
  rc = ac__opts_parse(&crawl_spec, &cfg, argc, argv);
  if (rc == AC__OPTS_HELP) {
    ac__opts_usage(&crawl_spec, stdout);
    return 0;
  }
  if (rc != AC__OPTS_OK) return AC__EXIT_USAGE;
  if (cfg.spec == NULL) {
    fprintf(stderr, "acrawl crawl: no spec file (acrawl crawl SPEC; see acrawl crawl --help)\n");
    return AC__EXIT_USAGE;
  }
  rc = ac_spec_load_file(cfg.spec, &spec, &err);
  if (rc != 0) {
    if (rc == AC_EIO) fprintf(stderr, "acrawl crawl: %s\n", err.message);
    else if (rc == AC_ENOMEM) fprintf(stderr, "acrawl crawl: %s: out of memory\n", cfg.spec);
    else fprintf(stderr, "acrawl crawl: %s: %s\n", cfg.spec, err.message);
    return rc == AC_EINVAL ? AC__EXIT_USAGE : AC__EXIT_FATAL;
  }
  if (cfg.check) {
    printf("%s: a good spec (%s)\n", cfg.spec, ac_spec_name(spec));
    ac_spec_free(spec);
    return 0;
  }
  /* The spec's defaults, then the command line again over them. */
  ac__cli_run_init(&cfg.run);
  cfg.run.cmd = "crawl";
  path = cfg.spec;
  cfg.spec = NULL;
  ac_spec_crawl_defaults(spec, &cfg.run.crawl);
  if (ac__opts_parse(&crawl_spec, &cfg, argc, argv) != AC__OPTS_OK ||
      ac__cli_run_check(&cfg.run) != 0) {
    ac_spec_free(spec);
    return AC__EXIT_USAGE;
  }
  if (cfg.run.crawl.frontier != NULL && ac_spec_check_shared(spec, &err) != 0) {
    fprintf(stderr, "acrawl crawl: %s: %s (--frontier)\n", path, err.message);
    ac_spec_free(spec);
    return AC__EXIT_USAGE;
  }
  memset(&so, 0, sizeof(so));
  so.base_url = cfg.base;
  if (ac_spec_spider_new(spec, &so, &spider) != 0) {
    fprintf(stderr, "acrawl crawl: bad --base '%s': an absolute http:// or https:// URL is "
                    "needed\n", cfg.base);
    ac_spec_free(spec);
    return AC__EXIT_USAGE;
  }
  cfg.run.site = cfg.base != NULL ? cfg.base : ac_spec_base_url(spec);
  cfg.run.spec = spec;
  snprintf(db, sizeof(db), "%s.db", ac_spec_name(spec));
  {
    static char state[300];
    snprintf(state, sizeof(state), "acrawl-%s.state", ac_spec_name(spec));
    cfg.run.state_default = state;
  }
  rc = ac__cli_run(&cfg.run, &spider, db);
  ac_spec_spider_free(&spider);
  ac_spec_free(spec);
  return rc;
}
