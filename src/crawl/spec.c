/*
 * Loading a spec (include/acrawl/spec.h): strict JSON, every key known,
 * every value checked, `${NAME}` taken from the environment, then the
 * resources linked (parents, children, placeholders). Each error names the
 * pointer of the key at fault and what was expected, so a typo is found
 * before any request is made.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/alloc.h"
#include "common/dynbuf.h"
#include "common/json_pointer.h"
#include "common/json_scan.h"
#include "crawl/internal.h"
#include "crawl/spec_internal.h"

/* A spec is a page of text, not a data set. */
#define SPEC_MAX_BYTES (4u << 20)
#define MAX_RESOURCES 64
#define MAX_DEPTH 16

typedef struct loader {
  ac_spec_error_t *err;
  char path[256]; /* the pointer being checked, without the leading '/' */
} loader_t;

static int fail(loader_t *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(loader_t *l, const char *fmt, ...) {
  va_list ap;
  size_t n;
  if (l->err == NULL) return AC_EINVAL;
  snprintf(l->err->pointer, sizeof(l->err->pointer), "%s", l->path);
  n = (size_t)snprintf(l->err->message, sizeof(l->err->message), "%s%s",
                       l->path[0] != '\0' ? l->path : "", l->path[0] != '\0' ? ": " : "");
  if (n >= sizeof(l->err->message)) n = sizeof(l->err->message) - 1;
  va_start(ap, fmt);
  vsnprintf(l->err->message + n, sizeof(l->err->message) - n, fmt, ap);
  va_end(ap);
  return AC_EINVAL;
}

/* Enter member `key` (or index `i` when key is NULL) of the pointer being
 * checked; returns the length to restore with leave(). */
static size_t enter(loader_t *l, const char *key, int i) {
  size_t n = strlen(l->path), cap = sizeof(l->path);
  const char *sep = n > 0 ? "/" : "";
  if (key == NULL) {
    snprintf(l->path + n, cap - n, "%s%d", sep, i);
  } else {
    /* A member name is escaped as a pointer step: '~' as ~0, '/' as ~1. */
    size_t m = n + strlen(sep);
    snprintf(l->path + n, cap - n, "%s", sep);
    for (const char *k = key; *k && m + 3 < cap; k++) {
      if (*k == '~' || *k == '/') {
        l->path[m++] = '~';
        l->path[m++] = *k == '~' ? '0' : '1';
      } else {
        l->path[m++] = *k;
      }
    }
    l->path[m] = '\0';
  }
  return n;
}
static void leave(loader_t *l, size_t n) { l->path[n] = '\0'; }

/* ------------------------------------------------------------ known keys */

/* Every member of obj is one of `known` (NULL-terminated), and none comes
 * twice. "$schema" is always allowed: editors use it to find the schema. */
static int check_keys(loader_t *l, const cJSON *obj, const char *const *known, const char *what) {
  for (const cJSON *m = obj->child; m != NULL; m = m->next) {
    int ok = strcmp(m->string, "$schema") == 0 && l->path[0] == '\0';
    for (const char *const *k = known; !ok && *k != NULL; k++) ok = strcmp(m->string, *k) == 0;
    for (const cJSON *o = obj->child; o != m; o = o->next)
      if (strcmp(o->string, m->string) == 0) {
        size_t n = enter(l, m->string, 0);
        int rc = fail(l, "given twice");
        leave(l, n);
        return rc;
      }
    if (!ok) {
      struct ac__dynbuf b;
      size_t n = enter(l, m->string, 0);
      int rc;
      ac__dynbuf_init(&b, 1024);
      for (const char *const *k = known; *k != NULL; k++)
        ac__dynbuf_addf(&b, "%s%s", k == known ? "" : ", ", *k);
      rc = fail(l, "unknown key in %s (known: %s)", what,
                ac__dynbuf_err(&b) == 0 && ac__dynbuf_ptr(&b) ? ac__dynbuf_ptr(&b) : "?");
      ac__dynbuf_free(&b);
      leave(l, n);
      return rc;
    }
  }
  return 0;
}

/* ------------------------------------------------------- value checkers */

static const char *type_name(const cJSON *v) {
  if (cJSON_IsString(v)) return "a string";
  if (cJSON_IsNumber(v)) return "a number";
  if (cJSON_IsBool(v)) return "a boolean";
  if (cJSON_IsNull(v)) return "null";
  if (cJSON_IsArray(v)) return "an array";
  return "an object";
}

/* The member `key` of obj, entered (the pointer names it) when present. */
typedef struct member {
  const cJSON *v;
  size_t mark;
} member_t;

static int get_str(loader_t *l, const cJSON *obj, const char *key, int required, char **out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  size_t n;
  int rc = 0;
  *out = NULL;
  if (v == NULL) {
    if (!required) return 0;
    return fail(l, "missing \"%s\" (a string)", key);
  }
  n = enter(l, key, 0);
  if (!cJSON_IsString(v)) rc = fail(l, "%s, where a string is expected", type_name(v));
  else if (v->valuestring[0] == '\0') rc = fail(l, "empty, where text is expected");
  else if ((*out = ac__strdup(v->valuestring)) == NULL) rc = AC_ENOMEM;
  leave(l, n);
  return rc;
}

/* A whole number in int64_t's range (without libm's floor). */
static int is_whole(double d) {
  return d > -9.2e18 && d < 9.2e18 && (double)(int64_t)d == d;
}

static int get_int(loader_t *l, const cJSON *obj, const char *key, int64_t min, int64_t max,
                   int64_t *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  size_t n;
  int rc = 0;
  if (v == NULL) return 0;
  n = enter(l, key, 0);
  if (!cJSON_IsNumber(v) || (!is_whole(v->valuedouble) && v->valuedouble > -9.2e18 &&
                              v->valuedouble < 9.2e18))
    rc = fail(l, "%s, where a whole number is expected",
              cJSON_IsNumber(v) ? "a fraction" : type_name(v));
  else if (!is_whole(v->valuedouble) || v->valuedouble < (double)min ||
           v->valuedouble > (double)max)
    rc = fail(l, "%.17g is out of range (%lld to %lld)", v->valuedouble, (long long)min,
              (long long)max);
  else *out = (int64_t)v->valuedouble;
  leave(l, n);
  return rc;
}

static int get_num(loader_t *l, const cJSON *obj, const char *key, double min, double max,
                   double *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  size_t n;
  int rc = 0;
  if (v == NULL) return 0;
  n = enter(l, key, 0);
  if (!cJSON_IsNumber(v)) rc = fail(l, "%s, where a number is expected", type_name(v));
  else if (!(v->valuedouble >= min && v->valuedouble <= max))
    rc = fail(l, "%.17g is out of range (%g to %g)", v->valuedouble, min, max);
  else *out = v->valuedouble;
  leave(l, n);
  return rc;
}

static int get_bool(loader_t *l, const cJSON *obj, const char *key, int *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  size_t n;
  int rc = 0;
  if (v == NULL) return 0;
  n = enter(l, key, 0);
  if (!cJSON_IsBool(v)) rc = fail(l, "%s, where true or false is expected", type_name(v));
  else *out = cJSON_IsTrue(v);
  leave(l, n);
  return rc;
}

static int get_pointer(loader_t *l, const cJSON *obj, const char *key, int required, char **out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  size_t n;
  int rc = 0;
  *out = NULL;
  /* "" is the whole value: a pointer, though get_str refuses empty text. */
  if (cJSON_IsString(v) && v->valuestring[0] == '\0')
    return (*out = ac__strdup("")) != NULL ? 0 : AC_ENOMEM;
  if (v == NULL && required) return fail(l, "missing \"%s\" (a JSON Pointer)", key);
  if (v != NULL && !cJSON_IsString(v)) {
    n = enter(l, key, 0);
    rc = fail(l, "%s, where a JSON Pointer is expected", type_name(v));
    leave(l, n);
    return rc;
  }
  if ((rc = get_str(l, obj, key, 0, out)) != 0 || *out == NULL) return rc;
  if (ac__json_pointer_check(*out) != 0) {
    n = enter(l, key, 0);
    rc = fail(l, "\"%s\" is not a JSON Pointer (RFC 6901: \"\" or \"/a/0\", '~' only as ~0 "
                 "or ~1)", *out);
    leave(l, n);
  }
  return rc;
}

static int is_name_char(char c, int first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (!first && c >= '0' && c <= '9');
}

int ac__spec_next_placeholder(const char *tmpl, size_t *pos, size_t *at, const char **name,
                              size_t *nlen) {
  for (size_t i = *pos; tmpl[i] != '\0'; i++) {
    size_t j = i + 1;
    if (tmpl[i] != '{' || !is_name_char(tmpl[j], 1)) continue;
    while (is_name_char(tmpl[j], 0)) j++;
    if (tmpl[j] != '}') continue;
    *at = i;
    *name = tmpl + i + 1;
    *nlen = j - i - 1;
    *pos = j + 1;
    return 1;
  }
  return 0;
}

int ac__spec_field_index(const ac__spec_res_t *r, const char *name, size_t nlen) {
  for (size_t i = 0; i < r->nfields; i++)
    if (strlen(r->fields[i].name) == nlen && memcmp(r->fields[i].name, name, nlen) == 0)
      return (int)i;
  return -1;
}

/* An object of scalars (strings; numbers and booleans too where `scalars`)
 * into name/template pairs. */
static int get_kvs(loader_t *l, const cJSON *obj, const char *key, int scalars,
                   ac__spec_kv_t **out, size_t *nout) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  size_t n, count = 0;
  int rc = 0;
  *out = NULL;
  *nout = 0;
  if (v == NULL) return 0;
  n = enter(l, key, 0);
  if (!cJSON_IsObject(v)) {
    rc = fail(l, "%s, where an object is expected", type_name(v));
    leave(l, n);
    return rc;
  }
  for (const cJSON *m = v->child; m != NULL; m = m->next) count++;
  if (count > 0 && (*out = ac__calloc(count, sizeof(**out))) == NULL) rc = AC_ENOMEM;
  for (const cJSON *m = v->child; rc == 0 && m != NULL; m = m->next) {
    size_t k = enter(l, m->string, 0);
    char num[64];
    const char *text = NULL;
    for (size_t i = 0; i < *nout; i++)
      if (strcmp((*out)[i].name, m->string) == 0) rc = fail(l, "given twice");
    if (rc != 0) {
    } else if (m->string[0] == '\0') {
      rc = fail(l, "an empty name");
    } else if (cJSON_IsString(m)) {
      text = m->valuestring;
    } else if (scalars && cJSON_IsNumber(m)) {
      /* The number as written would be better; cJSON keeps only its value,
       * so an integer is written as one, anything else with 17 digits. */
      if (is_whole(m->valuedouble) && m->valuedouble < 9007199254740992.0 &&
          m->valuedouble > -9007199254740992.0)
        snprintf(num, sizeof(num), "%lld", (long long)m->valuedouble);
      else
        snprintf(num, sizeof(num), "%.17g", m->valuedouble);
      text = num;
    } else if (scalars && cJSON_IsBool(m)) {
      text = cJSON_IsTrue(m) ? "true" : "false";
    } else {
      rc = fail(l, "%s, where %s is expected", type_name(m),
                scalars ? "a string, a number or a boolean" : "a string");
    }
    if (rc == 0) {
      ac__spec_kv_t *kv = &(*out)[(*nout)++];
      kv->name = ac__strdup(m->string);
      kv->tmpl = ac__strdup(text);
      if (kv->name == NULL || kv->tmpl == NULL) rc = AC_ENOMEM;
    }
    leave(l, k);
  }
  leave(l, n);
  return rc;
}

