/*
 * The CLI's subcommands, one file each, dispatched from main.c.
 */
#ifndef AC_CLI_CLI_H
#define AC_CLI_CLI_H

#include <stdio.h>

/* acrawl fetch [options] [URL...] (fetch.c): argv holds the arguments after
 * "fetch". Returns the process exit status. */
int ac__cli_fetch(int argc, char **argv);
/* acrawl books (books.c): the main job. */
int ac__cli_books(int argc, char **argv);

/* acrawl site [options]: argv holds the options after "site". Returns the
 * process exit status. */
int ac_cli_site(int argc, char **argv);
void ac_cli_site_usage(FILE *out);

#endif /* AC_CLI_CLI_H */
