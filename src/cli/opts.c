/*
 * The option parser of every acrawl command (opts.h): the value parsers,
 * the argv walk and the help, all driven by the command's table.
 */
#include "cli/opts.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int ac__opts_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  char *end;
  unsigned long long v;
  /* strtoull alone would take " 5", "+5" and "-1" (as 2^64 - 1). */
  if (s == NULL || !is_digit(s[0])) return -1;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max) return -1;
  *out = (uint64_t)v;
  return 0;
}

int ac__opts_size(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  static const char suffixes[] = "kmgt";
  char *end;
  unsigned long long v;
  unsigned shift = 0;
  if (s == NULL || !is_digit(s[0])) return -1;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0) return -1;
  if (*end != '\0') {
    const char *p = end[1] == '\0' ? strchr(suffixes, *end | 0x20) : NULL;
    if (p == NULL) return -1;
    shift = 10u * (unsigned)(p - suffixes + 1);
    if (v > (UINT64_MAX >> shift)) return -1; /* 99999999999999999999G */
    v <<= shift;
  }
  if (v < min || v > max) return -1;
  *out = (uint64_t)v;
  return 0;
}

int ac__opts_double(const char *s, double min, double max, int zero_ok, double *out) {
  char *end;
  double v;
  /* Decimal only: strtod would also take spaces, a sign, hex ("0x1p3"),
   * "inf", "infinity" and "nan". */
  if (s == NULL || !(is_digit(s[0]) || s[0] == '.') || s[strspn(s, "0123456789.eE+-")] != '\0')
    return -1;
  errno = 0;
  v = strtod(s, &end);
  /* ERANGE: an overflow, or an underflow ("1e-400") that is not its text. */
  if (errno != 0 || end == s || *end != '\0' || !isfinite(v)) return -1;
  if (!(zero_ok && v == 0) && !(v >= min && v <= max)) return -1;
  *out = v;
  return 0;
}

static FILE *err_of(const struct ac__opts *spec) { return spec->err != NULL ? spec->err : stderr; }

/* "1T", "16M", "1000": the largest suffix that is exact. */
static const char *fmt_size(uint64_t v, char *buf, size_t cap) {
  static const char suffixes[] = "KMGT";
  int i = 4;
  while (i > 0 && (v == 0 || v % (1ull << (10 * i)) != 0)) i--;
  if (i == 0)
    snprintf(buf, cap, "%llu", (unsigned long long)v);
  else
    snprintf(buf, cap, "%llu%c", (unsigned long long)(v >> (10 * i)), suffixes[i - 1]);
  return buf;
}

/* The largest value the field holds. */
static uint64_t field_max(const struct ac__opt *o) {
  uint64_t cap = o->size == 8 ? UINT64_MAX : (uint64_t)INT32_MAX;
  return o->max < cap ? o->max : cap;
}

static void store_uint(void *field, size_t size, uint64_t v) {
  if (size == 8) {
    memcpy(field, &v, 8);
  } else {
    uint32_t v32 = (uint32_t)v; /* at most INT32_MAX: an int holds it too */
    memcpy(field, &v32, 4);
  }
}

/* A table whose field does not fit its type is the program's error. */
static int field_ok(const struct ac__opts *spec, const struct ac__opt *o) {
  int ok = 1;
  switch (o->type) {
  case AC__OPT_FLAG:
  case AC__OPT_ENUM:
    ok = o->size == sizeof(int);
    break;
  case AC__OPT_STR:
    ok = o->size == sizeof(const char *);
    break;
  case AC__OPT_LIST:
    ok = o->size == sizeof(struct ac__opt_list);
    break;
  case AC__OPT_UINT:
  case AC__OPT_SIZE:
    ok = o->size == 4 || o->size == 8;
    break;
  case AC__OPT_DOUBLE:
    ok = o->size == sizeof(double);
    break;
  case AC__OPT_FUNC:
    ok = o->fn != NULL;
    break;
  }
  if (!ok)
    fprintf(err_of(spec), "acrawl %s: internal error: option %s has a field of %zu bytes\n",
            spec->cmd, o->name != NULL ? o->name : "(short)", o->size);
  return ok;
}

