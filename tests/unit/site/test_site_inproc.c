/*
 * The replica's pieces in process: the JSON validator behind httpbin's
 * "json" field, the multipart splitter behind "form" and "files", the
 * base64 of data URIs and cursors, and
 * ac__site_new under allocation failures (AC_ENOMEM returned at every step,
 * nothing leaked).
 */
#include <stdlib.h>
#include <string.h>

#include "acrawl.h"
#include "common/alloc.h"
#include "runner.h"
#include "site/site.h"
#include "site/site_internal.h"

TEST_IMPL(site_new_out_of_memory) {
  struct ac__site_options o;
  struct ac__site *s = NULL;
  ac_loop_t *loop;
  long n;
  int rc;

  ac_test_count_allocations();
  ASSERT_OK(ac_loop_new(&loop));
  ac__site_options_init(&o);
  o.books.n = 64;
  o.gone = 3;
  /* Shapes out of bounds are refused before anything is built. */
  o.shapes.style = AC__STYLE_KINDS;
  ASSERT_ERR(ac__site_new(loop, &o, &s), AC_EINVAL);
  o.shapes.style = AC__SITE_ANY;
  o.shapes.escape = -2;
  ASSERT_ERR(ac__site_new(loop, &o, &s), AC_EINVAL);
  o.shapes.escape = AC__ESCAPE_PHP;
  o.shapes.pbom = 1.5;
  ASSERT_ERR(ac__site_new(loop, &o, &s), AC_EINVAL);
  o.shapes.pbom = 0.5;
  o.shapes.content_type = "text/json\r\nX: y";
  ASSERT_ERR(ac__site_new(loop, &o, &s), AC_EINVAL);
  o.shapes.content_type = "";
  ASSERT_ERR(ac__site_new(loop, &o, &s), AC_EINVAL);
  o.shapes.content_type = "text/json"; /* copied: one more allocation to fail */
  for (n = 1;; n++) {
    ac__alloc_fail_after(n);
    rc = ac__site_new(loop, &o, &s);
    ac__alloc_fail_after(0);
    if (rc == 0) break;
    ASSERT_ERR(rc, AC_ENOMEM);
    ASSERT_OK(ac_loop_run(loop)); /* releases what the failed server closed */
  }
  ASSERT_GE(n, 5);
  ASSERT_EQ(ac__books_count(ac__site_books(s)), 64);
  {
    int gone = 0;
    for (size_t i = 0; i < 64; i++) gone += ac__site_is_gone(s, i);
    ASSERT_EQ(gone, 3);
  }
  ASSERT_OK(ac__site_free(s));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(ac_loop_close(loop));
  ASSERT_EQ(ac_test_live_allocations(), 0);
}

TEST_IMPL(site_multipart_parts) {
  struct ac__site_field form[4], files[4];
  int nf, nfi;
  static const char body[] = "--XyZ\r\n"
                             "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
                             "one\r\n"
                             "--XyZ\r\n"
                             "content-disposition: form-data; filename=\"f.txt\"; name=\"up\"\r\n"
                             "Content-Type: text/plain\r\n\r\n"
                             "x\r\ny\r\n"
                             "--XyZ\r\n"
                             "Content-Disposition: form-data\r\n\r\n"
                             "no name: skipped\r\n"
                             "--XyZ--\r\n";
  ASSERT_EQ(ac__site_multipart("multipart/form-data; boundary=XyZ", body, sizeof(body) - 1, form,
                               &nf, files, &nfi, 4), 0);
  ASSERT_EQ(nf, 1);
  ASSERT_EQ(nfi, 1);
  ASSERT(form[0].klen == 1 && memcmp(form[0].k, "a", 1) == 0);
  ASSERT(form[0].vlen == 3 && memcmp(form[0].v, "one", 3) == 0);
  ASSERT(files[0].klen == 2 && memcmp(files[0].k, "up", 2) == 0);
  ASSERT(files[0].vlen == 4 && memcmp(files[0].v, "x\r\ny", 4) == 0);
  /* A quoted boundary; the cap on parts. */
  ASSERT_EQ(ac__site_multipart("multipart/form-data; boundary=\"XyZ\"", body, sizeof(body) - 1,
                               form, &nf, files, &nfi, 0), 0);
  ASSERT_EQ(nf + nfi, 0);
  /* Not multipart, or no boundary: -1. */
  ASSERT_EQ(ac__site_multipart("text/plain", body, sizeof(body) - 1, form, &nf, files, &nfi, 4),
            -1);
  ASSERT_EQ(ac__site_multipart("multipart/form-data", body, sizeof(body) - 1, form, &nf, files,
                               &nfi, 4), -1);
  ASSERT_EQ(ac__site_multipart(NULL, body, sizeof(body) - 1, form, &nf, files, &nfi, 4), -1);
  /* Every truncation parses safely (ASan watches), never past the body. */
  for (size_t n = 0; n < sizeof(body) - 1; n++) {
    char *copy = malloc(n + 1);
    ASSERT_NOT_NULL(copy);
    memcpy(copy, body, n);
    ASSERT_EQ(ac__site_multipart("multipart/form-data; boundary=XyZ", copy, n, form, &nf, files,
                                 &nfi, 4), 0);
    for (int i = 0; i < nf; i++) ASSERT(form[i].v + form[i].vlen <= copy + n);
    for (int i = 0; i < nfi; i++) ASSERT(files[i].v + files[i].vlen <= copy + n);
    free(copy);
  }
}

/* The cursors' base64: every blob round-trips, and each has one text only. */
TEST_IMPL(site_base64_strict) {
  static const char *const bad[] = {"A",    "AA",   "AAA",   "AA=A", "A===", "====",
                                    "AB==", "AAB=", "AA A",  "AA+", "AA==AAAA",
                                    "AA-_", "AA\n="};
  unsigned char blob[16], back[16];
  struct ac__dynbuf b;
  size_t n;

  for (size_t len = 0; len <= sizeof(blob); len++) {
    for (size_t i = 0; i < len; i++) blob[i] = (unsigned char)(0xF8 + 37 * i + len);
    ac__dynbuf_init(&b, 64);
    ac__dynbuf_addc(&b, 'x'); /* "" is a text too: keep the buffer allocated */
    ac__site_base64(&b, blob, len);
    ASSERT_OK(ac__dynbuf_err(&b));
    ASSERT_EQ(ac__dynbuf_len(&b) - 1, (len + 2) / 3 * 4);
    ASSERT_EQ(ac__site_unbase64(ac__dynbuf_ptr(&b) + 1, ac__dynbuf_len(&b) - 1, back,
                                sizeof(back), &n), 0);
    ASSERT_EQ(n, len);
    ASSERT(memcmp(blob, back, len) == 0);
    /* One byte short of room: refused. */
    if (len > 0)
      ASSERT_EQ(ac__site_unbase64(ac__dynbuf_ptr(&b) + 1, ac__dynbuf_len(&b) - 1, back,
                                  len - 1, &n), -1);
    ac__dynbuf_free(&b);
  }
  ASSERT_EQ(ac__site_unbase64("+/+/", 4, back, sizeof(back), &n), 0);
  ASSERT_EQ(n, 3);
  ASSERT(back[0] == 0xFB && back[1] == 0xFF && back[2] == 0xBF);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (ac__site_unbase64(bad[i], strlen(bad[i]), back, sizeof(back), &n) != -1)
      AC__FAIL("\"%s\" decoded", bad[i]);
}