static void free_kvs(ac__spec_kv_t *kv, size_t n) {
  for (size_t i = 0; i < n; i++) {
    ac__free(kv[i].name);
    ac__free(kv[i].tmpl);
  }
  ac__free(kv);
}

/* ----------------------------------------------------- ${NAME} from env */

/* Replaces each `${NAME}` in every string value of the tree (not in member
 * names) by the environment's NAME; a `$` not so followed is text. */
static int expand_env(loader_t *l, cJSON *v) {
  int rc = 0, i = 0;
  if (cJSON_IsString(v) && strstr(v->valuestring, "${") != NULL) {
    struct ac__dynbuf b;
    const char *s = v->valuestring;
    ac__dynbuf_init(&b, SPEC_MAX_BYTES);
    while (*s != '\0' && rc == 0) {
      const char *e;
      if (s[0] == '$' && s[1] == '{' && is_name_char(s[2], 1)) {
        for (e = s + 3; is_name_char(*e, 0); e++) {}
        if (*e == '}') {
          char name[128];
          const char *val;
          size_t nl = (size_t)(e - s - 2);
          if (nl >= sizeof(name)) return fail(l, "an environment variable name too long");
          memcpy(name, s + 2, nl);
          name[nl] = '\0';
          if ((val = getenv(name)) == NULL) {
            ac__dynbuf_free(&b);
            return fail(l, "the environment variable %s is not set", name);
          }
          ac__dynbuf_adds(&b, val);
          s = e + 1;
          continue;
        }
      }
      ac__dynbuf_addc(&b, *s++);
    }
    if ((rc = ac__dynbuf_err(&b)) == 0) {
      char *text = ac__dynbuf_ptr(&b) != NULL ? ac__dynbuf_ptr(&b) : "";
      /* cJSON owns valuestring with its own allocator: replaced through it. */
      if (cJSON_SetValuestring(v, text) == NULL) rc = AC_ENOMEM;
    }
    ac__dynbuf_free(&b);
    return rc;
  }
  for (cJSON *m = v->child; m != NULL && rc == 0; m = m->next, i++) {
    size_t n = enter(l, cJSON_IsObject(v) ? m->string : NULL, i);
    rc = expand_env(l, m);
    leave(l, n);
  }
  return rc;
}

