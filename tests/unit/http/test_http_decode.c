/*
 * The Content-Encoding decoders (src/client/h1/decode.c) against real encoders:
 * zlib for gzip and deflate (zlib-wrapped and raw), libbrotlienc for br, all
 * made at test time. Every body is fed whole, byte by byte and in random
 * splits, since the network cuts a body anywhere. Bad input (corrupt,
 * truncated, unknown codings) must be AC_EPROTO, a decompression bomb must
 * reach the sink's cap without the decoder's memory growing, and out of
 * memory anywhere must be AC_ENOMEM without a leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <zlib.h>

#include "acrawl.h"
#include "common/alloc.h"
#include "client/h1/decode.h"
#include "runner.h"

/* ---- bodies ---- */

struct bytes {
  unsigned char *p;
  size_t len;
};

static void bytes_free(struct bytes *b) {
  free(b->p);
  b->p = NULL;
  b->len = 0;
}

static uint64_t lcg_next(uint64_t *state) {
  *state = *state * 6364136223846793005u + 1442695040888963407u;
  return *state >> 33;
}

/* Text-like and compressible, but not trivially: words from a small
 * vocabulary with numbers between, long enough to span many output chunks. */
static struct bytes make_text(size_t len, uint64_t seed) {
  static const char *const words[] = {"book", "price", "stock", "title", "<li>", "</li>",
                                      "\n", "a", "the", "category", "rating", "&amp;"};
  struct bytes b = {malloc(len), len};
  size_t i = 0;
  ASSERT_NOT_NULL(b.p);
  while (i < len) {
    char w[32];
    size_t n;
    uint64_t r = lcg_next(&seed);
    if (r % 3 == 0) n = (size_t)snprintf(w, sizeof w, "%u ", (unsigned)(r % 100000));
    else n = (size_t)snprintf(w, sizeof w, "%s ", words[r % (sizeof words / sizeof words[0])]);
    if (n > len - i) n = len - i;
    memcpy(b.p + i, w, n);
    i += n;
  }
  return b;
}

/* wbits: 15 + 16 gzip, 15 zlib, -15 raw deflate. */
static struct bytes zlib_encode(const unsigned char *in, size_t len, int wbits) {
  z_stream z;
  struct bytes out;
  memset(&z, 0, sizeof z);
  ASSERT_EQ(deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  out.len = deflateBound(&z, (uLong)len) + 32;
  out.p = malloc(out.len);
  ASSERT_NOT_NULL(out.p);
  z.next_in = (unsigned char *)in;
  z.avail_in = (uInt)len;
  z.next_out = out.p;
  z.avail_out = (uInt)out.len;
  ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.len = z.total_out;
  deflateEnd(&z);
  return out;
}

static struct bytes br_encode(const unsigned char *in, size_t len) {
  struct bytes out;
  out.len = BrotliEncoderMaxCompressedSize(len);
  ASSERT_GT(out.len, 0);
  out.p = malloc(out.len);
  ASSERT_NOT_NULL(out.p);
  ASSERT(BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, len, in, &out.len,
                               out.p));
  return out;
}

static struct bytes concat(struct bytes a, const void *b, size_t blen) {
  struct bytes c = {malloc(a.len + blen + 1), a.len + blen};
  ASSERT_NOT_NULL(c.p);
  memcpy(c.p, a.p, a.len);
  memcpy(c.p + a.len, b, blen);
  return c;
}

/* ---- a sink that keeps what it gets, or only counts it ---- */

struct sink {
  unsigned char *buf; /* NULL: count only */
  size_t len, cap;
  size_t limit; /* more than this: AC_ETOOLARGE, as the client's body cap */
  size_t largest_piece;
  long calls;
};

static int sink_fn(void *ud, const char *data, size_t len) {
  struct sink *s = ud;
  ASSERT_GT(len, 0);
  s->calls++;
  if (len > s->largest_piece) s->largest_piece = len;
  if (s->limit != 0 && len > s->limit - s->len) return AC_ETOOLARGE;
  if (s->cap != 0) {
    ASSERT_LE(len, s->cap - s->len); /* sized for the expected body: more is a bug */
    memcpy(s->buf + s->len, data, len);
  }
  s->len += len;
  return 0;
}

