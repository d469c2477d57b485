/*
 * JSON Pointer over valid JSON text (json_pointer.h). The text was checked
 * by ac__json_scan, so the walk only finds where values end: strings by
 * their closing quote (skipping escapes), containers by their depth, the
 * rest by their first byte. Nothing is allocated but for a pointer's decoded
 * steps and, rarely, a member name written with escapes.
 */
#include "common/json_pointer.h"

#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"

static const char *skip_ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* p at a string's opening quote: past its closing one. */
static const char *string_end(const char *p, const char *e) {
  for (p++; p < e; p++) {
    if (*p == '\\') p++;
    else if (*p == '"') return p + 1;
  }
  return e;
}

/* p at a value's first byte: past its last one, with its type. */
static const char *value_end(const char *p, const char *e, ac__json_type_t *type) {
  size_t depth = 0;
  switch (*p) {
  case '"':
    *type = AC__JSON_STRING;
    return string_end(p, e);
  case '{':
  case '[':
    *type = *p == '{' ? AC__JSON_OBJECT : AC__JSON_ARRAY;
    while (p < e) {
      if (*p == '"') {
        p = string_end(p, e);
        continue;
      }
      if (*p == '{' || *p == '[') depth++;
      else if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
      p++;
    }
    return e;
  case 't':
    *type = AC__JSON_TRUE;
    return p + 4 <= e ? p + 4 : e;
  case 'f':
    *type = AC__JSON_FALSE;
    return p + 5 <= e ? p + 5 : e;
  case 'n':
    *type = AC__JSON_NULL;
    return p + 4 <= e ? p + 4 : e;
  default:
    *type = AC__JSON_NUMBER;
    while (p < e && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' ||
                     *p == 'e' || *p == 'E'))
      p++;
    return p;
  }
}

int ac__json_pointer_check(const char *ptr) {
  if (ptr == NULL || (*ptr != '\0' && *ptr != '/')) return AC_EINVAL;
  for (; *ptr != '\0'; ptr++)
    if (*ptr == '~' && ptr[1] != '0' && ptr[1] != '1') return AC_EINVAL;
  return 0;
}

/* The step starting at *ptr (past its '/') decoded into tok: its length;
 * *ptr is left at the next '/' or the end. */
static size_t next_step(const char **ptr, char *tok) {
  const char *p = *ptr;
  size_t n = 0;
  for (; *p != '\0' && *p != '/'; p++) {
    if (*p == '~') {
      tok[n++] = p[1] == '1' ? '/' : '~';
      p++;
    } else {
      tok[n++] = *p;
    }
  }
  *ptr = p;
  return n;
}

/* Whether the member name at key (its opening quote) to kend (past its
 * closing one) is tok, compared unescaped. 1, 0, or AC_ENOMEM. */
static int name_is(const char *key, const char *kend, const char *tok, size_t tlen) {
  size_t raw = (size_t)(kend - key) - 2;
  ac__json_span_t s = {AC__JSON_STRING, key, (size_t)(kend - key)};
  char *text;
  int n, same;
  if (memchr(key + 1, '\\', raw) == NULL) return raw == tlen && memcmp(key + 1, tok, tlen) == 0;
  if (tlen > raw) return 0; /* an escape never writes more bytes than it takes */
  text = ac__malloc(raw + 1);
  if (text == NULL) return AC_ENOMEM;
  n = ac__json_span_text(&s, text, raw + 1);
  same = n >= 0 && (size_t)n == tlen && memcmp(text, tok, tlen) == 0;
  ac__free(text);
  return same;
}

/* An array step: digits without a leading zero, that fit. 0 with *index, or -1. */
static int parse_index(const char *tok, size_t tlen, size_t *index) {
  size_t v = 0;
  if (tlen == 0 || (tok[0] == '0' && tlen > 1)) return -1;
  for (size_t i = 0; i < tlen; i++) {
    if (tok[i] < '0' || tok[i] > '9') return -1;
    if (v > ((size_t)-1 - 9) / 10) return -1;
    v = v * 10 + (size_t)(tok[i] - '0');
  }
  *index = v;
  return 0;
}

/* One step from the container span cur into the value tok names. */
static int step(ac__json_span_t *cur, const char *tok, size_t tlen) {
  const char *e = cur->start + cur->len, *p = skip_ws(cur->start + 1, e);
  ac__json_type_t type;
  size_t index = 0, i = 0;

  if (cur->type == AC__JSON_ARRAY && parse_index(tok, tlen, &index) != 0) return AC_ENOENT;
  while (p < e && *p != '}' && *p != ']') {
    const char *vend;
    int match = 0;
    if (cur->type == AC__JSON_OBJECT) {
      const char *kend = string_end(p, e);
      match = name_is(p, kend, tok, tlen);
      if (match < 0) return match;
      p = skip_ws(kend, e);
      p = skip_ws(p + 1, e); /* the ':' */
    } else {
      match = i++ == index;
    }
    vend = value_end(p, e, &type);
    if (match) {
      cur->type = type;
      cur->start = p;
      cur->len = (size_t)(vend - p);
      return 0;
    }
    p = skip_ws(vend, e);
    if (p < e && *p == ',') p = skip_ws(p + 1, e);
  }
  return AC_ENOENT;
}

int ac__json_pointer_get(const char *buf, size_t len, const char *ptr, ac__json_span_t *out) {
  const char *e = buf + len, *p = skip_ws(buf, e);
  ac__json_span_t cur;
  char small[128], *tok = small;
  size_t plen;
  int rc = 0;

  if (ac__json_pointer_check(ptr) != 0 || out == NULL) return AC_EINVAL;
  if (p >= e) return AC_ENOENT;
  cur.start = p;
  if (*ptr == '\0') {
    cur.len = (size_t)(value_end(p, e, &cur.type) - p);
  } else {
    /* Stepping in needs only where the value starts: its members are
     * walked up to the one named, not the whole document (a key near the
     * top of a large body costs a few bytes, not a pass over it). */
    cur.len = (size_t)(e - p);
    cur.type = *p == '{' ? AC__JSON_OBJECT : *p == '[' ? AC__JSON_ARRAY : AC__JSON_NONE;
  }
  plen = strlen(ptr);
  if (plen >= sizeof(small) && (tok = ac__malloc(plen + 1)) == NULL) return AC_ENOMEM;
  while (*ptr == '/') {
    size_t tlen;
    ptr++;
    tlen = next_step(&ptr, tok);
    if (cur.type != AC__JSON_OBJECT && cur.type != AC__JSON_ARRAY) {
      rc = AC_ENOENT;
      break;
    }
    rc = step(&cur, tok, tlen);
    if (rc != 0) break;
  }
  if (tok != small) ac__free(tok);
  if (rc == 0) *out = cur;
  return rc;
}

int ac__json_array_each(const ac__json_span_t *arr, ac__json_each_fn each, void *ud) {
  const char *e, *p;
  if (arr == NULL || arr->type != AC__JSON_ARRAY || each == NULL) return AC_EINVAL;
  e = arr->start + arr->len;
  p = skip_ws(arr->start + 1, e);
  while (p < e && *p != ']') {
    ac__json_span_t el;
    int rc;
    el.start = p;
    p = value_end(p, e, &el.type);
    el.len = (size_t)(p - el.start);
    rc = each(&el, ud);
    if (rc != 0) return rc;
    p = skip_ws(p, e);
    if (p < e && *p == ',') p = skip_ws(p + 1, e);
  }
  return 0;
}
