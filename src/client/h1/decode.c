/*
 * Content-Encoding decoders chained in decoding order (see decode.h). Each
 * stage owns one fixed output buffer: whatever it decodes goes straight on
 * to the next stage, and the last stage's output to the sink, so nothing
 * accumulates here however much a small input expands.
 *
 * One exception, for speed: a body that is gzip alone (what nearly every
 * server sends) is first gathered, up to GATHER_MAX bytes, and decoded at
 * the end in one call to libdeflate, which is faster on a book page than
 * zlib's streaming inflate. The
 * output size comes from the gzip trailer and is capped at FAST_OUT_MAX, so
 * memory stays bounded. Whatever the fast path does not take whole (a larger
 * body or output, several members, bytes after the stream, a zlib stream
 * labelled gzip, corrupt or truncated data) is replayed through the
 * streaming path instead, which decides and reports exactly as before.
 */
#include "client/h1/decode.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define ZLIB_CONST
#include <brotli/decode.h>
#include <libdeflate.h>
#include <zlib.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "common/dynbuf.h"

enum coding { CODING_GZIP, CODING_DEFLATE, CODING_BR };

enum phase {
  PHASE_SNIFF,   /* deflate: the first two bytes tell zlib-wrapped from raw */
  PHASE_RUN,     /* inside a stream */
  PHASE_BETWEEN, /* gzip: a member ended; another member may follow */
  PHASE_DONE     /* the stream ended: the rest of the body is ignored */
};

struct stage {
  enum coding coding;
  enum phase phase;
  int started;            /* some input arrived */
  unsigned char head[2];  /* the bytes sniffed in PHASE_SNIFF / PHASE_BETWEEN */
  size_t nhead;
  z_stream z;             /* gzip, deflate */
  int z_live;             /* z needs inflateEnd */
  BrotliDecoderState *br; /* br */
  unsigned char *out;     /* AC__HTTP_DECODE_CHUNK bytes */
};

/* Gathered compressed bytes at most (then streaming takes over), and the
 * decoded size the fast path takes at most. Per response in flight the
 * gathered bytes cost less than the streaming state they replace (zlib's
 * window and the output buffer: 56 KiB); the output exists only while the
 * sink copies it. */
#define GATHER_MAX (32 * 1024)
#define FAST_OUT_MAX (1024 * 1024)

struct ac__http_decoder {
  int nstages;
  int error; /* the first error, returned again by every later call */
  int gather; /* gzip alone: stage 0 is not set up yet, input goes to gbuf */
  int whole;  /* the gathered body was decoded in one call */
  struct ac__dynbuf gbuf; /* capped at GATHER_MAX: past it, streaming takes over */
  struct stage stages[AC__HTTP_DECODE_MAX_CHAIN]; /* in decoding order */
};

/* ---- allocation: through acrawl's allocator, so OOM tests reach zlib and brotli ---- */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
  (void)opaque;
  if (size != 0 && items > (size_t)-1 / size) return Z_NULL;
  return ac__malloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p) {
  (void)opaque;
  ac__free(p);
}

static void *br_alloc(void *opaque, size_t size) {
  (void)opaque;
  return ac__malloc(size);
}

static void br_free(void *opaque, void *p) {
  (void)opaque;
  ac__free(p);
}

/* ---- the header ---- */

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* One list element: 1 and *coding set, 0 for identity, AC_EPROTO if unknown.
 * The names are libcurl 7.88's (x-gzip and none are its aliases). */
static int coding_of(const char *name, size_t len, enum coding *coding) {
  static const struct {
    const char *name;
    int coding; /* -1: identity */
  } names[] = {{"gzip", CODING_GZIP}, {"x-gzip", CODING_GZIP}, {"deflate", CODING_DEFLATE},
               {"br", CODING_BR},     {"identity", -1},         {"none", -1}};
  size_t i;
  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strlen(names[i].name) == len && strncasecmp(names[i].name, name, len) == 0) {
      if (names[i].coding < 0) return 0;
      *coding = (enum coding)names[i].coding;
      return 1;
    }
  }
  return AC_EPROTO;
}

/* The codings in the order they were applied; *n of them. */
static int parse_codings(const char *value, enum coding *codings, int *n) {
  const char *p = value;
  *n = 0;
  while (p != NULL && *p != '\0') {
    const char *end = strchr(p, ',');
    const char *stop = end != NULL ? end : p + strlen(p);
    enum coding c;
    int rc;
    while (p < stop && is_blank(*p)) p++;
    while (stop > p && is_blank(stop[-1])) stop--;
    if (stop > p) { /* "gzip,,br" and a trailing comma have empty elements */
      if ((rc = coding_of(p, (size_t)(stop - p), &c)) < 0) return rc;
      if (rc == 1) {
        if (*n == AC__HTTP_DECODE_MAX_CHAIN) return AC_EPROTO;
        codings[(*n)++] = c;
      }
    }
    p = end != NULL ? end + 1 : NULL;
  }
  return 0;
}

