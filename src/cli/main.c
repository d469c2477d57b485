/*
 * acrawl: the command-line tool. Subcommands live in their own files
 * (declared in cli.h) and are dispatched from the table below.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "acrawl.h"
#include "cli/cli.h"
#include "cli/opts.h"

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *help;
};

static const struct command commands[] = {
    {"books", ac__cli_books, "crawl the book site into stores: the main job (acrawl books --help)"},
    {"crawl", ac__cli_crawl, "crawl a JSON API as a spec file says (acrawl crawl --help)"},
    {"fetch", ac__cli_fetch, "fetch URLs, N in flight, one JSON line each (acrawl fetch --help)"},
    {"site", ac__cli_site, "serve the book-site replica (acrawl site --help)"},
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: acrawl [--version | --help]\n"
          "       acrawl COMMAND [options]\n"
          "\n"
          "acrawl is an asynchronous crawler toolkit: an asyncio-like runtime on\n"
          "libuv, an HTTP client on libcurl, and a crawl engine.\n"
          "\n"
          "options:\n"
          "  --version   print the version and what this build contains\n"
          "  --help      print this help\n"
          "\n"
          "commands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(out, "  %-10s  %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
  /* A reader that goes away (`acrawl books --store jsonl:- | head`) or a
   * peer that closes a socket must be a write error (EPIPE) the code can
   * report, not a signal that kills the run before the other stores are
   * closed and the summary is printed. */
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? AC__EXIT_USAGE : 0;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
    printf("%s\n", ac_version_info());
    return 0;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
  fprintf(stderr, "acrawl: unknown command or option '%s' (see acrawl --help)\n", argv[1]);
  return AC__EXIT_USAGE;
}