static void sink_init(struct sink *s, size_t cap) {
  memset(s, 0, sizeof *s);
  s->cap = cap;
  s->buf = cap != 0 ? malloc(cap) : NULL;
  if (cap != 0) ASSERT_NOT_NULL(s->buf);
}

/* ---- feeding ---- */

enum split { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM };

/* Feeds body in pieces as split says; returns the first error of feed or
 * finish. */
static int feed_all(ac__http_decoder_t *d, const struct bytes *body, enum split split,
                    uint64_t seed, struct sink *s) {
  size_t off = 0;
  int rc;
  while (off < body->len) {
    size_t n = body->len - off;
    if (split == SPLIT_BYTES) n = 1;
    else if (split == SPLIT_RANDOM) {
      uint64_t r = lcg_next(&seed);
      /* mostly small pieces, sometimes a large one, sometimes none */
      size_t want = r % 8 == 0 ? (size_t)(r % 70000) : (size_t)(r % 300);
      if (want < n) n = want;
    }
    if ((rc = ac__http_decoder_feed(d, body->p + off, n, sink_fn, s)) != 0) return rc;
    off += n;
  }
  return ac__http_decoder_finish(d, sink_fn, s);
}

/* Decodes body under header in every split and checks the result is want. */
static void roundtrip(const char *header, const struct bytes *body, const struct bytes *want) {
  static const enum split splits[] = {SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM, SPLIT_RANDOM};
  size_t k;
  for (k = 0; k < sizeof splits / sizeof splits[0]; k++) {
    ac__http_decoder_t *d;
    struct sink s;
    ASSERT_OK(ac__http_decoder_new(header, &d));
    ASSERT_NOT_NULL(d);
    sink_init(&s, want->len + 1);
    ASSERT_OK(feed_all(d, body, splits[k], 1000 + k, &s));
    ASSERT_UEQ(s.len, want->len);
    ASSERT(want->len == 0 || memcmp(s.buf, want->p, want->len) == 0);
    ASSERT_LE(s.largest_piece, AC__HTTP_DECODE_CHUNK);
    ASSERT_LE(s.largest_piece, 64 * 1024);
    free(s.buf);
    ac__http_decoder_free(d);
  }
}

/* The error (of feed or finish) that decoding body under header ends with. */
static int decode_error(const char *header, const struct bytes *body, enum split split) {
  ac__http_decoder_t *d;
  struct sink s;
  int rc;
  ASSERT_OK(ac__http_decoder_new(header, &d));
  ASSERT_NOT_NULL(d);
  sink_init(&s, 0);
  rc = feed_all(d, body, split, 7, &s);
  ac__http_decoder_free(d);
  return rc;
}

/* ---- tests ---- */

TEST_IMPL(decode_gzip_roundtrip) {
  struct bytes text = make_text(300 * 1000, 1);
  struct bytes gz = zlib_encode(text.p, text.len, 15 + 16);
  struct bytes empty = {NULL, 0};
  struct bytes gz_empty = zlib_encode((const unsigned char *)"", 0, 15 + 16);
  ASSERT_LT(gz.len, text.len / 2);
  roundtrip("gzip", &gz, &text);
  roundtrip("x-gzip", &gz, &text);
  roundtrip("  GZip\t", &gz, &text);
  roundtrip("gzip", &gz_empty, &empty);
  bytes_free(&text);
  bytes_free(&gz);
  bytes_free(&gz_empty);
}

TEST_IMPL(decode_deflate_zlib_and_raw) {
  struct bytes text = make_text(200 * 1000, 2);
  /* "deflate" is zlib-wrapped by the RFC, raw from many servers: both pass. */
  struct bytes zl = zlib_encode(text.p, text.len, 15);
  struct bytes raw = zlib_encode(text.p, text.len, -15);
  /* A small window in the zlib header (CINFO < 7) is still zlib. */
  struct bytes zl9 = zlib_encode(text.p, text.len, 9);
  ASSERT(zl.p[0] == 0x78);
  roundtrip("deflate", &zl, &text);
  roundtrip("deflate", &raw, &text);
  roundtrip("Deflate", &zl9, &text);
  /* libcurl lets a zlib stream labelled gzip pass too (15 + 32 detects). */
  roundtrip("gzip", &zl, &text);
  bytes_free(&text);
  bytes_free(&zl);
  bytes_free(&raw);
  bytes_free(&zl9);
}

