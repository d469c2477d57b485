/*
 * Gzip of a whole body in one call, for the replica: its prebuilt book pages
 * (books.c) and its dynamic bodies (site.c, site_httpbin.c).
 */
#ifndef AC_SITE_GZIP_H
#define AC_SITE_GZIP_H

#include <stddef.h>

/*
 * Gzip src[0..len) at zlib level `level` (1..9) into a new ac__malloc'd
 * buffer of exactly *out_len bytes (*out, freed by the caller with
 * ac__free). The header has mtime 0 and OS 255 ("unknown"), so the same
 * bytes come out everywhere. Returns 0, AC_ENOMEM, AC_ETOOLARGE (over 4 GiB,
 * more than zlib takes in one call) or AC_EIO.
 */
int ac__site_gzip(const void *src, size_t len, int level, unsigned char **out, size_t *out_len);

#endif /* AC_SITE_GZIP_H */
