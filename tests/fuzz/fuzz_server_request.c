/*
 * libFuzzer over the server's request parser (src/server/parse.c),
 * without sockets: the input is fed in pieces, as reads would deliver it,
 * and every complete request is inspected the way the connection does
 * (URL split, header lookups, body) before the parser is reset for the next
 * pipelined one. The limits are small so that the 413/431 paths are reached.
 *
 * The first input byte chooses the piece size, so that the fuzzer explores
 * how elements split across reads.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "server/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct ac__reqparse p;
  size_t piece, off = 0, i;
  int messages = 0;

  if (size == 0) return 0;
  piece = (size_t)data[0] % 17 + 1;
  data++;
  size--;
  ac__reqparse_init(&p, 512, 16, 2048);
  while (off < size) {
    size_t n = size - off < piece ? size - off : piece, used;
    enum ac__parse_status st = ac__reqparse_feed(&p, (const char *)data + off, n, &used);
    if (used > n) __builtin_trap();
    off += used;
    if (st == AC__PARSE_ERROR) {
      if (p.error_status < 400 || p.error_status > 599) __builtin_trap();
      break;
    }
    if (st == AC__PARSE_DONE) {
      const char *path, *query;
      char tmp[2048 + 1];
      int rc;
      ac__reqparse_split_url(&p, &path, &query);
      if (strlen(path) > p.max_head) __builtin_trap();
      (void)ac__reqparse_header(&p, "Host");
      for (i = 0; i < p.nhdrs; i++) {
        if (p.hdrs[i].name >= ac__dynbuf_len(&p.head) || p.hdrs[i].value >= ac__dynbuf_len(&p.head)) __builtin_trap();
      }
      if (ac__dynbuf_len(&p.body) > p.max_body) __builtin_trap();
      rc = ac_server_url_decode(path, strlen(path), tmp, 1);
      if (rc > (int)strlen(path)) __builtin_trap();
      if (!p.keep_alive || ++messages > 64) break;
      ac__reqparse_reset(&p);
    } else if (used < n) {
      __builtin_trap(); /* "more" must mean every byte was taken */
    }
  }
  ac__reqparse_free(&p);
  return 0;
}