TEST_IMPL(decode_br_roundtrip) {
  struct bytes text = make_text(300 * 1000, 3);
  struct bytes br = br_encode(text.p, text.len);
  ASSERT_LT(br.len, text.len / 2);
  roundtrip("br", &br, &text);
  roundtrip("BR", &br, &text);
  bytes_free(&text);
  bytes_free(&br);
}

TEST_IMPL(decode_chains) {
  struct bytes text = make_text(150 * 1000, 4);
  /* "gzip, br": gzip'd first, then brotli'd. */
  struct bytes gz = zlib_encode(text.p, text.len, 15 + 16);
  struct bytes gz_br = br_encode(gz.p, gz.len);
  struct bytes br = br_encode(text.p, text.len);
  struct bytes br_raw = zlib_encode(br.p, br.len, -15);
  struct bytes g1 = zlib_encode(text.p, text.len, 15 + 16), g2, g3, g4, g5;
  ac__http_decoder_t *d = NULL;
  roundtrip("gzip, br", &gz_br, &text);
  roundtrip("gzip,br", &gz_br, &text);
  roundtrip("identity, gzip , identity,, br,", &gz_br, &text);
  roundtrip("br, deflate", &br_raw, &text);
  /* The longest chain accepted: four. */
  g2 = zlib_encode(g1.p, g1.len, 15 + 16);
  g3 = zlib_encode(g2.p, g2.len, 15);
  g4 = zlib_encode(g3.p, g3.len, 15 + 16);
  roundtrip("gzip, gzip, deflate, gzip", &g4, &text);
  g5 = zlib_encode(g4.p, g4.len, 15 + 16);
  ASSERT_ERR(ac__http_decoder_new("gzip, gzip, deflate, gzip, gzip", &d), AC_EPROTO);
  ASSERT_NULL(d);
  /* In the wrong order the outer stream is not what the decoder expects. */
  ASSERT_ERR(decode_error("br, gzip", &gz_br, SPLIT_WHOLE), AC_EPROTO);
  bytes_free(&text);
  bytes_free(&gz);
  bytes_free(&gz_br);
  bytes_free(&br);
  bytes_free(&br_raw);
  bytes_free(&g1);
  bytes_free(&g2);
  bytes_free(&g3);
  bytes_free(&g4);
  bytes_free(&g5);
}

TEST_IMPL(decode_gzip_members_and_trailing_bytes) {
  struct bytes a = make_text(40 * 1000, 5), b = make_text(50 * 1000, 6);
  struct bytes ga = zlib_encode(a.p, a.len, 15 + 16), gb = zlib_encode(b.p, b.len, 15 + 16);
  struct bytes both = concat(a, b.p, b.len), members = concat(ga, gb.p, gb.len);
  struct bytes garbage = concat(ga, "\r\nnot gzip at all", 17);
  struct bytes magic1 = concat(ga, "\x1f", 1), magic_other = concat(ga, "\x1f\x00\x01", 3);
  struct bytes br = br_encode(a.p, a.len), br_garbage = concat(br, "junk", 4);
  struct bytes zl = zlib_encode(a.p, a.len, 15), zl_garbage = concat(zl, "\0\0\0\0\0", 5);
  struct bytes member_cut = concat(ga, gb.p, gb.len / 2);
  /* Concatenated members are one body, as gzip -d reads them. */
  roundtrip("gzip", &members, &both);
  /* What follows a complete stream and is not a gzip member is ignored. */
  roundtrip("gzip", &garbage, &a);
  roundtrip("gzip", &magic1, &a);
  roundtrip("gzip", &magic_other, &a);
  roundtrip("br", &br_garbage, &a);
  roundtrip("deflate", &zl_garbage, &a);
  /* But a second member that starts and stops short is truncated. */
  ASSERT_ERR(decode_error("gzip", &member_cut, SPLIT_RANDOM), AC_EPROTO);
  bytes_free(&a);
  bytes_free(&b);
  bytes_free(&ga);
  bytes_free(&gb);
  bytes_free(&both);
  bytes_free(&members);
  bytes_free(&garbage);
  bytes_free(&magic1);
  bytes_free(&magic_other);
  bytes_free(&br);
  bytes_free(&br_garbage);
  bytes_free(&zl);
  bytes_free(&zl_garbage);
  bytes_free(&member_cut);
}

