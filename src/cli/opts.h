/*
 * The option parser of every acrawl command: a table of options (struct
 * ac__opt) drives both the parsing of argv and the --help text, so the two
 * cannot drift apart, and each kind of value is parsed by one function here.
 *
 * The command line, for every command:
 *   --name VALUE and --name=VALUE   a long option with a value
 *   -n VALUE                        a short one (only -n VALUE: no -nVALUE)
 *   --flag, -f                      an option without a value (--flag=x is refused)
 *   -h, --help                      print the help, exit 0
 * A value is always the next argument, even one that starts with '-'. An
 * option given twice keeps its last value, but for a list (AC__OPT_LIST),
 * which keeps each. Options and other arguments may come in any order.
 *
 * Values (one rule each, for every command):
 *   whole number  digits only (no sign, no spaces), within the option's bounds
 *   size          a whole number of bytes, then optionally one of K, M, G, T
 *                 (either case: times 1024, 1024^2, 1024^3, 1024^4); "1.5M",
 *                 "16 M", "16MB", "16MiB" are refused
 *   number        decimal, digits first ("0.5", "1e-3", ".5"; no sign, no
 *                 spaces, no hex), finite and within the bounds: "inf", "nan"
 *                 and values that overflow or underflow are refused
 *   word          one of the option's words, exactly
 *   text          anything but empty (unless the option says otherwise)
 * A bad value, an unknown option or a missing value is one line on stderr
 * naming the option and the value, and the exit status AC__EXIT_USAGE.
 */
#ifndef AC_CLI_OPTS_H
#define AC_CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The exit status of a bad command line, for every command. */
#define AC__EXIT_USAGE 2

/* The most values one AC__OPT_LIST option keeps (its .max may be lower). */
#define AC__OPT_LIST_MAX 64

enum ac__opt_type {
  AC__OPT_FLAG,   /* no value: sets its int field to 1 (to 0 with AC__OPT_OFF) */
  AC__OPT_STR,    /* const char *: the argument itself (not copied) */
  AC__OPT_LIST,   /* repeatable text: struct ac__opt_list, at most .max values */
  AC__OPT_UINT,   /* a whole number in [min, max] */
  AC__OPT_SIZE,   /* a size in bytes in [min, max], suffixes allowed */
  AC__OPT_DOUBLE, /* double: a number in [dmin, dmax] (or 0 with AC__OPT_ZERO) */
  AC__OPT_ENUM,   /* int: one of the words of .arg ("a|b|c"), values[i] or i */
  AC__OPT_FUNC    /* .fn parses the value into the field */
};

/* ac__opt.flags */
#define AC__OPT_EMPTY 1u /* STR, LIST: "" is a value too */
#define AC__OPT_ZERO  2u /* DOUBLE: exactly 0 is accepted below dmin (an option's "none") */
#define AC__OPT_OFF   4u /* FLAG: sets the field to 0 (--no-something) */

/* An AC__OPT_LIST field. */
struct ac__opt_list {
  const char *v[AC__OPT_LIST_MAX];
  size_t n;
};

struct ac__opt {
  const char *name; /* the long name, without "--"; NULL: short only */
  char short_name;  /* 'c' for -c; 0: long only */
  enum ac__opt_type type;
  unsigned flags;
  /* The field in the command's config struct (AC__OPT_AT). UINT and SIZE
   * store into an unsigned or int field of 4 or 8 bytes; a 4-byte field
   * holds at most INT32_MAX whatever .max says. */
  size_t off, size;
  uint64_t min, max; /* UINT, SIZE: the bounds; LIST: the most values */
  double dmin, dmax; /* DOUBLE: the bounds */
  const int *values; /* ENUM: what the i-th word sets; NULL: i */
  /* FUNC: parses value into the field, 0 or -1 (bad value). STR, LIST: if
   * set, vets each value first, 0 or -1. */
  int (*fn)(void *field, const char *value);
  const char *wants; /* FUNC, or STR/LIST with fn: what a bad value's error says is wanted */
  const char *arg;   /* the value's name in the help; ENUM: its words, "a|b|c" */
  const char *help;  /* its help; a '\n' starts a line under the first one */
};

/* .off and .size of a field of the config struct T (f may name a member of
 * a member: crawl.concurrency). */
#define AC__OPT_AT(T, f) .off = offsetof(T, f), .size = sizeof(((T *)0)->f)

/* A command: its options, what it does with other arguments, its help. */
struct ac__opts {
  const char *cmd; /* "books": errors start "acrawl books: " */
  const struct ac__opt *opts;
  size_t nopts;
  /* Each argument that is not an option, in order: 0 to take it, or -1 to
   * refuse it, having said why. NULL: every such argument is refused. */
  int (*positional)(void *cfg, const char *arg);
  const char *intro; /* the help before "options:" (usage line, what the command does) */
  const char *outro; /* after the options (exit status, ...); may be NULL */
  int width;         /* the help's option column; a longer one puts its help below */
  FILE *err;         /* where errors go; NULL: stderr */
};

/* What ac__opts_parse returns. */
enum { AC__OPTS_OK = 0, AC__OPTS_HELP = 1, AC__OPTS_BAD = -1 };

/* Parses argv (the arguments after the command's name) into cfg, in order.
 * Returns AC__OPTS_OK; AC__OPTS_HELP at -h or --help (the help is not
 * printed: the caller prints it and exits 0); AC__OPTS_BAD after one line
 * on spec->err naming the option and the value. Fields of options not
 * given are left as they are: set the defaults before. */
int ac__opts_parse(const struct ac__opts *spec, void *cfg, int argc, char **argv);

/* Prints the help: intro, "options:" with one entry per option and
 * -h, --help, then outro. */
void ac__opts_usage(const struct ac__opts *spec, FILE *out);

/* The value parsers, each 0 with *out set, or -1 (nothing said). */
int ac__opts_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int ac__opts_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int ac__opts_double(const char *s, double min, double max, int zero_ok, double *out);

#endif /* AC_CLI_OPTS_H */
