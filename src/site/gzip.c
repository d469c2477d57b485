/*
 * One-shot gzip (see gzip.h).
 */
#include "site/gzip.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "acrawl/errno.h"
#include "common/alloc.h"

/* zlib allocates through acrawl's allocator, so that failure injection and a
 * replaced allocator reach it too. */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
  (void)opaque;
  return ac__calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p) {
  (void)opaque;
  ac__free(p);
}

int ac__site_gzip(const void *src, size_t len, int level, unsigned char **out, size_t *out_len) {
  z_stream zs;
  gz_header hdr;
  unsigned char *buf, *fit;
  uLong cap;
  int zrc;

  if (len > UINT32_MAX) return AC_ETOOLARGE;
  memset(&zs, 0, sizeof(zs));
  memset(&hdr, 0, sizeof(hdr));
  zs.zalloc = z_alloc;
  zs.zfree = z_free;
  /* windowBits 15 + 16: a gzip wrapper rather than zlib's. */
  zrc = deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  if (zrc == Z_MEM_ERROR) return AC_ENOMEM;
  if (zrc != Z_OK) return AC_EIO;
  hdr.os = 255; /* with mtime 0: the same header everywhere */
  deflateSetHeader(&zs, &hdr);
  cap = deflateBound(&zs, (uLong)len);
  buf = ac__malloc(cap);
  if (buf == NULL) {
    deflateEnd(&zs);
    return AC_ENOMEM;
  }
  zs.next_in = (Bytef *)(uintptr_t)src;
  zs.avail_in = (uInt)len;
  zs.next_out = buf;
  zs.avail_out = (uInt)cap;
  /* deflateBound makes one Z_FINISH enough. */
  zrc = deflate(&zs, Z_FINISH);
  *out_len = (size_t)zs.total_out;
  deflateEnd(&zs);
  if (zrc != Z_STREAM_END) {
    ac__free(buf);
    return AC_EIO;
  }
  /* The bound is well above what text compresses to: give the rest back
   * (prebuilt bodies are kept for the site's life). */
  fit = ac__realloc(buf, *out_len);
  *out = fit != NULL ? fit : buf;
  return 0;
}