TEST_IMPL(decode_corrupt_is_eproto) {
  struct bytes text = make_text(100 * 1000, 7);
  struct bytes gz = zlib_encode(text.p, text.len, 15 + 16);
  struct bytes zl = zlib_encode(text.p, text.len, 15);
  struct bytes br = br_encode(text.p, text.len);
  struct bytes not_gzip = {(unsigned char *)"<html>plain</html>", 18};
  /* BFINAL 1, BTYPE 11: reserved, so no deflate stream begins this way. */
  struct bytes bad_raw = {(unsigned char *)"\x07\x00\x00\x00", 4};
  struct bytes bad_br = {(unsigned char *)"\xff\xff\xff\xff\xff\xff", 6};
  ac__http_decoder_t *d;
  struct sink s;
  long calls;
  enum split sp;
  for (sp = SPLIT_WHOLE; sp <= SPLIT_RANDOM; sp++) {
    ASSERT_ERR(decode_error("gzip", &not_gzip, sp), AC_EPROTO);
    ASSERT_ERR(decode_error("deflate", &bad_raw, sp), AC_EPROTO);
    ASSERT_ERR(decode_error("br", &bad_br, sp), AC_EPROTO);
  }
  /* A flipped byte in the middle: inflate's data error or the CRC-32 (gzip)
   * or Adler-32 (zlib) check. */
  gz.p[gz.len / 2] ^= 0x55;
  zl.p[zl.len / 2] ^= 0x55;
  ASSERT_ERR(decode_error("gzip", &gz, SPLIT_WHOLE), AC_EPROTO);
  ASSERT_ERR(decode_error("gzip", &gz, SPLIT_BYTES), AC_EPROTO);
  ASSERT_ERR(decode_error("deflate", &zl, SPLIT_RANDOM), AC_EPROTO);
  /* A corrupt trailer alone (the CRC-32, then the length). */
  gz.p[gz.len / 2] ^= 0x55;
  gz.p[gz.len - 6] ^= 0x01;
  ASSERT_ERR(decode_error("gzip", &gz, SPLIT_WHOLE), AC_EPROTO);
  gz.p[gz.len - 6] ^= 0x01;
  gz.p[gz.len - 2] ^= 0x01;
  ASSERT_ERR(decode_error("gzip", &gz, SPLIT_BYTES), AC_EPROTO);
  gz.p[gz.len - 2] ^= 0x01;
  /* Brotli has no checksum, but a br body that is really gzip fails. */
  ASSERT_ERR(decode_error("br", &gz, SPLIT_RANDOM), AC_EPROTO);
  /* The error is final: later calls repeat it and never call the sink. */
  ASSERT_OK(ac__http_decoder_new("gzip", &d));
  sink_init(&s, 0);
  ASSERT_ERR(ac__http_decoder_feed(d, not_gzip.p, not_gzip.len, sink_fn, &s), AC_EPROTO);
  calls = s.calls;
  ASSERT_ERR(ac__http_decoder_feed(d, gz.p, gz.len, sink_fn, &s), AC_EPROTO);
  ASSERT_ERR(ac__http_decoder_finish(d, sink_fn, &s), AC_EPROTO);
  ASSERT_EQ(s.calls, calls);
  ac__http_decoder_free(d);
  bytes_free(&text);
  bytes_free(&gz);
  bytes_free(&zl);
  bytes_free(&br);
}

