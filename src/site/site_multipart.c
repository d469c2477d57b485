/*
 * multipart/form-data bodies (RFC 7578) for httpbin's "form" and "files":
 * enough to echo what an HTTP client sends, not a general MIME parser. Parts
 * are borrowed from the body (nothing is copied); parts without a name are
 * skipped, and a body that does not follow the framing gives no parts.
 */
#include <string.h>
#include <strings.h>

#include "site/site_internal.h"

/* The first occurrence of needle[0..nl) in hay[0..hl), or NULL. */
static const char *find(const char *hay, size_t hl, const char *needle, size_t nl) {
  if (nl == 0 || hl < nl) return NULL;
  for (const char *p = hay, *end = hay + hl - nl; p <= end; p++) {
    p = memchr(p, needle[0], (size_t)(end - p) + 1);
    if (p == NULL) return NULL;
    if (memcmp(p, needle, nl) == 0) return p;
  }
  return NULL;
}

/* The value of param (e.g. "name") in a header line s[0..n): quoted or a
 * bare token. Sets *v and *vl; 0, or -1 when absent. The match must start a
 * parameter (after ';' and spaces), so "filename" is not taken for "name". */
static int param(const char *s, size_t n, const char *name, const char **v, size_t *vl) {
  size_t nl = strlen(name);
  for (size_t i = 0; i + nl + 1 <= n; i++) {
    size_t j = i;
    if (s[i] != ';') continue;
    for (j++; j < n && (s[j] == ' ' || s[j] == '\t'); j++) {
    }
    if (j + nl + 1 > n || strncasecmp(s + j, name, nl) != 0 || s[j + nl] != '=') continue;
    j += nl + 1;
    if (j < n && s[j] == '"') {
      const char *q = memchr(s + j + 1, '"', n - j - 1);
      if (q == NULL) return -1;
      *v = s + j + 1;
      *vl = (size_t)(q - (s + j + 1));
    } else {
      size_t k = j;
      while (k < n && s[k] != ';' && s[k] != ' ' && s[k] != '\t') k++;
      *v = s + j;
      *vl = k - j;
    }
    return 0;
  }
  return -1;
}

int ac__site_multipart(const char *ctype, const char *body, size_t blen,
                       struct ac__site_field *form, int *nform, struct ac__site_field *files,
                       int *nfiles, int max) {
  static const char mp[] = "multipart/form-data";
  char delim[80];
  const char *bnd, *p, *end = body + blen;
  size_t bl, dl;

  *nform = *nfiles = 0;
  if (ctype == NULL || strncasecmp(ctype, mp, sizeof(mp) - 1) != 0) return -1;
  /* The boundary is at most 70 characters (RFC 2046). */
  if (param(ctype, strlen(ctype), "boundary", &bnd, &bl) != 0 || bl == 0 || bl > 70) return -1;
  memcpy(delim, "\r\n--", 4);
  memcpy(delim + 4, bnd, bl);
  dl = bl + 4;
  /* The first delimiter may open the body without the CRLF before it. */
  if (blen >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0) {
    p = body + dl - 2;
  } else {
    p = find(body, blen, delim, dl);
    if (p == NULL) return 0;
    p += dl;
  }
  for (;;) {
    const char *next, *hend, *content, *line;
    const char *name = NULL, *fname = NULL, *ct = NULL;
    size_t namel = 0, fnamel = 0, ctl = 0;

    if (end - p >= 2 && p[0] == '-' && p[1] == '-') return 0; /* the close delimiter */
    if (end - p < 2 || p[0] != '\r' || p[1] != '\n') return 0;
    p += 2;
    next = find(p, (size_t)(end - p), delim, dl);
    if (next == NULL) return 0;
    /* Part headers, up to an empty line. */
    if (next - p >= 2 && p[0] == '\r' && p[1] == '\n') {
      hend = p;
      content = p + 2;
    } else {
      hend = find(p, (size_t)(next - p), "\r\n\r\n", 4);
      if (hend == NULL) return 0;
      content = hend + 4;
    }
    for (line = p; line < hend;) {
      const char *eol = find(line, (size_t)(hend - line), "\r\n", 2);
      size_t ll = eol ? (size_t)(eol - line) : (size_t)(hend - line);
      static const char cd[] = "content-disposition:";
      static const char cty[] = "content-type:";
      if (ll > sizeof(cd) - 1 && strncasecmp(line, cd, sizeof(cd) - 1) == 0) {
        if (param(line, ll, "name", &name, &namel) != 0) name = NULL;
        if (param(line, ll, "filename", &fname, &fnamel) != 0) fname = NULL;
      } else if (ll > sizeof(cty) - 1 && strncasecmp(line, cty, sizeof(cty) - 1) == 0) {
        ct = line + sizeof(cty) - 1;
        ctl = ll - (sizeof(cty) - 1);
        while (ctl > 0 && (*ct == ' ' || *ct == '\t')) ct++, ctl--;
        while (ctl > 0 && (ct[ctl - 1] == ' ' || ct[ctl - 1] == '\t')) ctl--;
        if (ctl == 0) ct = NULL;
      }
      line += ll + 2;
    }
    if (name != NULL) {
      struct ac__site_field *f = fname != NULL ? files : form;
      int *n = fname != NULL ? nfiles : nform;
      if (*n < max) {
        f[*n].k = name;
        f[*n].klen = namel;
        f[*n].v = content;
        f[*n].vlen = (size_t)(next - content);
        f[*n].ct = ct;
        f[*n].ctlen = ctl;
        (*n)++;
      }
    }
    p = next + dl;
  }
}
