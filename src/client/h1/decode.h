/*
 * Streaming Content-Encoding decoding for acrawl's own HTTP/1.1 client path
 * (parse.c), which does not go through libcurl's decoders. libcurl 7.88 is the
 * reference for what is accepted: gzip (and x-gzip), deflate (zlib-wrapped
 * or, as many servers send it, raw), br, identity; a list of codings is
 * undone in reverse order.
 *
 * Memory is bounded whatever the compression ratio: decoded bytes leave
 * through the sink in pieces of at most AC__HTTP_DECODE_CHUNK bytes as soon
 * as they are made (a gzip body of at most 32 KiB whose trailer promises at
 * most 1 MiB is decoded whole at the end, for speed: decode.c), and each coding keeps only its own fixed state (zlib's
 * 32 KiB window; brotli's window, which the stream declares and the format
 * caps at 16 MiB). A decompression bomb therefore reaches the caller's body
 * cap through the sink instead of growing a buffer here.
 */
#ifndef AC_CLIENT_H1_DECODE_H
#define AC_CLIENT_H1_DECODE_H

#include <stddef.h>

/* The largest piece handed to a sink in one call. */
#define AC__HTTP_DECODE_CHUNK (16 * 1024)
/* The longest chain of codings accepted ("gzip, br, ..."); libcurl 7.88 has
 * no limit, later versions stop at 5. A longer one is refused as hostile. */
#define AC__HTTP_DECODE_MAX_CHAIN 4

/* A chain of decoders for one response body's Content-Encoding. */
typedef struct ac__http_decoder ac__http_decoder_t;

/* Receives decoded bytes (borrowed: valid until the call returns); returns 0
 * or an AC_E* code that stops decoding and is returned as is (the caller uses
 * AC_ETOOLARGE for its body cap, AC_ENOMEM). */
typedef int (*ac__http_sink_fn)(void *userdata, const char *data, size_t len);

/* Parse a Content-Encoding header value (e.g. "gzip", "x-gzip", "deflate",
 * "br", "identity", "gzip, br" = applied in that order, so decoded in
 * reverse; case-insensitive; blanks and empty list elements allowed). When a
 * response has several Content-Encoding lines, join them with ", " first.
 * *out = NULL when nothing needs decoding (NULL/empty/identity only).
 * Returns 0, AC_EPROTO for an unknown coding or a chain longer than
 * AC__HTTP_DECODE_MAX_CHAIN (message-worthy: the caller reports "unsupported
 * Content-Encoding"), AC_ENOMEM. On error *out is NULL. */
int ac__http_decoder_new(const char *content_encoding, ac__http_decoder_t **out);

/* Feed encoded bytes; decoded output goes to sink in pieces of at most
 * AC__HTTP_DECODE_CHUNK bytes, now or (a small gzip body, decoded whole: see
 * decode.c) at finish. Returns 0, AC_EPROTO for corrupt data (found here or
 * by finish: a gzip body that starts right but breaks later fails there),
 * AC_ENOMEM, or the sink's error. An error is final: every later feed or
 * finish returns it again without calling the sink. Bytes after the end of
 * a complete stream are ignored (but a gzip member that follows one is
 * decoded, as gzip(1) does). */
int ac__http_decoder_feed(ac__http_decoder_t *d, const void *in, size_t len,
                          ac__http_sink_fn sink, void *ud);

/* The body ended: flush. Returns 0, AC_EPROTO if a stream is incomplete
 * (truncated gzip/deflate/br), or the sink's error. A body of zero bytes is
 * not an error (a 204 or a HEAD sent with a Content-Encoding). */
int ac__http_decoder_finish(ac__http_decoder_t *d, ac__http_sink_fn sink, void *ud);

/* 1 if the body was decoded whole by the fast path (decode.c), else 0: for
 * tests, which must see both paths taken. */
int ac__http_decoder_decoded_whole(const ac__http_decoder_t *d);

/* NULL is fine. */
void ac__http_decoder_free(ac__http_decoder_t *d);

#endif /* AC_CLIENT_H1_DECODE_H */