TEST_IMPL(decode_truncated_is_eproto_at_finish) {
  struct bytes text = make_text(100 * 1000, 8);
  struct bytes enc[4];
  static const char *const headers[] = {"gzip", "deflate", "deflate", "br"};
  struct bytes one = {(unsigned char *)"\x78", 1};
  struct bytes nothing = {NULL, 0};
  size_t k;
  enc[0] = zlib_encode(text.p, text.len, 15 + 16);
  enc[1] = zlib_encode(text.p, text.len, 15);
  enc[2] = zlib_encode(text.p, text.len, -15);
  enc[3] = br_encode(text.p, text.len);
  for (k = 0; k < 4; k++) {
    /* Cut in the middle, and just before the end (inside gzip's trailer,
     * zlib's Adler-32, the last deflate or brotli bits). */
    size_t cuts[2] = {enc[k].len / 2, enc[k].len - 1};
    size_t c;
    for (c = 0; c < 2; c++) {
      ac__http_decoder_t *d;
      struct sink s;
      struct bytes cut = {enc[k].p, cuts[c]};
      ASSERT_OK(ac__http_decoder_new(headers[k], &d));
      sink_init(&s, 0);
      ASSERT_OK(ac__http_decoder_feed(d, cut.p, cut.len, sink_fn, &s));
      ASSERT_ERR(ac__http_decoder_finish(d, sink_fn, &s), AC_EPROTO);
      if (c == 0) ASSERT_LT(s.len, text.len);
      ac__http_decoder_free(d);
      ASSERT_ERR(decode_error(headers[k], &cut, SPLIT_BYTES), AC_EPROTO);
    }
    /* A body of no bytes at all passes (a 204, a HEAD), as with libcurl. */
    ASSERT_OK(decode_error(headers[k], &nothing, SPLIT_WHOLE));
    bytes_free(&enc[k]);
  }
  /* One byte of deflate cannot even tell zlib from raw. */
  ASSERT_ERR(decode_error("deflate", &one, SPLIT_WHOLE), AC_EPROTO);
  bytes_free(&text);
}

TEST_IMPL(decode_header_parsing) {
  static const char *const nothing[] = {"", "  ", "identity", "IDENTITY", " identity , none ",
                                        ",", " , ,"};
  static const char *const refused[] = {"compress", "x-compress", "zstd", "gzip, compress",
                                        "gzip;q=1", "gzip br", "identity, bzip2",
                                        "br, br, br, br, br"};
  ac__http_decoder_t *d;
  size_t i;
  ASSERT_OK(ac__http_decoder_new(NULL, &d));
  ASSERT_NULL(d);
  for (i = 0; i < sizeof nothing / sizeof nothing[0]; i++) {
    d = (ac__http_decoder_t *)&d; /* must be overwritten */
    ASSERT_OK(ac__http_decoder_new(nothing[i], &d));
    ASSERT_NULL(d);
  }
  for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    d = (ac__http_decoder_t *)&d;
    ASSERT_ERR(ac__http_decoder_new(refused[i], &d), AC_EPROTO);
    ASSERT_NULL(d);
  }
  ASSERT_OK(ac__http_decoder_new("identity, gzip", &d));
  ASSERT_NOT_NULL(d);
  ac__http_decoder_free(d);
  ac__http_decoder_free(NULL);
}

/* ---- the bomb ---- */

/* A gzip body of `zeros` zero bytes written by hand, so that a gigabyte's
 * bomb is made in milliseconds (zlib would take seconds, minutes under
 * valgrind): one fixed-Huffman block of a literal 0, then matches of 258 at
 * distance 1 (13 bits each: about 1/1300 of the output), then literals. */
struct bits {
  struct bytes out;
  size_t cap;
  uint32_t acc;
  int nacc;
};

static void put_bits(struct bits *b, uint32_t v, int n) {
  b->acc |= v << b->nacc;
  b->nacc += n;
  while (b->nacc >= 8) {
    if (b->out.len == b->cap) {
      b->cap = b->cap * 2 + 1024;
      b->out.p = realloc(b->out.p, b->cap);
      ASSERT_NOT_NULL(b->out.p);
    }
    b->out.p[b->out.len++] = (unsigned char)b->acc;
    b->acc >>= 8;
    b->nacc -= 8;
  }
}

/* Huffman codes go most significant bit first. */
static void put_code(struct bits *b, uint32_t code, int n) {
  uint32_t r = 0;
  int i;
  for (i = 0; i < n; i++) r |= ((code >> i) & 1u) << (n - 1 - i);
  put_bits(b, r, n);
}

static uint32_t crc32_of_zeros(uint64_t n) {
  static const unsigned char zero[4096];
  uint32_t crc = (uint32_t)crc32(0, Z_NULL, 0), block = (uint32_t)crc32(0, zero, sizeof zero);
  uint64_t blocks = n / sizeof zero, len = sizeof zero;
  /* crc of 2^k blocks by doubling, combined where n's bits say. */
  while (blocks != 0) {
    if (blocks & 1) crc = (uint32_t)crc32_combine(crc, block, (z_off_t)len);
    block = (uint32_t)crc32_combine(block, block, (z_off_t)len);
    len *= 2;
    blocks >>= 1;
  }
  return (uint32_t)crc32_combine(crc, (uint32_t)crc32(0, zero, (uInt)(n % sizeof zero)),
                                 (z_off_t)(n % sizeof zero));
}

