/*
 * The command line's option parser (src/cli/opts.c), on a table of the
 * test's own with every kind of option: each value parser's bounds and what
 * it refuses (signs, spaces, garbage after a number, empty values, inf/nan,
 * overflow), --name=VALUE beside --name VALUE, short forms, a missing value
 * at the end, unknown options, lists, and the error line naming the option
 * and the value. acrawl books, fetch and site run on the same parser; their
 * own tables are tested through the binary (tests/crawl/books_bad_input.sh,
 * test_site_cli.c, test_http_integ_nginx.c).
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "cli/opts.h"
#include "runner.h"

/* ------------------------------------------------------ value parsers */

static int uint_ok(const char *s, uint64_t min, uint64_t max, uint64_t want) {
  uint64_t v = 12345;
  return ac__opts_uint(s, min, max, &v) == 0 && v == want;
}

static int uint_bad(const char *s, uint64_t min, uint64_t max) {
  uint64_t v = 12345;
  return ac__opts_uint(s, min, max, &v) == -1 && v == 12345;
}

TEST_IMPL(opts_uint) {
  ASSERT(uint_ok("0", 0, 10, 0));
  ASSERT(uint_ok("10", 0, 10, 10));
  ASSERT(uint_ok("007", 0, 10, 7));
  ASSERT(uint_ok("1", 1, 100000, 1));
  ASSERT(uint_ok("100000", 1, 100000, 100000));
  ASSERT(uint_ok("18446744073709551615", 0, UINT64_MAX, UINT64_MAX));
  /* The bounds. */
  ASSERT(uint_bad("0", 1, 100000));
  ASSERT(uint_bad("100001", 1, 100000));
  ASSERT(uint_bad("11", 0, 10));
  /* Overflow: an error, never the largest value. */
  ASSERT(uint_bad("18446744073709551616", 0, UINT64_MAX));
  ASSERT(uint_bad("99999999999999999999", 0, UINT64_MAX));
  /* Only digits: no sign, no spaces, nothing after. */
  ASSERT(uint_bad("", 0, 10));
  ASSERT(uint_bad(NULL, 0, 10));
  ASSERT(uint_bad("-1", 0, UINT64_MAX)); /* strtoull: 2^64 - 1 */
  ASSERT(uint_bad(" -1", 0, UINT64_MAX));
  ASSERT(uint_bad("-0", 0, 10));
  ASSERT(uint_bad("+5", 0, 10));
  ASSERT(uint_bad(" 5", 0, 10));
  ASSERT(uint_bad("5 ", 0, 10));
  ASSERT(uint_bad("5x", 0, 10));
  ASSERT(uint_bad("12x", 0, 100));
  ASSERT(uint_bad("1.0", 0, 10));
  ASSERT(uint_bad("1e3", 0, 10000));
  ASSERT(uint_bad("0x10", 0, 100));
  ASSERT(uint_bad("5K", 0, 100000)); /* suffixes are for sizes only */
  ASSERT(uint_bad("lots", 0, 10));
}

static int size_ok(const char *s, uint64_t min, uint64_t max, uint64_t want) {
  uint64_t v = 12345;
  return ac__opts_size(s, min, max, &v) == 0 && v == want;
}

static int size_bad(const char *s, uint64_t min, uint64_t max) {
  uint64_t v = 12345;
  return ac__opts_size(s, min, max, &v) == -1 && v == 12345;
}