/* ------------------------------------------------------------ paginator */

static const char *const pager_types[] = {"none", "offset", "page", "cursor", "next_url",
                                          "link_header", NULL};

static int load_pager(loader_t *l, const cJSON *res, ac__spec_pager_t *pg) {
  static const char *const k_none[] = {"type", NULL};
  static const char *const k_offset[] = {"type", "in", "param", "limit_param", "limit",
                                         "start", "total", "max_pages", NULL};
  static const char *const k_page[] = {"type", "in", "param", "start", "size_param", "size",
                                       "total", "total_pages", "max_pages", NULL};
  static const char *const k_cursor[] = {"type", "in", "param", "from", "max_pages", NULL};
  static const char *const k_chain[] = {"type", "from", "max_pages", NULL};
  static const char *const k_link[] = {"type", "max_pages", NULL};
  static const char *const *const keys[] = {k_none, k_offset, k_page, k_cursor, k_chain, k_link};
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(res, "paginator");
  const cJSON *t, *in;
  size_t n;
  int rc = 0, i;
  pg->type = AC__PG_NONE;
  if (p == NULL) return 0;
  n = enter(l, "paginator", 0);
  if (!cJSON_IsObject(p)) {
    rc = fail(l, "%s, where an object is expected", type_name(p));
    goto out;
  }
  t = cJSON_GetObjectItemCaseSensitive(p, "type");
  if (t == NULL) {
    rc = fail(l, "missing \"type\" (offset, page, cursor, next_url, link_header, none)");
    goto out;
  }
  {
    size_t k = enter(l, "type", 0);
    if (!cJSON_IsString(t)) {
      rc = fail(l, "%s, where a paginator's name is expected (offset, page, cursor, "
                   "next_url, link_header, none)", type_name(t));
    } else {
      for (i = 0; pager_types[i] != NULL && strcmp(pager_types[i], t->valuestring) != 0; i++) {}
      if (pager_types[i] == NULL)
        rc = fail(l, "unknown paginator \"%s\" (offset, page, cursor, next_url, link_header, "
                     "none)", t->valuestring);
      else pg->type = (ac__pg_type_t)i;
    }
    leave(l, k);
    if (rc != 0) goto out;
  }
  if ((rc = check_keys(l, p, keys[pg->type], "this paginator")) != 0) goto out;
  if ((in = cJSON_GetObjectItemCaseSensitive(p, "in")) != NULL) {
    size_t k = enter(l, "in", 0);
    if (!cJSON_IsString(in) || (strcmp(in->valuestring, "query") != 0 &&
                                strcmp(in->valuestring, "json") != 0))
      rc = fail(l, "\"query\" or \"json\" expected");
    else pg->in_json = strcmp(in->valuestring, "json") == 0;
    leave(l, k);
    if (rc != 0) goto out;
  }
  if ((rc = get_int(l, p, "max_pages", 1, INT64_C(1) << 40, &pg->max_pages)) != 0) goto out;
  switch (pg->type) {
  case AC__PG_OFFSET:
    if ((rc = get_str(l, p, "param", 0, &pg->param)) != 0 ||
        (rc = get_str(l, p, "limit_param", 0, &pg->limit_param)) != 0 ||
        (rc = get_int(l, p, "start", 0, INT64_C(1) << 50, &pg->start)) != 0 ||
        (rc = get_pointer(l, p, "total", 0, &pg->total)) != 0)
      break;
    if (cJSON_GetObjectItemCaseSensitive(p, "limit") == NULL) {
      rc = fail(l, "missing \"limit\" (the items per page, a whole number)");
      break;
    }
    if ((rc = get_int(l, p, "limit", 1, 1000000, &pg->limit)) != 0) break;
    if (pg->param == NULL && (pg->param = ac__strdup("offset")) == NULL) rc = AC_ENOMEM;
    if (pg->limit_param == NULL && (pg->limit_param = ac__strdup("limit")) == NULL) rc = AC_ENOMEM;
    break;
  case AC__PG_PAGE:
    pg->start = 1;
    if ((rc = get_str(l, p, "param", 0, &pg->param)) != 0 ||
        (rc = get_int(l, p, "start", 0, INT64_C(1) << 50, &pg->start)) != 0 ||
        (rc = get_str(l, p, "size_param", 0, &pg->size_param)) != 0 ||
        (rc = get_int(l, p, "size", 1, 1000000, &pg->size)) != 0 ||
        (rc = get_pointer(l, p, "total", 0, &pg->total)) != 0 ||
        (rc = get_pointer(l, p, "total_pages", 0, &pg->total_pages)) != 0)
      break;
    if (pg->total != NULL && pg->total_pages != NULL)
      rc = fail(l, "\"total\" (items) and \"total_pages\" both given: one says where the end is");
    else if (pg->total != NULL && pg->size == 0)
      rc = fail(l, "\"total\" counts items: \"size\" (items per page) is needed to count pages");
    else if (pg->size_param != NULL && pg->size == 0)
      rc = fail(l, "\"size_param\" without \"size\": the value to send is needed");
    else if (pg->param == NULL && (pg->param = ac__strdup("page")) == NULL)
      rc = AC_ENOMEM;
    break;
  case AC__PG_CURSOR:
    if ((rc = get_str(l, p, "param", 0, &pg->param)) != 0 ||
        (rc = get_pointer(l, p, "from", 1, &pg->from)) != 0)
      break;
    if (pg->param == NULL && (pg->param = ac__strdup("cursor")) == NULL) rc = AC_ENOMEM;
    break;
  case AC__PG_NEXT_URL: rc = get_pointer(l, p, "from", 1, &pg->from); break;
  default: break;
  }
out:
  leave(l, n);
  return rc;
}