static struct bytes gzip_of_zeros(uint64_t zeros) {
  static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
  struct bits b;
  uint64_t left = zeros, crc;
  int i;
  memset(&b, 0, sizeof b);
  for (i = 0; i < 10; i++) put_bits(&b, header[i], 8);
  put_bits(&b, 1, 1); /* BFINAL */
  put_bits(&b, 1, 2); /* BTYPE 01: fixed Huffman codes */
  if (left > 0) {
    put_code(&b, 0x30, 8); /* literal 0 */
    left--;
  }
  for (; left >= 258; left -= 258) {
    put_code(&b, 0xc5, 8); /* length symbol 285 = 258 */
    put_code(&b, 0, 5);    /* distance code 0 = 1 */
  }
  for (; left > 0; left--) put_code(&b, 0x30, 8);
  put_code(&b, 0, 7); /* end of block */
  if (b.nacc != 0) put_bits(&b, 0, 8 - b.nacc); /* to a byte boundary */
  crc = crc32_of_zeros(zeros);
  for (i = 0; i < 4; i++) put_bits(&b, (uint32_t)(crc >> (8 * i)) & 0xff, 8);
  for (i = 0; i < 4; i++) put_bits(&b, (uint32_t)(zeros >> (8 * i)) & 0xff, 8);
  return b.out;
}

/* Tracks the bytes the library holds, through ac_replace_allocator. */
static size_t live_bytes, peak_bytes;

static void *track_malloc(size_t n) {
  size_t *p = malloc(n + 16);
  if (p == NULL) return NULL;
  p[0] = n;
  live_bytes += n;
  if (live_bytes > peak_bytes) peak_bytes = live_bytes;
  return (char *)p + 16;
}

static void track_free(void *q) {
  size_t *p;
  if (q == NULL) return;
  p = (size_t *)(void *)((char *)q - 16);
  live_bytes -= p[0];
  free(p);
}

static void *track_calloc(size_t c, size_t n) {
  void *q;
  if (n != 0 && c > (size_t)-1 / n) return NULL;
  if ((q = track_malloc(c * n)) != NULL) memset(q, 0, c * n);
  return q;
}

static void *track_realloc(void *q, size_t n) {
  void *r;
  size_t old;
  if (q == NULL) return track_malloc(n);
  old = ((size_t *)(void *)((char *)q - 16))[0];
  if ((r = track_malloc(n)) == NULL) return NULL;
  memcpy(r, q, old < n ? old : n);
  track_free(q);
  return r;
}

TEST_IMPL(decode_gzip_of_zeros_is_valid) {
  /* The bomb's maker checked on a size that is quick to inflate whole, by
   * zlib itself and by the decoder (CRC-32 and length included). */
  uint64_t n = 3 * 1024 * 1024 + 123;
  struct bytes gz = gzip_of_zeros(n), zeros = {calloc(1, (size_t)n), (size_t)n};
  z_stream z;
  unsigned char *out = malloc((size_t)n + 16);
  ASSERT_NOT_NULL(out);
  memset(&z, 0, sizeof z);
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = gz.p;
  z.avail_in = (uInt)gz.len;
  z.next_out = out;
  z.avail_out = (uInt)n + 16;
  ASSERT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  ASSERT_UEQ(z.total_out, n);
  ASSERT(memcmp(out, zeros.p, (size_t)n) == 0);
  inflateEnd(&z);
  free(out);
  roundtrip("gzip", &gz, &zeros);
  bytes_free(&gz);
  bytes_free(&zeros);
}