TEST_IMPL(opts_size) {
  const uint64_t T = (uint64_t)1 << 40;
  ASSERT(size_ok("1", 1, T, 1));
  ASSERT(size_ok("1000", 1, T, 1000));
  ASSERT(size_ok("1k", 1, T, 1024));
  ASSERT(size_ok("1K", 1, T, 1024));
  ASSERT(size_ok("16M", 1, T, 16u << 20));
  ASSERT(size_ok("16m", 1, T, 16u << 20));
  ASSERT(size_ok("2G", 1, T, (uint64_t)2 << 30));
  ASSERT(size_ok("1T", 1, T, T));
  ASSERT(size_ok("1024G", 1, T, T));
  ASSERT(size_ok("0K", 0, T, 0));
  ASSERT(size_ok("17179869183G", 0, UINT64_MAX, (uint64_t)17179869183 << 30));
  /* The bounds, after the suffix. */
  ASSERT(size_bad("0", 1, T));
  ASSERT(size_bad("0K", 1, T));
  ASSERT(size_bad("1025G", 1, T));
  ASSERT(size_bad("1099511627777", 1, T));
  /* Overflow: in the digits, or by the suffix. */
  ASSERT(size_bad("99999999999999999999G", 0, UINT64_MAX));
  ASSERT(size_bad("99999999999999999999", 0, UINT64_MAX));
  ASSERT(size_bad("17179869184G", 0, UINT64_MAX)); /* 2^64 */
  ASSERT(size_bad("16777216T", 0, UINT64_MAX));    /* 2^64 */
  /* One suffix letter, right after the digits; whole numbers only. */
  ASSERT(size_bad("", 1, T));
  ASSERT(size_bad(NULL, 1, T));
  ASSERT(size_bad("M", 1, T));
  ASSERT(size_bad("1.5M", 1, T));
  ASSERT(size_bad("16 M", 1, T));
  ASSERT(size_bad("16MB", 1, T));
  ASSERT(size_bad("16MiB", 1, T));
  ASSERT(size_bad("16KK", 1, T));
  ASSERT(size_bad("1P", 0, UINT64_MAX));
  ASSERT(size_bad("1b", 1, T));
  ASSERT(size_bad("-1", 0, UINT64_MAX));
  ASSERT(size_bad("+1", 1, T));
  ASSERT(size_bad(" 1", 1, T));
  ASSERT(size_bad("1 ", 1, T));
  ASSERT(size_bad("0x10", 1, T));
}

static int dbl_ok(const char *s, double min, double max, int zero, double want) {
  double v = 12345;
  return ac__opts_double(s, min, max, zero, &v) == 0 && v == want;
}

static int dbl_bad(const char *s, double min, double max, int zero) {
  double v = 12345;
  return ac__opts_double(s, min, max, zero, &v) == -1 && v == 12345;
}

TEST_IMPL(opts_double) {
  ASSERT(dbl_ok("0.001", 0.001, 86400, 0, 0.001));
  ASSERT(dbl_ok("86400", 0.001, 86400, 0, 86400));
  ASSERT(dbl_ok("1e6", 0.001, 1e6, 1, 1e6));
  ASSERT(dbl_ok("1E-3", 0.001, 1e6, 1, 0.001));
  ASSERT(dbl_ok("1e+2", 0.001, 1e6, 1, 100));
  ASSERT(dbl_ok(".5", 0, 1, 0, 0.5));
  ASSERT(dbl_ok("5.", 0, 10, 0, 5));
  ASSERT(dbl_ok("0", 0, 1, 0, 0));
  ASSERT(dbl_ok("1", 0, 1, 0, 1));
  /* 0 below the range: only where it means "none". */
  ASSERT(dbl_ok("0", 0.001, 1e6, 1, 0));
  ASSERT(dbl_ok("0.000", 0.001, 1e6, 1, 0));
  ASSERT(dbl_ok("0e5", 0.001, 1e6, 1, 0));
  ASSERT(dbl_bad("0", 0.001, 86400, 0));
  /* The bounds. */
  ASSERT(dbl_bad("0.0009", 0.001, 86400, 0));
  ASSERT(dbl_bad("86400.001", 0.001, 86400, 0));
  ASSERT(dbl_bad("1.5", 0, 1, 0));
  ASSERT(dbl_bad("1e-300", 0.001, 1e6, 1));
  ASSERT(dbl_bad("1e300", 0.001, 86400, 0));
  /* Not finite, overflow and underflow: refused, not the largest or 0. */
  ASSERT(dbl_bad("inf", 0, 1e308, 1));
  ASSERT(dbl_bad("infinity", 0, 1e308, 1));
  ASSERT(dbl_bad("INF", 0, 1e308, 1));
  ASSERT(dbl_bad("nan", 0, 1e308, 1));
  ASSERT(dbl_bad("NaN", 0, 1e308, 1));
  ASSERT(dbl_bad("1e400", 0, HUGE_VAL, 1));
  ASSERT(dbl_bad("1e-400", 0, 1, 1));
  /* Decimal digits first; nothing after. */
  ASSERT(dbl_bad("", 0, 1, 1));
  ASSERT(dbl_bad(NULL, 0, 1, 1));
  ASSERT(dbl_bad(".", 0, 1, 1));
  ASSERT(dbl_bad("-1", -10, 10, 0));
  ASSERT(dbl_bad("-0", 0, 1, 1));
  ASSERT(dbl_bad("+1", 0, 10, 0));
  ASSERT(dbl_bad(" 1", 0, 10, 0));
  ASSERT(dbl_bad("1 ", 0, 10, 0));
  ASSERT(dbl_bad("1e", 0, 10, 0));
  ASSERT(dbl_bad("1x", 0, 10, 0));
  ASSERT(dbl_bad("0.5.5", 0, 1, 0));
  ASSERT(dbl_bad("0x1p-3", 0, 1, 0));
  ASSERT(dbl_bad("abc", 0, 1, 0));
}