/* ---- stages ---- */

static int stage_init(struct stage *s, enum coding coding) {
  memset(s, 0, sizeof(*s));
  s->coding = coding;
  s->phase = coding == CODING_DEFLATE ? PHASE_SNIFF : PHASE_RUN;
  if ((s->out = ac__malloc(AC__HTTP_DECODE_CHUNK)) == NULL) return AC_ENOMEM;
  if (coding == CODING_BR) {
    s->br = BrotliDecoderCreateInstance(br_alloc, br_free, NULL);
    return s->br != NULL ? 0 : AC_ENOMEM;
  }
  s->z.zalloc = z_alloc;
  s->z.zfree = z_free;
  /* gzip: 15 + 32 detects a gzip or a zlib header, as libcurl does (a zlib
   * stream labelled gzip passes there). deflate: zlib-wrapped for now; the
   * sniff may turn it raw before the first byte is inflated. */
  if (inflateInit2(&s->z, coding == CODING_GZIP ? MAX_WBITS + 32 : MAX_WBITS) != Z_OK)
    return AC_ENOMEM; /* the only failure with valid arguments */
  s->z_live = 1;
  return 0;
}

static void stage_free(struct stage *s) {
  if (s->z_live) inflateEnd(&s->z);
  if (s->br != NULL) BrotliDecoderDestroyInstance(s->br);
  ac__free(s->out);
}

static int stage_feed(struct ac__http_decoder *d, int i, const unsigned char *in, size_t len,
                      ac__http_sink_fn sink, void *ud);

/* Bytes decoded by stage i - 1 go on to stage i, or out after the last. */
static int push(struct ac__http_decoder *d, int i, const unsigned char *data, size_t len,
                ac__http_sink_fn sink, void *ud) {
  if (len == 0) return 0;
  if (i == d->nstages) return sink(ud, (const char *)data, len);
  return stage_feed(d, i, data, len, sink, ud);
}

/* RFC 1950: CM 8, a window zlib can take, the check bits, no preset
 * dictionary. What fails here is what inflate would reject at once, the
 * point where libcurl gives up on the zlib wrapper and retries raw. */
static int is_zlib_header(const unsigned char h[2]) {
  return (h[0] & 0x0f) == Z_DEFLATED && (h[0] >> 4) <= MAX_WBITS - 8 &&
         ((unsigned)h[0] << 8 | h[1]) % 31 == 0 && (h[1] & 0x20) == 0;
}

/* Inflates from in until the input is used up or the stream ends; *used is
 * what inflate consumed. */
static int inflate_some(struct ac__http_decoder *d, int i, const unsigned char *in, size_t len,
                        size_t *used, ac__http_sink_fn sink, void *ud) {
  struct stage *s = &d->stages[i];
  uInt given = len > UINT_MAX ? UINT_MAX : (uInt)len;
  int rc;
  s->z.next_in = in;
  s->z.avail_in = given;
  for (;;) {
    int zr;
    size_t made;
    s->z.next_out = s->out;
    s->z.avail_out = AC__HTTP_DECODE_CHUNK;
    zr = inflate(&s->z, Z_NO_FLUSH);
    made = AC__HTTP_DECODE_CHUNK - s->z.avail_out;
    if ((rc = push(d, i + 1, s->out, made, sink, ud)) != 0) return rc;
    if (zr == Z_STREAM_END) {
      s->phase = s->coding == CODING_GZIP ? PHASE_BETWEEN : PHASE_DONE;
      s->nhead = 0;
      break;
    }
    if (zr == Z_MEM_ERROR) return AC_ENOMEM;
    if (zr != Z_OK && zr != Z_BUF_ERROR) return AC_EPROTO; /* Z_DATA_ERROR, Z_NEED_DICT */
    /* A full output buffer may hide more output: go round until it is not. */
    if (s->z.avail_out != 0) break;
  }
  *used = given - s->z.avail_in;
  return 0;
}