static void free_pager(ac__spec_pager_t *pg) {
  ac__free(pg->param);
  ac__free(pg->limit_param);
  ac__free(pg->size_param);
  ac__free(pg->total);
  ac__free(pg->total_pages);
  ac__free(pg->from);
}

/* ------------------------------------------------------------- resource */

/* A method is an HTTP token (RFC 9110 section 5.6.2). */
static int is_token(const char *s) {
  if (*s == '\0') return 0;
  for (; *s; s++)
    if (!(is_name_char(*s, 0) || strchr("!#$%&'*+-.^`|~", *s) != NULL)) return 0;
  return 1;
}

static int load_resource(loader_t *l, const cJSON *v, ac__spec_res_t *r) {
  static const char *const known[] = {"name", "kind", "parent", "fields", "path", "method",
                                      "params", "headers", "json", "form", "records", "emit",
                                      "key", "collection", "expect", "paginator", NULL};
  const cJSON *kind, *json;
  int rc;
  r->parent = -1;
  r->emit = 1;
  if (!cJSON_IsObject(v)) return fail(l, "%s, where a resource (an object) is expected",
                                      type_name(v));
  if ((rc = check_keys(l, v, known, "a resource")) != 0) return rc;
  if ((kind = cJSON_GetObjectItemCaseSensitive(v, "kind")) != NULL) {
    size_t n = enter(l, "kind", 0);
    if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "json") != 0)
      rc = fail(l, "only \"json\" resources exist (HTML ones will come with their own kind)");
    leave(l, n);
    if (rc != 0) return rc;
  }
  if ((rc = get_str(l, v, "name", 1, &r->name)) != 0 ||
      (rc = get_str(l, v, "path", 1, &r->path)) != 0 ||
      (rc = get_str(l, v, "method", 0, &r->method)) != 0 ||
      (rc = get_kvs(l, v, "params", 1, &r->params, &r->nparams)) != 0 ||
      (rc = get_kvs(l, v, "headers", 0, &r->headers, &r->nheaders)) != 0 ||
      (rc = get_kvs(l, v, "form", 1, &r->form, &r->nform)) != 0 ||
      (rc = get_kvs(l, v, "fields", 0, &r->fields, &r->nfields)) != 0 ||
      (rc = get_kvs(l, v, "expect", 1, &r->expect, &r->nexpect)) != 0 ||
      (rc = get_pointer(l, v, "records", 0, &r->records)) != 0 ||
      (rc = get_bool(l, v, "emit", &r->emit)) != 0 ||
      (rc = get_pointer(l, v, "key", 0, &r->key)) != 0 ||
      (rc = load_pager(l, v, &r->pager)) != 0)
    return rc;
  if (r->method == NULL) {
    if ((r->method = ac__strdup("GET")) == NULL) return AC_ENOMEM;
  } else if (!is_token(r->method)) {
    size_t n = enter(l, "method", 0);
    rc = fail(l, "\"%s\" is not an HTTP method", r->method);
    leave(l, n);
    return rc;
  }
  if (r->nfields > AC__SPEC_MAX_FIELDS) {
    size_t n = enter(l, "fields", 0);
    rc = fail(l, "%zu fields: at most %d", r->nfields, AC__SPEC_MAX_FIELDS);
    leave(l, n);
    return rc;
  }
  for (size_t i = 0; i < r->nfields; i++) {
    size_t n = enter(l, "fields", 0), k = enter(l, r->fields[i].name, 0);
    const char *bad = r->fields[i].name;
    while (is_name_char(*bad, bad == r->fields[i].name)) bad++;
    if (*bad != '\0')
      rc = fail(l, "a field's name is letters, digits and '_', not starting with a digit");
    else if (ac__json_pointer_check(r->fields[i].tmpl) != 0)
      rc = fail(l, "\"%s\" is not a JSON Pointer", r->fields[i].tmpl);
    leave(l, k);
    leave(l, n);
    if (rc != 0) return rc;
  }
  for (size_t i = 0; i < r->nexpect; i++)
    if (ac__json_pointer_check(r->expect[i].name) != 0) {
      size_t n = enter(l, "expect", 0), k = enter(l, r->expect[i].name, 0);
      rc = fail(l, "a key of \"expect\" is a JSON Pointer into the record");
      leave(l, k);
      leave(l, n);
      return rc;
    }
  if ((json = cJSON_GetObjectItemCaseSensitive(v, "json")) != NULL) {
    if (cJSON_GetObjectItemCaseSensitive(v, "form") != NULL)
      return fail(l, "\"json\" and \"form\" both given: a request has one body");
    if ((r->json = cJSON_Duplicate(json, 1)) == NULL) return AC_ENOMEM;
  }
  if (r->pager.in_json && r->json != NULL && !cJSON_IsObject(r->json)) {
    size_t n = enter(l, "json", 0);
    rc = fail(l, "the paginator puts its values in the JSON body: it must be an object");
    leave(l, n);
    return rc;
  }
  if (r->pager.in_json && r->form != NULL)
    return fail(l, "the paginator puts its values in a JSON body, but the body is a form");
  if (r->emit && r->key == NULL)
    return fail(l, "an emitting resource needs \"key\" (a JSON Pointer to each record's key), "
                   "or \"emit\": false");
  return 0;
}

