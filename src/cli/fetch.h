/* acrawl fetch (src/cli/fetch.c). */
#ifndef AC_CLI_FETCH_H
#define AC_CLI_FETCH_H

/* Run `acrawl fetch` with the arguments after "fetch"; returns the exit status. */
int ac__cli_fetch(int argc, char **argv);

#endif /* AC_CLI_FETCH_H */