/* ------------------------------------------------------------ the walk */

struct cfg {
  const char *name;
  const char *note;
  struct ac__opt_list tags;
  uint64_t count;
  int small;
  uint32_t u32;
  size_t bytes;
  double rate;
  double share;
  int color;
  int flag;
  int on;
  int range_lo, range_hi;
  const char *args[8];
  int nargs;
};

static int parse_range(void *field, const char *v) {
  struct cfg *c = field;
  uint64_t lo, hi;
  const char *dash = strchr(v, '-');
  char num[24];
  if (dash == NULL || (size_t)(dash - v) >= sizeof(num)) return -1;
  memcpy(num, v, (size_t)(dash - v));
  num[dash - v] = '\0';
  if (ac__opts_uint(num, 1, 1000, &lo) != 0 || ac__opts_uint(dash + 1, lo, 1000, &hi) != 0)
    return -1;
  c->range_lo = (int)lo;
  c->range_hi = (int)hi;
  return 0;
}

static int vet_no_space(void *field, const char *v) {
  (void)field;
  return strchr(v, ' ') != NULL ? -1 : 0;
}

static FILE *cur_err; /* the parser's spec.err in run() */

static int take_arg(void *arg, const char *a) {
  struct cfg *c = arg;
  if (strcmp(a, "refused") == 0) {
    fprintf(cur_err, "acrawl test: '%s' refused\n", a);
    return -1;
  }
  c->args[c->nargs++] = a;
  return 0;
}

static const int colors[] = {10, 20, 30};

#define AT(f) AC__OPT_AT(struct cfg, f)

static const struct ac__opt test_opts[] = {
    {.name = "name",
     .short_name = 'n',
     .type = AC__OPT_STR,
     AT(name),
     .arg = "NAME",
     .help = "a name"},
    {.name = "note",
     .type = AC__OPT_STR,
     .flags = AC__OPT_EMPTY,
     AT(note),
     .arg = "TEXT",
     .help = "a note, maybe empty"},
    {.name = "tag",
     .short_name = 'T',
     .type = AC__OPT_LIST,
     AT(tags),
     .max = 3,
     .fn = vet_no_space,
     .wants = "a word without spaces",
     .arg = "TAG",
     .help = "a tag; repeatable\nup to 3"},
    {.name = "count",
     .short_name = 'c',
     .type = AC__OPT_UINT,
     AT(count),
     .min = 1,
     .max = 100000,
     .arg = "N",
     .help = "how many"},
    {.name = "small",
     .type = AC__OPT_UINT,
     AT(small),
     .min = 0,
     .max = UINT64_MAX,
     .arg = "N",
     .help = "an int: at most INT32_MAX"},
    {.name = "u32",
     .type = AC__OPT_UINT,
     AT(u32),
     .min = 0,
     .max = 70000,
     .arg = "N",
     .help = "a uint32_t"},
    {.name = "bytes",
     .type = AC__OPT_SIZE,
     AT(bytes),
     .min = 1,
     .max = (uint64_t)1 << 40,
     .arg = "BYTES",
     .help = "a size"},
    {.name = "rate",
     .type = AC__OPT_DOUBLE,
     .flags = AC__OPT_ZERO,
     AT(rate),
     .dmin = 0.001,
     .dmax = 1e6,
     .arg = "R",
     .help = "a rate"},
    {.name = "share",
     .type = AC__OPT_DOUBLE,
     AT(share),
     .dmin = 0,
     .dmax = 1,
     .arg = "P",
     .help = "a probability"},
    {.name = "color",
     .type = AC__OPT_ENUM,
     AT(color),
     .values = colors,
     .arg = "red|green|blue",
     .help = "a color"},
    {.name = "flag", .short_name = 'f', .type = AC__OPT_FLAG, AT(flag), .help = "a flag"},
    {.name = "no-on", .type = AC__OPT_FLAG, .flags = AC__OPT_OFF, AT(on), .help = "off"},
    {.name = "range",
     .type = AC__OPT_FUNC,
     .fn = parse_range,
     .off = 0,
     .size = 0,
     .wants = "LO-HI with 1 <= LO <= HI <= 1000",
     .arg = "LO-HI",
     .help = "a range"},
};

