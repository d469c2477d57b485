/*
 * The header store of a response: every line in arrival order, names and
 * values copied into one growing buffer (capped, since the server decides how
 * much it sends), looked up ignoring case. Offsets rather than pointers are
 * kept while the buffer may still move; ac__headers_freeze makes the
 * pointers once the response is complete.
 */
#include <string.h>
#include <strings.h>

#include "client/internal.h"

void ac__headers_init(struct ac__headers *h) {
  memset(h, 0, sizeof(*h));
  ac__dynbuf_init(&h->buf, AC__HTTP_MAX_HEADER_BYTES);
}

void ac__headers_reset(struct ac__headers *h) {
  /* A new response starts (after a redirect or a 100 Continue): only the
   * final response's headers are kept. Memory is reused. */
  ac__dynbuf_reset(&h->buf);
  h->nlines = 0;
  ac__free(h->lines);
  h->lines = NULL;
}

void ac__headers_free(struct ac__headers *h) {
  ac__dynbuf_free(&h->buf);
  ac__free(h->offsets);
  ac__free(h->lines);
  h->offsets = NULL;
  h->lines = NULL;
  h->nlines = 0;
  h->lines_cap = 0;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* An obs-fold line (RFC 9112 5.2: a line that starts with a blank continues
 * the previous value): appended to the last value, its leading blanks
 * standing for the fold, as http-parser joins them on the native path. The
 * last value is the end of the buffer. */
static int add_fold(struct ac__headers *h, const char *line, size_t len) {
  if (h->nlines == 0) return AC_EPROTO;
  ac__dynbuf_setlen(&h->buf, ac__dynbuf_len(&h->buf) - 1); /* the NUL of the last value */
  ac__dynbuf_add(&h->buf, line, len);
  return ac__dynbuf_addc(&h->buf, '\0');
}

int ac__headers_add_line(struct ac__headers *h, const char *line, size_t len) {
  const char *colon, *name_end, *value, *value_end;
  size_t name_len, value_len, off;
  int rc;

  while (len > 0 && is_blank(line[len - 1])) len--;
  if (len > 0 && (line[0] == ' ' || line[0] == '\t')) return add_fold(h, line, len);
  colon = memchr(line, ':', len);
  if (colon == NULL || colon == line) return AC_EPROTO;
  name_end = colon;
  while (name_end > line && is_blank(name_end[-1])) name_end--;
  value = colon + 1;
  value_end = line + len;
  while (value < value_end && is_blank(*value)) value++;
  name_len = (size_t)(name_end - line);
  value_len = (size_t)(value_end - value);
  if (name_len == 0) return AC_EPROTO;
  if (h->nlines >= AC__HTTP_MAX_HEADER_LINES) return AC_ETOOLARGE;
  if (h->nlines == h->lines_cap) {
    size_t ncap = h->lines_cap != 0 ? h->lines_cap * 2 : 16;
    size_t *no = ac__realloc(h->offsets, ncap * sizeof(*no));
    if (no == NULL) return AC_ENOMEM;
    h->offsets = no;
    h->lines_cap = ncap;
  }
  off = ac__dynbuf_len(&h->buf);
  ac__dynbuf_add(&h->buf, line, name_len);
  ac__dynbuf_addc(&h->buf, '\0');
  ac__dynbuf_add(&h->buf, value, value_len);
  rc = ac__dynbuf_addc(&h->buf, '\0'); /* the first failure, if any (sticky) */
  if (rc != 0) return rc;
  h->offsets[h->nlines++] = off;
  return 0;
}

int ac__headers_freeze(struct ac__headers *h) {
  size_t i;
  ac__free(h->lines);
  h->lines = NULL;
  if (h->nlines == 0) return 0;
  h->lines = ac__calloc(h->nlines, sizeof(*h->lines));
  if (h->lines == NULL) return AC_ENOMEM;
  for (i = 0; i < h->nlines; i++) {
    h->lines[i].name = ac__dynbuf_ptr(&h->buf) + h->offsets[i];
    h->lines[i].value = h->lines[i].name + strlen(h->lines[i].name) + 1;
  }
  return 0;
}

const char *ac__headers_get(const struct ac__headers *h, const char *name, size_t nth) {
  size_t i;
  if (h->lines == NULL || name == NULL) return NULL;
  for (i = 0; i < h->nlines; i++)
    if (strcasecmp(h->lines[i].name, name) == 0 && nth-- == 0) return h->lines[i].value;
  return NULL;
}

int ac__http_parse_status_line(const char *line, size_t len, int *status, const char **reason,
                               size_t *reason_len) {
  size_t i = 0;
  int code = 0, digits = 0;

  while (len > 0 && is_blank(line[len - 1])) len--;
  if (len < 5 || memcmp(line, "HTTP/", 5) != 0) return AC_EPROTO;
  while (i < len && line[i] != ' ') i++; /* the version */
  while (i < len && line[i] == ' ') i++;
  while (i < len && line[i] >= '0' && line[i] <= '9' && digits < 3) {
    code = code * 10 + (line[i++] - '0');
    digits++;
  }
  if (digits != 3 || (i < len && line[i] != ' ')) return AC_EPROTO;
  while (i < len && line[i] == ' ') i++;
  *status = code;
  *reason = line + i;
  *reason_len = len - i;
  return 0;
}