static int zlib_feed(struct ac__http_decoder *d, int i, const unsigned char *in, size_t len,
                     ac__http_sink_fn sink, void *ud) {
  struct stage *s = &d->stages[i];
  size_t used;
  int rc;
  while (len > 0) {
    switch (s->phase) {
    case PHASE_DONE:
      return 0;
    case PHASE_SNIFF:
    case PHASE_BETWEEN:
      s->head[s->nhead++] = *in++;
      len--;
      if (s->phase == PHASE_BETWEEN && s->head[0] != 0x1f) {
        s->phase = PHASE_DONE; /* not a gzip member: trailing garbage */
        break;
      }
      if (s->nhead < 2) break;
      if (s->phase == PHASE_SNIFF) {
        if (inflateReset2(&s->z, is_zlib_header(s->head) ? MAX_WBITS : -MAX_WBITS) != Z_OK)
          return AC_EPROTO;
      } else {
        if (s->head[1] != 0x8b) {
          s->phase = PHASE_DONE;
          break;
        }
        /* Another gzip member (gzip(1) concatenates them, and decodes all). */
        if (inflateReset(&s->z) != Z_OK) return AC_EPROTO;
      }
      s->phase = PHASE_RUN;
      if ((rc = inflate_some(d, i, s->head, 2, &used, sink, ud)) != 0) return rc;
      break;
    case PHASE_RUN:
      if ((rc = inflate_some(d, i, in, len, &used, sink, ud)) != 0) return rc;
      /* inflate always moves on with input and room; guard the loop anyway. */
      if (used == 0 && s->phase == PHASE_RUN) return AC_EPROTO;
      in += used;
      len -= used;
      break;
    }
  }
  return 0;
}