#undef AT

static char errbuf[4096];

/* Parses the NULL-terminated arguments into *c (zeroed, on = 1) with
 * positional arguments taken or not; the error line lands in errbuf. */
static int run(struct cfg *c, int positional, ...) {
  struct ac__opts spec = {.cmd = "test",
                          .opts = test_opts,
                          .nopts = sizeof(test_opts) / sizeof(test_opts[0]),
                          .width = 16,
                          .intro = "usage: acrawl test [options]\n"};
  char *argv[32];
  int argc = 0, rc;
  size_t n;
  va_list ap;
  FILE *err = tmpfile();
  ASSERT_NOT_NULL(err);
  va_start(ap, positional);
  while ((argv[argc] = va_arg(ap, char *)) != NULL) argc++;
  va_end(ap);
  memset(c, 0, sizeof(*c));
  c->on = 1;
  spec.err = err;
  cur_err = err;
  spec.positional = positional ? take_arg : NULL;
  rc = ac__opts_parse(&spec, c, argc, argv);
  rewind(err);
  n = fread(errbuf, 1, sizeof(errbuf) - 1, err);
  errbuf[n] = '\0';
  fclose(err);
  /* One line when refused, nothing otherwise. */
  if (rc == AC__OPTS_BAD) {
    ASSERT(n > 0 && errbuf[n - 1] == '\n' && strchr(errbuf, '\n') == errbuf + n - 1);
    ASSERT(strncmp(errbuf, "acrawl test: ", 13) == 0);
  } else {
    ASSERT_UEQ(n, 0);
  }
  return rc;
}

/* Refused, with every word in the error line. */
#define BAD(words, ...)                                                                           \
  do {                                                                                            \
    const char *w_[] = words;                                                                     \
    ASSERT_EQ(run(&c, 0, __VA_ARGS__, (char *)NULL), AC__OPTS_BAD);                               \
    for (size_t k_ = 0; k_ < sizeof(w_) / sizeof(w_[0]); k_++)                                    \
      if (strstr(errbuf, w_[k_]) == NULL) AC__FAIL("no \"%s\" in the error: %s", w_[k_], errbuf); \
  } while (0)
#define W(...) \
  { __VA_ARGS__ }
#define OK(...) ASSERT_EQ(run(&c, 0, __VA_ARGS__, (char *)NULL), AC__OPTS_OK)