static void free_resource(ac__spec_res_t *r) {
  ac__free(r->name);
  ac__free(r->path);
  ac__free(r->method);
  free_kvs(r->params, r->nparams);
  free_kvs(r->headers, r->nheaders);
  free_kvs(r->form, r->nform);
  free_kvs(r->fields, r->nfields);
  free_kvs(r->expect, r->nexpect);
  cJSON_Delete(r->json);
  ac__free(r->records);
  ac__free(r->key);
  free_pager(&r->pager);
  ac__free(r->children);
}

/* Every placeholder of tmpl names a field of r; `where` is the key checked. */
static int check_tmpl(loader_t *l, const ac__spec_res_t *r, const char *tmpl) {
  size_t pos = 0, at, nlen;
  const char *name;
  while (ac__spec_next_placeholder(tmpl, &pos, &at, &name, &nlen)) {
    if (ac__spec_field_index(r, name, nlen) >= 0) continue;
    if (r->parent < 0)
      return fail(l, "{%.*s}: a placeholder needs a parent resource whose records fill it "
                     "(\"parent\" and \"fields\")", (int)nlen, name);
    return fail(l, "{%.*s}: no such field (\"fields\" names what the parent's records give)",
                (int)nlen, name);
  }
  return 0;
}

static int check_kv_tmpls(loader_t *l, const ac__spec_res_t *r, const char *key,
                          const ac__spec_kv_t *kv, size_t n) {
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    size_t a = enter(l, key, 0), b = enter(l, kv[i].name, 0);
    rc = check_tmpl(l, r, kv[i].tmpl);
    leave(l, b);
    leave(l, a);
  }
  return rc;
}

static int check_json_tmpls(loader_t *l, const ac__spec_res_t *r, const cJSON *v) {
  int rc = 0, i = 0;
  if (cJSON_IsString(v)) return check_tmpl(l, r, v->valuestring);
  for (const cJSON *m = v->child; m != NULL && rc == 0; m = m->next, i++) {
    size_t n = enter(l, cJSON_IsObject(v) ? m->string : NULL, i);
    rc = check_json_tmpls(l, r, m);
    leave(l, n);
  }
  return rc;
}

/* A collection becomes a table or collection name: plain characters only. */
static int name_ok(const char *s) {
  for (; *s; s++)
    if (!(is_name_char(*s, 0) || *s == '-')) return 0;
  return 1;
}

/* r's items go to collection `name`: one of the spec's, added the first
 * time a resource names it. */
