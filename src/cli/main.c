/*
 * acrawl: the command-line tool. For now it only tells what it is; later
 * subcommands (fetch, site, books) are added to the table below.
 */
#include <stdio.h>
#include <string.h>

#include "acrawl.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: acrawl [--version | --help]\n"
          "\n"
          "acrawl is an asynchronous crawler toolkit: an asyncio-like runtime on\n"
          "libuv, an HTTP client on libcurl, and a crawl engine.\n"
          "\n"
          "options:\n"
          "  --version   print the version and what this build contains\n"
          "  --help      print this help\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
    printf("%s\n", ac_version_info());
    return 0;
  }
  fprintf(stderr, "acrawl: unknown command or option '%s' (see acrawl --help)\n", argv[1]);
  return 2;
}