TEST_IMPL(opts_parse_forms) {
  struct cfg c;
  /* Nothing: nothing set. */
  ASSERT_EQ(run(&c, 0, (char *)NULL), AC__OPTS_OK);
  ASSERT_NULL(c.name);
  ASSERT_EQ(c.on, 1);
  /* --name VALUE, --name=VALUE and -n VALUE are the same. */
  OK("--count", "5");
  ASSERT_UEQ(c.count, 5);
  OK("--count=6");
  ASSERT_UEQ(c.count, 6);
  OK("-c", "7");
  ASSERT_UEQ(c.count, 7);
  OK("--name=a=b");
  ASSERT_STR_EQ(c.name, "a=b");
  OK("-n", "x", "--name", "y");
  ASSERT_STR_EQ(c.name, "y"); /* the last one */
  /* A value is the next argument, whatever it looks like. */
  OK("--name", "--count");
  ASSERT_STR_EQ(c.name, "--count");
  ASSERT_UEQ(c.count, 0);
  OK("--name", "-h");
  ASSERT_STR_EQ(c.name, "-h");
  /* Flags. */
  OK("--flag", "--no-on");
  ASSERT_EQ(c.flag, 1);
  ASSERT_EQ(c.on, 0);
  OK("-f");
  ASSERT_EQ(c.flag, 1);
  BAD(W("--flag takes no value"), "--flag=1");
  BAD(W("--no-on takes no value"), "--no-on=");
  /* Help, wherever it is; after a bad option, the bad option wins. */
  ASSERT_EQ(run(&c, 0, "--count", "5", "--help", "--bogus", (char *)NULL), AC__OPTS_HELP);
  ASSERT_EQ(run(&c, 0, "-h", (char *)NULL), AC__OPTS_HELP);
  BAD(W("unknown option '--bogus'"), "--bogus", "--help");
  /* Unknown options: the name only, not its value. */
  BAD(W("unknown option '--bogus'", "see acrawl test --help"), "--bogus");
  BAD(W("unknown option '--bogus'"), "--bogus=1");
  BAD(W("unknown option '--'"), "--");
  BAD(W("unknown option '--'"), "--=");
  BAD(W("unknown option '-x'"), "-x");
  BAD(W("unknown option '-c5'"), "-c5"); /* no -nVALUE */
  BAD(W("unknown option '-cf'"), "-cf");
  BAD(W("unknown option '-count'"), "-count");
  BAD(W("unknown option '--c'"), "--c", "5");
  BAD(W("unknown option '--Count'"), "--Count", "5");
  /* A missing value at the end. */
  BAD(W("--count needs a value"), "--count");
  BAD(W("-c needs a value"), "--flag", "-c");
  BAD(W("--name needs a value"), "--name");
  BAD(W("--tag needs a value"), "--tag", "a", "--tag");
  BAD(W("--range needs a value"), "--range");
  /* Other arguments: refused, or taken in order with options around. */
  BAD(W("unexpected argument 'stray'"), "stray");
  BAD(W("unexpected argument '-'"), "-");
  ASSERT_EQ(run(&c, 1, "a", "--count", "3", "-", "b", (char *)NULL), AC__OPTS_OK);
  ASSERT_EQ(c.nargs, 3);
  ASSERT_STR_EQ(c.args[0], "a");
  ASSERT_STR_EQ(c.args[1], "-");
  ASSERT_STR_EQ(c.args[2], "b");
  ASSERT_UEQ(c.count, 3);
  ASSERT_EQ(run(&c, 1, "a", "refused", (char *)NULL), AC__OPTS_BAD);
  ASSERT_STR_EQ(errbuf, "acrawl test: 'refused' refused\n");
}