TEST_IMPL(decode_gzip_bomb_hits_the_sink_cap) {
  /* 1 GiB of zeros in about 6.5 MB of gzip, against a 1 MiB body cap. */
  struct bytes bomb = gzip_of_zeros((uint64_t)1 << 30);
  ac__http_decoder_t *d;
  struct sink s;
  size_t off = 0, piece = 64 * 1024;
  int rc = 0;
  ASSERT_OK(ac_replace_allocator(track_malloc, track_realloc, track_calloc, track_free));
  ASSERT_GT(bomb.len, 6 * 1000 * 1000);
  ASSERT_OK(ac__http_decoder_new("gzip", &d));
  sink_init(&s, 0);
  s.limit = 1024 * 1024;
  while (off < bomb.len && rc == 0) {
    size_t n = bomb.len - off < piece ? bomb.len - off : piece;
    rc = ac__http_decoder_feed(d, bomb.p + off, n, sink_fn, &s);
    off += n;
  }
  ASSERT_ERR(rc, AC_ETOOLARGE);
  /* It stopped at the cap, in the first piece of input... */
  ASSERT_LE(s.len, 1024 * 1024);
  ASSERT_GT(s.len, 1024 * 1024 - AC__HTTP_DECODE_CHUNK);
  ASSERT_UEQ(off, piece);
  ASSERT_LE(s.largest_piece, 64 * 1024);
  /* ...holding zlib's state, its 32 KiB window and one output chunk. */
  ASSERT_LT(peak_bytes, 128 * 1024);
  ASSERT_ERR(ac__http_decoder_finish(d, sink_fn, &s), AC_ETOOLARGE);
  ac__http_decoder_free(d);
  ASSERT_UEQ(live_bytes, 0);
  bytes_free(&bomb);
}

TEST_IMPL(decode_br_and_chain_bombs_hit_the_sink_cap) {
  /* 32 MiB of zeros brotli'd (and that gzip'd) against a 1 MiB cap: memory
   * stays at the decoders' windows however far the body would expand. */
  size_t n = 32 * 1024 * 1024;
  struct bytes zeros = {calloc(1, n), n};
  struct bytes br = br_encode(zeros.p, zeros.len);
  struct bytes br_gz = zlib_encode(br.p, br.len, 15 + 16);
  static const char *const headers[] = {"br", "br, gzip"};
  const struct bytes *bodies[] = {&br, &br_gz};
  int k;
  ASSERT_OK(ac_replace_allocator(track_malloc, track_realloc, track_calloc, track_free));
  ASSERT_NOT_NULL(zeros.p);
  ASSERT_LT(br.len, 64 * 1024);
  for (k = 0; k < 2; k++) {
    ac__http_decoder_t *d;
    struct sink s;
    peak_bytes = 0;
    ASSERT_OK(ac__http_decoder_new(headers[k], &d));
    sink_init(&s, 0);
    s.limit = 1024 * 1024;
    ASSERT_ERR(feed_all(d, bodies[k], SPLIT_RANDOM, 11, &s), AC_ETOOLARGE);
    ASSERT_LE(s.len, 1024 * 1024);
    ASSERT_LE(s.largest_piece, 64 * 1024);
    /* brotli's ring buffer follows the stream's window (4 MiB by default:
     * BROTLI_DEFAULT_WINDOW 22), never the output's size. */
    ASSERT_LT(peak_bytes, ((size_t)1 << BROTLI_DEFAULT_WINDOW) + 512 * 1024);
    ac__http_decoder_free(d);
    ASSERT_UEQ(live_bytes, 0);
  }
  bytes_free(&zeros);
  bytes_free(&br);
  bytes_free(&br_gz);
}

/* ---- out of memory ---- */

TEST_IMPL(decode_oom_sweep) {
  /* Every allocation of new + feed + finish fails in turn: AC_ENOMEM each
   * time, never a crash or a leak, until the whole decode succeeds. */
  struct bytes text = make_text(60 * 1000, 9);
  struct bytes gz = zlib_encode(text.p, text.len, 15 + 16);
  struct bytes gz_raw = zlib_encode(gz.p, gz.len, -15);
  struct bytes body = br_encode(gz_raw.p, gz_raw.len);
  long n;
  int done = 0;
  ac_test_count_allocations();
  for (n = 1; !done; n++) {
    ac__http_decoder_t *d = NULL;
    struct sink s;
    int rc;
    ASSERT_LT(n, 1000);
    sink_init(&s, text.len + 1);
    ac__alloc_fail_after(n);
    rc = ac__http_decoder_new("gzip, deflate, br", &d);
    if (rc == 0) rc = feed_all(d, &body, SPLIT_RANDOM, 5, &s);
    ac__alloc_fail_after(0);
    if (rc == 0) {
      ASSERT_UEQ(s.len, text.len);
      ASSERT(memcmp(s.buf, text.p, text.len) == 0);
      done = 1;
    } else {
      ASSERT_ERR(rc, AC_ENOMEM);
    }
    ac__http_decoder_free(d);
    ASSERT_EQ(ac_test_live_allocations(), 0);
    free(s.buf);
  }
  /* Allocations happened in all three decoders (state, window, ring buffer). */
  ASSERT_GT(n, 8);
  bytes_free(&text);
  bytes_free(&gz);
  bytes_free(&gz_raw);
  bytes_free(&body);
}