/* Sets the option from its value; says what was wanted if it is bad. */
static int set_value(const struct ac__opts *spec, const struct ac__opt *o, const char *spelled,
                     void *cfg, const char *value) {
  char *field = (char *)cfg + o->off;
  char wants[256], lo[32], hi[32];
  uint64_t u;
  double d;

  if (!field_ok(spec, o)) return -1;
  wants[0] = '\0';
  switch (o->type) {
  case AC__OPT_FLAG:
    break; /* not reached: it has no value */
  case AC__OPT_STR:
  case AC__OPT_LIST:
    if (*value == '\0' && !(o->flags & AC__OPT_EMPTY)) {
      snprintf(wants, sizeof(wants), "a non-empty %s", o->arg != NULL ? o->arg : "value");
      break;
    }
    if (o->fn != NULL && o->fn(field, value) != 0) {
      snprintf(wants, sizeof(wants), "%s", o->wants != NULL ? o->wants : "another value");
      break;
    }
    if (o->type == AC__OPT_STR) {
      memcpy(field, &value, sizeof(value));
      return 0;
    } else {
      struct ac__opt_list *l = (struct ac__opt_list *)(void *)field;
      size_t most = o->max < AC__OPT_LIST_MAX ? (size_t)o->max : AC__OPT_LIST_MAX;
      if (l->n >= most) {
        fprintf(err_of(spec), "acrawl %s: at most %zu %s options\n", spec->cmd, most, spelled);
        return -1;
      }
      l->v[l->n++] = value;
      return 0;
    }
  case AC__OPT_UINT:
    if (ac__opts_uint(value, o->min, field_max(o), &u) == 0) {
      store_uint(field, o->size, u);
      return 0;
    }
    snprintf(wants, sizeof(wants), "a whole number from %llu to %llu", (unsigned long long)o->min,
             (unsigned long long)field_max(o));
    break;
  case AC__OPT_SIZE:
    if (ac__opts_size(value, o->min, field_max(o), &u) == 0) {
      store_uint(field, o->size, u);
      return 0;
    }
    snprintf(wants, sizeof(wants), "a size from %s to %s (bytes; K, M, G, T: KiB, MiB, GiB, TiB)",
             fmt_size(o->min, lo, sizeof(lo)), fmt_size(field_max(o), hi, sizeof(hi)));
    break;
  case AC__OPT_DOUBLE:
    if (ac__opts_double(value, o->dmin, o->dmax, (o->flags & AC__OPT_ZERO) != 0, &d) == 0) {
      memcpy(field, &d, sizeof(d));
      return 0;
    }
    snprintf(wants, sizeof(wants), "%sa number from %g to %g",
             (o->flags & AC__OPT_ZERO) ? "0 or " : "", o->dmin, o->dmax);
    break;
  case AC__OPT_ENUM: {
    const char *w = o->arg;
    size_t vlen = strlen(value);
    for (int i = 0; *w != '\0'; i++) {
      size_t wlen = strcspn(w, "|");
      if (wlen == vlen && strncmp(w, value, vlen) == 0) {
        int v = o->values != NULL ? o->values[i] : i;
        memcpy(field, &v, sizeof(v));
        return 0;
      }
      w += wlen + (w[wlen] == '|');
    }
    snprintf(wants, sizeof(wants), "one of %s", o->arg);
    break;
  }
  case AC__OPT_FUNC:
    if (o->fn(field, value) == 0) return 0;
    snprintf(wants, sizeof(wants), "%s", o->wants != NULL ? o->wants : "another value");
    break;
  }
  fprintf(err_of(spec), "acrawl %s: %s wants %s, not '%s'\n", spec->cmd, spelled, wants, value);
  return -1;
}