TEST_IMPL(opts_parse_values) {
  struct cfg c;
  /* Whole numbers: the bounds, garbage, empty, overflow; the error names
   * the option as spelled and the value. */
  OK("--count", "1");
  OK("--count", "100000");
  ASSERT_UEQ(c.count, 100000);
  BAD(W("--count wants a whole number from 1 to 100000, not '0'"), "--count", "0");
  BAD(W("-c wants a whole number from 1 to 100000, not '100001'"), "-c", "100001");
  BAD(W("--count wants", "not 'lots'"), "--count", "lots");
  BAD(W("--count wants", "not '12x'"), "--count", "12x");
  BAD(W("--count wants", "not '-1'"), "--count", "-1");
  BAD(W("--count wants", "not ''"), "--count", "");
  BAD(W("--count wants", "not ''"), "--count=");
  BAD(W("--count wants", "not '99999999999999999999'"), "--count=99999999999999999999");
  /* A 4-byte field holds at most INT32_MAX, whatever the table says. */
  OK("--small", "2147483647");
  ASSERT_EQ(c.small, 2147483647);
  BAD(W("--small wants a whole number from 0 to 2147483647, not '2147483648'"), "--small",
      "2147483648");
  OK("--u32", "70000");
  ASSERT_UEQ(c.u32, 70000);
  /* Sizes. */
  OK("--bytes", "16M");
  ASSERT_UEQ(c.bytes, (size_t)16 << 20);
  OK("--bytes=1T");
  ASSERT_UEQ(c.bytes, (size_t)1 << 40);
  OK("--bytes", "1");
  ASSERT_UEQ(c.bytes, 1);
  BAD(W("--bytes wants a size from 1 to 1T (bytes; K, M, G, T: KiB, MiB, GiB, TiB)", "not '1.5M'"),
      "--bytes", "1.5M");
  BAD(W("--bytes wants", "not '0'"), "--bytes", "0");
  BAD(W("--bytes wants", "not '1025G'"), "--bytes", "1025G");
  BAD(W("--bytes wants", "not '99999999999999999999G'"), "--bytes", "99999999999999999999G");
  BAD(W("--bytes wants", "not '16MB'"), "--bytes", "16MB");
  BAD(W("--bytes wants", "not ''"), "--bytes=");
  /* Numbers. */
  OK("--rate", "0");
  ASSERT_DEQ(c.rate, 0);
  OK("--rate=0.001");
  ASSERT_DEQ(c.rate, 0.001);
  OK("--rate", "1e6");
  ASSERT_DEQ(c.rate, 1e6);
  BAD(W("--rate wants 0 or a number from 0.001 to 1e+06, not '1e-300'"), "--rate", "1e-300");
  BAD(W("--rate wants 0 or a number", "not '1000001'"), "--rate", "1000001");
  BAD(W("--rate wants", "not 'inf'"), "--rate", "inf");
  BAD(W("--rate wants", "not 'nan'"), "--rate", "nan");
  BAD(W("--rate wants", "not '-1'"), "--rate", "-1");
  BAD(W("--rate wants", "not '1e400'"), "--rate", "1e400");
  BAD(W("--rate wants", "not '2x'"), "--rate", "2x");
  BAD(W("--rate wants", "not ''"), "--rate", "");
  OK("--share", "0");
  OK("--share", "1");
  BAD(W("--share wants a number from 0 to 1, not '1.5'"), "--share", "1.5");
  BAD(W("--share wants", "not 'abc'"), "--share", "abc");
  /* Words. */
  OK("--color", "green");
  ASSERT_EQ(c.color, 20);
  OK("--color=blue");
  ASSERT_EQ(c.color, 30);
  BAD(W("--color wants one of red|green|blue, not 'ugly'"), "--color", "ugly");
  BAD(W("--color wants one of", "not ''"), "--color=");
  BAD(W("--color wants", "not 'gree'"), "--color", "gree");
  BAD(W("--color wants", "not 'greens'"), "--color", "greens");
  BAD(W("--color wants", "not 'red|green'"), "--color", "red|green");
  /* Text: empty only where the option says so. */
  BAD(W("--name wants a non-empty NAME, not ''"), "--name", "");
  BAD(W("-n wants a non-empty NAME, not ''"), "-n", "");
  OK("--note", "");
  ASSERT_STR_EQ(c.note, "");
  OK("--note=");
  ASSERT_STR_EQ(c.note, "");
  /* Lists: each value kept, vetted, at most .max. */
  OK("--tag", "a", "-T", "b", "--tag=c");
  ASSERT_UEQ(c.tags.n, 3);
  ASSERT_STR_EQ(c.tags.v[0], "a");
  ASSERT_STR_EQ(c.tags.v[2], "c");
  BAD(W("at most 3 --tag options"), "--tag", "a", "--tag", "b", "--tag", "c", "--tag", "d");
  BAD(W("--tag wants a word without spaces, not 'a b'"), "--tag", "a b");
  BAD(W("--tag wants a non-empty TAG, not ''"), "--tag", "");
  /* A value of its own syntax. */
  OK("--range", "2-5");
  ASSERT_EQ(c.range_lo, 2);
  ASSERT_EQ(c.range_hi, 5);
  OK("--range=7-7");
  ASSERT_EQ(c.range_lo, 7);
  BAD(W("--range wants LO-HI with 1 <= LO <= HI <= 1000, not '5-2'"), "--range", "5-2");
  BAD(W("--range wants", "not ''"), "--range", "");
  BAD(W("--range wants", "not '1-2x'"), "--range", "1-2x");
}

TEST_IMPL(opts_usage) {
  struct ac__opts spec = {.cmd = "test",
                          .opts = test_opts,
                          .nopts = sizeof(test_opts) / sizeof(test_opts[0]),
                          .width = 16,
                          .intro = "usage: acrawl test [options]\n",
                          .outro = "Exit status: 0.\n"};
  char buf[8192];
  size_t n;
  FILE *f = tmpfile();
  ASSERT_NOT_NULL(f);
  ac__opts_usage(&spec, f);
  rewind(f);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  ASSERT(strncmp(buf, "usage: acrawl test [options]\n\noptions:\n", 39) == 0);
  ASSERT_NOT_NULL(strstr(buf, "\n  -n, --name NAME   a name\n"));
  ASSERT_NOT_NULL(strstr(buf, "\n  -f, --flag        a flag\n"));
  /* A second line of help in the same column. */
  ASSERT_NOT_NULL(
      strstr(buf, "\n  -T, --tag TAG     a tag; repeatable\n                    up to 3\n"));
  /* Too long for the column: the help goes under it. */
  ASSERT_NOT_NULL(strstr(buf, "\n  --color red|green|blue\n                    a color\n"));
  ASSERT_NOT_NULL(strstr(buf, "\n  -h, --help        print this help\n\nExit status: 0.\n"));
}