static int add_collection(ac_spec_t *s, ac__spec_res_t *r, const char *name) {
  char **v;
  for (size_t i = 0; i < s->ncollections; i++)
    if (strcmp(s->collections[i], name) == 0) {
      r->collection = s->collections[i];
      return 0;
    }
  if ((v = ac__realloc(s->collections, (s->ncollections + 1) * sizeof(*v))) == NULL)
    return AC_ENOMEM;
  s->collections = v;
  if ((v[s->ncollections] = ac__strdup(name)) == NULL) return AC_ENOMEM;
  r->collection = v[s->ncollections++];
  return 0;
}

/* Parents by name, depths, children, placeholders, collections; the
 * pointer being checked is "resources". */
static int link_resources(loader_t *l, ac_spec_t *s, const cJSON *arr, const char *spec_coll) {
  int rc = 0;
  for (size_t i = 0; i < s->nres; i++) {
    ac__spec_res_t *r = &s->res[i];
    const cJSON *rv = cJSON_GetArrayItem(arr, (int)i);
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(rv, "parent");
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(rv, "collection");
    size_t n = enter(l, NULL, (int)i);
    for (size_t j = 0; j < i; j++)
      if (strcmp(s->res[j].name, r->name) == 0) {
        size_t k = enter(l, "name", 0);
        rc = fail(l, "\"%s\" names resource %zu already", r->name, j);
        leave(l, k);
        goto out;
      }
    if (pv != NULL) {
      size_t k = enter(l, "parent", 0);
      if (!cJSON_IsString(pv)) rc = fail(l, "%s, where a resource's name is expected",
                                         type_name(pv));
      for (size_t j = 0; rc == 0 && j < s->nres; j++)
        if (strcmp(s->res[j].name, pv->valuestring) == 0) r->parent = (int)j;
      if (rc == 0 && r->parent < 0) rc = fail(l, "no resource is named \"%s\"", pv->valuestring);
      if (rc == 0 && r->parent == (int)i) rc = fail(l, "a resource cannot be its own parent");
      leave(l, k);
      if (rc != 0) goto out;
    } else if (r->nfields > 0) {
      size_t k = enter(l, "fields", 0);
      rc = fail(l, "fields are taken from a parent's records: \"parent\" is missing");
      leave(l, k);
      goto out;
    }
    if (cv != NULL) {
      char *c = NULL;
      if ((rc = get_str(l, rv, "collection", 1, &c)) != 0) goto out;
      ac__free(c);
    }
    if (r->emit) {
      const char *mine = cJSON_IsString(cv) ? cv->valuestring : spec_coll;
      if (!name_ok(mine)) {
        size_t k = enter(l, "collection", 0);
        rc = fail(l, "\"%s\": letters, digits, '_' and '-' only (it names a table)", mine);
        leave(l, k);
        goto out;
      }
      if ((rc = add_collection(s, r, mine)) != 0) goto out;
    }
  out:
    leave(l, n);
    if (rc != 0) return rc;
  }
  if (s->ncollections == 0)
    return fail(l, "no resource emits items (every one has \"emit\": false)");
  s->collection = s->collections[0];
  /* Depths, and cycles: a chain of parents longer than the resources. */
  for (size_t i = 0; i < s->nres; i++) {
    int d = 0;
    for (int p = s->res[i].parent; p >= 0; p = s->res[p].parent)
      if (++d > (int)s->nres || d > MAX_DEPTH) {
        size_t k = enter(l, NULL, (int)i), m = enter(l, "parent", 0);
        int e = fail(l, "the parents make a cycle (or a chain deeper than %d)", MAX_DEPTH);
        leave(l, m);
        leave(l, k);
        return e;
      }
    s->res[i].depth = d;
    if (s->res[i].parent >= 0) {
      ac__spec_res_t *p = &s->res[s->res[i].parent];
      int *c = ac__realloc(p->children, (p->nchildren + 1) * sizeof(*c));
      if (c == NULL) return AC_ENOMEM;
      p->children = c;
      p->children[p->nchildren++] = (int)i;
    }
  }
  /* Placeholders, now that every resource knows its parent. */
  for (size_t i = 0; i < s->nres; i++) {
    ac__spec_res_t *r = &s->res[i];
    size_t b = enter(l, NULL, (int)i), c = enter(l, "path", 0);
    rc = check_tmpl(l, r, r->path);
    leave(l, c);
    if (rc == 0) rc = check_kv_tmpls(l, r, "params", r->params, r->nparams);
    if (rc == 0) rc = check_kv_tmpls(l, r, "headers", r->headers, r->nheaders);
    if (rc == 0) rc = check_kv_tmpls(l, r, "form", r->form, r->nform);
    if (rc == 0) rc = check_kv_tmpls(l, r, "expect", r->expect, r->nexpect);
    if (rc == 0 && r->json != NULL) {
      c = enter(l, "json", 0);
      rc = check_json_tmpls(l, r, r->json);
      leave(l, c);
    }
    leave(l, b);
    if (rc != 0) return rc;
  }
  return 0;
}

/* The key member of the emitting resources of `collection` (NULL: of
 * every one), when all use the same one-step key; NULL otherwise. */
static const char *one_key_field(const ac_spec_t *s, const char *collection) {
  const char *field = NULL;
  for (size_t i = 0; i < s->nres; i++) {
    const char *k = s->res[i].key;
    if (!s->res[i].emit) continue;
    if (collection != NULL && strcmp(s->res[i].collection, collection) != 0) continue;
    if (k[0] != '/' || strchr(k + 1, '/') != NULL || strchr(k, '~') != NULL || k[1] == '\0' ||
        (field != NULL && strcmp(field, k + 1) != 0))
      return NULL;
    field = k + 1;
  }
  return field;
}