int ac__opts_parse(const struct ac__opts *spec, void *cfg, int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *eq = NULL, *value;
    const struct ac__opt *o = NULL;
    char spelled[80];
    size_t nlen = 0;

    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return AC__OPTS_HELP;
    if (a[0] != '-' || a[1] == '\0') { /* "-" is an argument (stdin, say) */
      if (spec->positional == NULL) {
        fprintf(err_of(spec), "acrawl %s: unexpected argument '%s' (see acrawl %s --help)\n",
                spec->cmd, a, spec->cmd);
        return AC__OPTS_BAD;
      }
      if (spec->positional(cfg, a) != 0) return AC__OPTS_BAD;
      continue;
    }
    if (a[1] == '-') {
      eq = strchr(a + 2, '=');
      nlen = eq != NULL ? (size_t)(eq - (a + 2)) : strlen(a + 2);
      for (size_t k = 0; k < spec->nopts && o == NULL; k++)
        if (spec->opts[k].name != NULL && strlen(spec->opts[k].name) == nlen &&
            strncmp(spec->opts[k].name, a + 2, nlen) == 0)
          o = &spec->opts[k];
      nlen += 2;
    } else if (a[2] == '\0') {
      for (size_t k = 0; k < spec->nopts && o == NULL; k++)
        if (spec->opts[k].short_name == a[1]) o = &spec->opts[k];
      nlen = 2;
    }
    if (o == NULL) {
      fprintf(err_of(spec), "acrawl %s: unknown option '%.*s' (see acrawl %s --help)\n", spec->cmd,
              (int)(eq != NULL ? nlen : strlen(a)), a, spec->cmd);
      return AC__OPTS_BAD;
    }
    snprintf(spelled, sizeof(spelled), "%.*s", (int)nlen, a);
    if (o->type == AC__OPT_FLAG) {
      int v = (o->flags & AC__OPT_OFF) ? 0 : 1;
      if (eq != NULL) {
        fprintf(err_of(spec), "acrawl %s: %s takes no value\n", spec->cmd, spelled);
        return AC__OPTS_BAD;
      }
      if (!field_ok(spec, o)) return AC__OPTS_BAD;
      memcpy((char *)cfg + o->off, &v, sizeof(v));
      continue;
    }
    if (eq != NULL) {
      value = eq + 1;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      fprintf(err_of(spec), "acrawl %s: %s needs a value (see acrawl %s --help)\n", spec->cmd,
              spelled, spec->cmd);
      return AC__OPTS_BAD;
    }
    if (set_value(spec, o, spelled, cfg, value) != 0) return AC__OPTS_BAD;
  }
  return AC__OPTS_OK;
}

/* "  LEFT  help", the help's lines in one column. */
static void print_entry(FILE *out, int width, const char *left, const char *help) {
  int col = 2 + width + 2;
  if ((int)strlen(left) > width)
    fprintf(out, "  %s\n%*s", left, col, "");
  else
    fprintf(out, "  %-*s  ", width, left);
  if (*help == '\0') fputc('\n', out);
  for (const char *p = help; *p != '\0';) {
    size_t n = strcspn(p, "\n");
    fprintf(out, "%.*s\n", (int)n, p);
    p += n;
    if (*p == '\n' && *++p != '\0') fprintf(out, "%*s", col, "");
  }
}

void ac__opts_usage(const struct ac__opts *spec, FILE *out) {
  fputs(spec->intro, out);
  fputs("\noptions:\n", out);
  for (size_t i = 0; i < spec->nopts; i++) {
    const struct ac__opt *o = &spec->opts[i];
    const char *arg = o->type == AC__OPT_FLAG || o->arg == NULL ? "" : o->arg;
    char left[128];
    if (o->short_name != 0 && o->name != NULL)
      snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name, *arg ? " " : "", arg);
    else if (o->name != NULL)
      snprintf(left, sizeof(left), "--%s%s%s", o->name, *arg ? " " : "", arg);
    else
      snprintf(left, sizeof(left), "-%c%s%s", o->short_name, *arg ? " " : "", arg);
    print_entry(out, spec->width, left, o->help != NULL ? o->help : "");
  }
  print_entry(out, spec->width, "-h, --help", "print this help");
  if (spec->outro != NULL) {
    fputc('\n', out);
    fputs(spec->outro, out);
  }
}