/* ---- the whole-body fast path (gzip alone, small: libdeflate) ---- */

/* Decodes body in one piece; returns feed's or finish's error and whether the
 * fast path took it. */
static int decode_once(const struct bytes *body, struct sink *s, int *whole) {
  ac__http_decoder_t *d;
  int rc;
  ASSERT_OK(ac__http_decoder_new("gzip", &d));
  rc = ac__http_decoder_feed(d, body->p, body->len, sink_fn, s);
  if (rc == 0) rc = ac__http_decoder_finish(d, sink_fn, s);
  *whole = ac__http_decoder_decoded_whole(d);
  ac__http_decoder_free(d);
  return rc;
}

TEST_IMPL(decode_gzip_whole_and_streamed_agree) {
  struct bytes text = make_text(40 * 1000, 3);
  struct bytes gz = zlib_encode(text.p, text.len, 15 + 16);
  struct bytes first = zlib_encode(text.p, 1000, 15 + 16);
  struct bytes two = concat(first, gz.p, gz.len);
  struct bytes head = {text.p, 1000};
  struct bytes two_want = concat(head, text.p, text.len);
  struct bytes junk = concat(gz, "junk", 4);
  size_t nz = 20u << 20;
  struct bytes zeros = {calloc(1, nz), nz};
  struct bytes small_bomb = zlib_encode(zeros.p, zeros.len, 15 + 16);
  struct bytes liar = zlib_encode(text.p, text.len, 15 + 16);
  struct sink s;
  int whole;

  ASSERT_LT(gz.len, 32 * 1024); /* small enough to be gathered */
  /* A small gzip body: decoded whole, in every split, pieces <= 16 KiB. */
  roundtrip("gzip", &gz, &text);
  sink_init(&s, text.len + 1);
  ASSERT_OK(decode_once(&gz, &s, &whole));
  ASSERT_EQ(whole, 1);
  ASSERT(s.len == text.len && memcmp(s.buf, text.p, text.len) == 0);
  ASSERT_LE(s.largest_piece, AC__HTTP_DECODE_CHUNK);
  free(s.buf);
  /* Two members, or bytes after the stream: streamed, as before. */
  roundtrip("gzip", &two, &two_want);
  sink_init(&s, two_want.len + 1);
  ASSERT_OK(decode_once(&two, &s, &whole));
  ASSERT_EQ(whole, 0);
  ASSERT_UEQ(s.len, two_want.len);
  free(s.buf);
  roundtrip("gzip", &junk, &text);
  sink_init(&s, text.len + 1);
  ASSERT_OK(decode_once(&junk, &s, &whole));
  ASSERT_EQ(whole, 0);
  free(s.buf);
  /* 20 MiB of zeros in ~20 KB: the trailer's size is over the fast path's
   * 1 MiB, so it streams into the cap, memory at zlib's state. */
  ASSERT_LT(small_bomb.len, 32 * 1024);
  ASSERT_OK(ac_replace_allocator(track_malloc, track_realloc, track_calloc, track_free));
  peak_bytes = 0;
  sink_init(&s, 0);
  s.limit = 1024 * 1024;
  ASSERT_ERR(decode_once(&small_bomb, &s, &whole), AC_ETOOLARGE);
  ASSERT_EQ(whole, 0);
  ASSERT_LT(peak_bytes, 128 * 1024);
  ASSERT_UEQ(live_bytes, 0);
  /* A trailer that lies about the size: refused by both paths. */
  liar.p[liar.len - 4] ^= 0x01;
  sink_init(&s, 0);
  ASSERT_ERR(decode_once(&liar, &s, &whole), AC_EPROTO);
  ASSERT_EQ(whole, 0);
  bytes_free(&text);
  bytes_free(&gz);
  bytes_free(&first);
  bytes_free(&two);
  bytes_free(&two_want);
  bytes_free(&junk);
  bytes_free(&zeros);
  bytes_free(&small_bomb);
  bytes_free(&liar);
}