/* The key fields for stores that index one (see ac_spec_key_field and
 * ac_spec_collection_key_field). */
static int set_key_fields(ac_spec_t *s) {
  const char *field = one_key_field(s, NULL);
  if (field != NULL && (s->key_field = ac__strdup(field)) == NULL) return AC_ENOMEM;
  if ((s->key_fields = ac__calloc(s->ncollections, sizeof(*s->key_fields))) == NULL)
    return AC_ENOMEM;
  for (size_t i = 0; i < s->ncollections; i++)
    if ((field = one_key_field(s, s->collections[i])) != NULL &&
        (s->key_fields[i] = ac__strdup(field)) == NULL)
      return AC_ENOMEM;
  return 0;
}

/* An absolute http(s) URL with a host, as libcurl reads it. */
static int is_http_url(const char *s) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL;
  int ok = u != NULL && curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
           (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) && host[0] != '\0';
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return ok;
}

int ac__spec_url_ok(const char *url) { return is_http_url(url); }

static int load_tree(loader_t *l, cJSON *doc, ac_spec_t *s) {
  static const char *const known[] = {"name", "base_url", "headers", "resources", "concurrency",
                                      "per_host", "rate", "retries", "timeout", NULL};
  const cJSON *res;
  int rc, i = 0;
  if (!cJSON_IsObject(doc)) return fail(l, "a spec is a JSON object, not %s", type_name(doc));
  if ((rc = check_keys(l, doc, known, "a spec")) != 0) return rc;
  if ((rc = expand_env(l, doc)) != 0) return rc;
  if ((rc = get_str(l, doc, "name", 1, &s->name)) != 0 ||
      (rc = get_str(l, doc, "base_url", 1, &s->base_url)) != 0 ||
      (rc = get_kvs(l, doc, "headers", 0, &s->headers, &s->nheaders)) != 0 ||
      (rc = get_int(l, doc, "concurrency", 1, 100000, &s->concurrency)) != 0 ||
      (rc = get_int(l, doc, "per_host", 1, 100000, &s->per_host)) != 0 ||
      (rc = get_int(l, doc, "retries", 0, 100, &s->retries)) != 0 ||
      (rc = get_num(l, doc, "rate", 0.001, 1e6, &s->rate)) != 0 ||
      (rc = get_num(l, doc, "timeout", 0.001, 86400, &s->timeout_s)) != 0)
    return rc;
  if (!name_ok(s->name)) {
    size_t n = enter(l, "name", 0);
    rc = fail(l, "\"%s\": letters, digits, '_' and '-' only (it names the store's table)",
              s->name);
    leave(l, n);
    return rc;
  }
  if (!is_http_url(s->base_url)) {
    size_t n = enter(l, "base_url", 0);
    rc = fail(l, "\"%s\" is not an absolute http:// or https:// URL", s->base_url);
    leave(l, n);
    return rc;
  }
  for (size_t h = 0; h < s->nheaders; h++) {
    size_t pos = 0, at, nlen;
    const char *name;
    if (ac__spec_next_placeholder(s->headers[h].tmpl, &pos, &at, &name, &nlen)) {
      size_t a = enter(l, "headers", 0), b = enter(l, s->headers[h].name, 0);
      rc = fail(l, "{%.*s}: the spec's headers have no fields to fill placeholders (a "
                   "resource's headers do)", (int)nlen, name);
      leave(l, b);
      leave(l, a);
      return rc;
    }
  }
  res = cJSON_GetObjectItemCaseSensitive(doc, "resources");
  if (res == NULL) return fail(l, "missing \"resources\" (an array of resources)");
  {
    size_t n = enter(l, "resources", 0);
    int count = cJSON_GetArraySize(res);
    if (!cJSON_IsArray(res)) rc = fail(l, "%s, where an array of resources is expected",
                                       type_name(res));
    else if (count == 0) rc = fail(l, "no resource: at least one is needed");
    else if (count > MAX_RESOURCES) rc = fail(l, "%d resources: at most %d", count, MAX_RESOURCES);
    else if ((s->res = ac__calloc((size_t)count, sizeof(*s->res))) == NULL) rc = AC_ENOMEM;
    for (const cJSON *r = rc == 0 ? res->child : NULL; r != NULL && rc == 0; r = r->next, i++) {
      size_t k = enter(l, NULL, i);
      s->nres++;
      rc = load_resource(l, r, &s->res[i]);
      leave(l, k);
    }
    if (rc == 0) rc = link_resources(l, s, res, s->name);
    leave(l, n);
  }
  if (rc == 0) {
    size_t n = enter(l, "resources", 0);
    int roots = 0;
    for (size_t r = 0; r < s->nres; r++) roots += s->res[r].parent < 0;
    if (roots == 0) rc = fail(l, "every resource has a parent: none starts the crawl");
    leave(l, n);
  }
  if (rc == 0) rc = set_key_fields(s);
  return rc;
}