static int brotli_feed(struct ac__http_decoder *d, int i, const unsigned char *in, size_t len,
                       ac__http_sink_fn sink, void *ud) {
  struct stage *s = &d->stages[i];
  const uint8_t *next_in = in;
  size_t avail_in = len;
  int rc;
  while (s->phase != PHASE_DONE) {
    uint8_t *next_out = s->out;
    size_t avail_out = AC__HTTP_DECODE_CHUNK;
    BrotliDecoderResult r =
        BrotliDecoderDecompressStream(s->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
    if ((rc = push(d, i + 1, s->out, AC__HTTP_DECODE_CHUNK - avail_out, sink, ud)) != 0)
      return rc;
    switch (r) {
    case BROTLI_DECODER_RESULT_SUCCESS:
      s->phase = PHASE_DONE; /* what follows the stream is ignored */
      break;
    case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
      return 0;
    case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
      break;
    case BROTLI_DECODER_RESULT_ERROR:
    default: {
      int code = (int)BrotliDecoderGetErrorCode(s->br);
      return code <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES &&
                     code >= BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES
                 ? AC_ENOMEM
                 : AC_EPROTO;
    }
    }
  }
  return 0;
}

static int stage_feed(struct ac__http_decoder *d, int i, const unsigned char *in, size_t len,
                      ac__http_sink_fn sink, void *ud) {
  struct stage *s = &d->stages[i];
  if (len == 0) return 0;
  s->started = 1;
  return s->coding == CODING_BR ? brotli_feed(d, i, in, len, sink, ud)
                                : zlib_feed(d, i, in, len, sink, ud);
}

/* ---- the API ---- */

int ac__http_decoder_new(const char *content_encoding, ac__http_decoder_t **out) {
  enum coding codings[AC__HTTP_DECODE_MAX_CHAIN];
  struct ac__http_decoder *d;
  int n, i, rc;
  *out = NULL;
  if ((rc = parse_codings(content_encoding, codings, &n)) != 0) return rc;
  if (n == 0) return 0;
  if ((d = ac__calloc(1, sizeof(*d))) == NULL) return AC_ENOMEM;
  ac__dynbuf_init(&d->gbuf, GATHER_MAX);
  if (n == 1 && codings[0] == CODING_GZIP) {
    /* Set up only if the streaming path is needed (stage_free copes). */
    d->stages[0].coding = CODING_GZIP;
    d->nstages = 1;
    d->gather = 1;
    *out = d;
    return 0;
  }
  /* "gzip, br" was gzip'd, then brotli'd: undo br first. */
  for (i = 0; i < n; i++) {
    rc = stage_init(&d->stages[i], codings[n - 1 - i]);
    d->nstages = i + 1; /* a half-made stage is freed too */
    if (rc != 0) {
      ac__http_decoder_free(d);
      return rc;
    }
  }
  *out = d;
  return 0;
}

/* Leave the gathering: set stage 0 up and stream what was gathered. */
static int stop_gathering(struct ac__http_decoder *d, ac__http_sink_fn sink, void *ud) {
  int rc;
  d->gather = 0;
  rc = stage_init(&d->stages[0], CODING_GZIP);
  if (rc == 0)
    rc = stage_feed(d, 0, (const unsigned char *)ac__dynbuf_ptr(&d->gbuf), ac__dynbuf_len(&d->gbuf),
                    sink, ud);
  ac__dynbuf_free(&d->gbuf);
  return rc;
}

/* The whole gathered body in one call: 0 when it was decoded and sunk, 1
 * when the streaming path must decide, or the sink's error. */
static int decode_gathered(struct ac__http_decoder *d, ac__http_sink_fn sink, void *ud) {
  struct libdeflate_decompressor *z;
  const unsigned char *g = (const unsigned char *)ac__dynbuf_ptr(&d->gbuf);
  unsigned char *out;
  size_t glen = ac__dynbuf_len(&d->gbuf), isize, in_used = 0, made = 0;
  enum libdeflate_result r;
  int rc = 0;
  if (glen < 18) return 1; /* shorter than any gzip member: let zlib say */
  /* ISIZE, the trailer's last field: the decoded size modulo 2^32. A wrong
   * one only sends the body down the streaming path. */
  isize = (size_t)g[glen - 4] | (size_t)g[glen - 3] << 8 | (size_t)g[glen - 2] << 16 |
          (size_t)g[glen - 1] << 24;
  if (isize > FAST_OUT_MAX) return 1;
  if ((z = libdeflate_alloc_decompressor()) == NULL) return 1;
  if ((out = ac__malloc(isize > 0 ? isize : 1)) == NULL) {
    libdeflate_free_decompressor(z);
    return AC_ENOMEM;
  }
  r = libdeflate_gzip_decompress_ex(z, g, glen, out, isize, &in_used, &made);
  libdeflate_free_decompressor(z);
  if (r != LIBDEFLATE_SUCCESS || in_used != glen || made != isize) {
    ac__free(out);
    return 1; /* another member, trailing bytes, bad data: streaming decides */
  }
  for (size_t at = 0; at < made && rc == 0; at += AC__HTTP_DECODE_CHUNK)
    rc = push(d, 1, out + at, made - at < AC__HTTP_DECODE_CHUNK ? made - at : AC__HTTP_DECODE_CHUNK,
              sink, ud);
  ac__free(out);
  d->stages[0].started = 1;
  d->stages[0].phase = PHASE_DONE;
  d->whole = 1;
  return rc;
}

int ac__http_decoder_feed(ac__http_decoder_t *d, const void *in, size_t len,
                          ac__http_sink_fn sink, void *ud) {
  if (d->error != 0) return d->error;
  if (len == 0) return 0; /* gathered, nothing would be there to look at */
  if (d->gather && len <= GATHER_MAX - ac__dynbuf_len(&d->gbuf)) {
    const unsigned char *g;
    /* Within the cap: only AC_ENOMEM fails. */
    if ((d->error = ac__dynbuf_add(&d->gbuf, in, len)) != 0) return d->error;
    /* Not the gzip magic (an HTML page labelled gzip, a zlib stream): the
     * streaming path says so, or copes, at once rather than at the end. */
    g = (const unsigned char *)ac__dynbuf_ptr(&d->gbuf);
    if (g[0] == 0x1f && (ac__dynbuf_len(&d->gbuf) < 2 || g[1] == 0x8b)) return 0;
    return d->error = stop_gathering(d, sink, ud);
  }
  if (d->gather && (d->error = stop_gathering(d, sink, ud)) != 0) return d->error;
  d->error = stage_feed(d, 0, in, len, sink, ud);
  return d->error;
}

int ac__http_decoder_finish(ac__http_decoder_t *d, ac__http_sink_fn sink, void *ud) {
  int i;
  if (d->error != 0) return d->error;
  if (d->gather && ac__dynbuf_len(&d->gbuf) == 0) {
    d->gather = 0; /* an empty body: no stream started, nothing to say */
  } else if (d->gather) {
    int rc = decode_gathered(d, sink, ud);
    d->gather = 0;
    if (rc == 1) rc = stop_gathering(d, sink, ud);
    if (rc != 0) return d->error = rc;
  }
  /* Every stage pushes on what it decodes at once, so nothing is left to
   * flush: only whether each stream came to its end. A stage that saw no
   * input is an empty body, which libcurl lets pass as well. */
  for (i = 0; i < d->nstages; i++) {
    const struct stage *s = &d->stages[i];
    if (s->started && (s->phase == PHASE_SNIFF || s->phase == PHASE_RUN)) {
      d->error = AC_EPROTO;
      break;
    }
  }
  return d->error;
}

int ac__http_decoder_decoded_whole(const ac__http_decoder_t *d) { return d->whole; }

void ac__http_decoder_free(ac__http_decoder_t *d) {
  int i;
  if (d == NULL) return;
  for (i = 0; i < d->nstages; i++) stage_free(&d->stages[i]);
  ac__dynbuf_free(&d->gbuf);
  ac__free(d);
}
