/*
 * The CLI's subcommands, one file each, dispatched from main.c.
 */
#ifndef AC_CLI_CLI_H
#define AC_CLI_CLI_H

/* acrawl fetch [options] [URL...] (fetch.c): argv holds the arguments after
 * "fetch". Returns the process exit status. */
int ac__cli_fetch(int argc, char **argv);
/* acrawl books (books.c): the main job. */
int ac__cli_books(int argc, char **argv);

/* acrawl crawl SPEC (crawl.c): any JSON API from a spec. */
int ac__cli_crawl(int argc, char **argv);

/* acrawl site [options] (site.c): argv holds the options after "site".
 * Returns the process exit status. */
int ac__cli_site(int argc, char **argv);

#endif /* AC_CLI_CLI_H */