/* Line and column (1-based) of byte pos, for a parse error. */
static void line_col(const char *text, size_t pos, size_t *line, size_t *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < pos; i++) {
    if (text[i] == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

/* The document without its layout, hashed: the same spec reformatted has
 * the same digest, one changed in any value (a limit, a template) another. */
static int digest(const cJSON *doc, char out[17]) {
  char *text = cJSON_PrintUnformatted(doc);
  if (text == NULL) return AC_ENOMEM;
  snprintf(out, 17, "%016llx", (unsigned long long)ac__crawl_hash(text));
  cJSON_free(text);
  return 0;
}

int ac_spec_load(const char *text, size_t len, ac_spec_t **out, ac_spec_error_t *err) {
  loader_t l;
  ac_spec_t *s;
  cJSON *doc;
  size_t pos = 0;
  int rc;
  memset(&l, 0, sizeof(l));
  l.err = err;
  if (err != NULL) memset(err, 0, sizeof(*err));
  if (out == NULL) return AC_EINVAL;
  *out = NULL;
  if (text == NULL) return fail(&l, "no text");
  if (len > SPEC_MAX_BYTES) return fail(&l, "%zu bytes: a spec is at most %u", len, SPEC_MAX_BYTES);
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
    text += 3;
    len -= 3;
  }
  /* The strict scanner first: cJSON takes invalid UTF-8 and stray bytes. */
  if (ac__json_scan(text, len, NULL, NULL, NULL, &pos) != 0) {
    size_t line, col;
    line_col(text, pos, &line, &col);
    return fail(&l, "not JSON: line %zu, column %zu", line, col);
  }
  if ((doc = cJSON_ParseWithLength(text, len)) == NULL) return AC_ENOMEM;
  if ((s = ac__calloc(1, sizeof(*s))) == NULL) {
    cJSON_Delete(doc);
    return AC_ENOMEM;
  }
  s->concurrency = s->per_host = s->retries = -1;
  rc = load_tree(&l, doc, s);
  if (rc == 0) rc = digest(doc, s->digest);
  cJSON_Delete(doc);
  if (rc != 0) {
    if (rc == AC_ENOMEM && err != NULL) fail(&l, "out of memory");
    ac_spec_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

int ac_spec_load_file(const char *path, ac_spec_t **out, ac_spec_error_t *err) {
  FILE *f;
  struct ac__dynbuf b;
  char chunk[8192];
  size_t n;
  int rc;
  if (err != NULL) memset(err, 0, sizeof(*err));
  if (out != NULL) *out = NULL;
  if (path == NULL || out == NULL) return AC_EINVAL;
  if ((f = fopen(path, "rb")) == NULL) {
    if (err != NULL) snprintf(err->message, sizeof(err->message), "cannot read %s: %s", path,
                              strerror(errno));
    return AC_EIO;
  }
  ac__dynbuf_init(&b, SPEC_MAX_BYTES + 1);
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && ac__dynbuf_add(&b, chunk, n) == 0) {}
  rc = ferror(f) ? AC_EIO : ac__dynbuf_err(&b);
  fclose(f);
  if (rc != 0) {
    if (err != NULL)
      snprintf(err->message, sizeof(err->message), "cannot read %s: %s", path,
               rc == AC_ETOOLARGE ? "over 4 MiB: not a spec" : rc == AC_EIO ? "read error"
                                                                             : "out of memory");
    ac__dynbuf_free(&b);
    return rc == AC_ENOMEM ? AC_ENOMEM : rc == AC_ETOOLARGE ? AC_EINVAL : AC_EIO;
  }
  rc = ac_spec_load(ac__dynbuf_ptr(&b) != NULL ? ac__dynbuf_ptr(&b) : "", ac__dynbuf_len(&b),
                    out, err);
  ac__dynbuf_free(&b);
  return rc;
}

void ac_spec_free(ac_spec_t *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < s->nres; i++) free_resource(&s->res[i]);
  ac__free(s->res);
  free_kvs(s->headers, s->nheaders);
  ac__free(s->name);
  ac__free(s->base_url);
  for (size_t i = 0; i < s->ncollections; i++) {
    ac__free(s->collections[i]);
    if (s->key_fields != NULL) ac__free(s->key_fields[i]);
  }
  ac__free(s->collections);
  ac__free(s->key_fields);
  ac__free(s->key_field);
  ac__free(s);
}

const char *ac_spec_name(const ac_spec_t *s) { return s != NULL ? s->name : NULL; }
const char *ac_spec_base_url(const ac_spec_t *s) { return s != NULL ? s->base_url : NULL; }
const char *ac_spec_digest(const ac_spec_t *s) { return s != NULL ? s->digest : NULL; }
const char *ac_spec_collection(const ac_spec_t *s) { return s != NULL ? s->collection : NULL; }
const char *ac_spec_key_field(const ac_spec_t *s) { return s != NULL ? s->key_field : NULL; }

size_t ac_spec_collections(const ac_spec_t *s, const char *const **names) {
  if (names != NULL) *names = s != NULL ? (const char *const *)s->collections : NULL;
  return s != NULL ? s->ncollections : 0;
}

const char *ac_spec_collection_key_field(const ac_spec_t *s, const char *collection) {
  if (s == NULL || collection == NULL || s->key_fields == NULL) return NULL;
  for (size_t i = 0; i < s->ncollections; i++)
    if (strcmp(s->collections[i], collection) == 0) return s->key_fields[i];
  return NULL;
}

void ac_spec_crawl_defaults(const ac_spec_t *s, ac_crawl_opts_t *o) {
  if (s == NULL || o == NULL) return;
  if (s->concurrency > 0) o->concurrency = (size_t)s->concurrency;
  if (s->per_host > 0) o->per_host = (size_t)s->per_host;
  if (s->retries >= 0) o->retries = (int)s->retries;
  if (s->rate > 0) o->rate = s->rate;
  if (s->timeout_s > 0) o->timeout_ms = (uint64_t)(s->timeout_s * 1000);
}
