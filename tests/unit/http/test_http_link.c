/*
 * Link header fields (src/client/link.c): the shapes RFC 8288 allows and
 * servers send (GitHub's several links per field, quoted and bare rel, rel
 * lists, commas inside URLs, parameters in any order), what is skipped, and
 * targets resolved against the response's own URL without a second encoding.
 */
#include <string.h>

#include "client/internal.h"
#include "runner.h"

/* The target ac__link_find gives for rel in value, or "" when none. */
static const char *find(const char *value, const char *rel) {
  static char out[256];
  const char *t;
  size_t n;
  if (ac__link_find(value, rel, &t, &n) != 0) return "";
  ASSERT_LT(n, sizeof(out));
  memcpy(out, t, n);
  out[n] = '\0';
  return out;
}

TEST_IMPL(http_link_field_shapes) {
  /* GitHub's shape: several links in one field. */
  static const char gh[] =
      "<https://api.test/r?page=2>; rel=\"next\", <https://api.test/r?page=9>; rel=\"last\"";
  ASSERT_STR_EQ(find(gh, "next"), "https://api.test/r?page=2");
  ASSERT_STR_EQ(find(gh, "last"), "https://api.test/r?page=9");
  ASSERT_STR_EQ(find(gh, "prev"), "");
  /* Bare rel, any case, no blanks, other parameters first. */
  ASSERT_STR_EQ(find("</p/3>;type=\"application/json\";title=\"a;b,c\";rel=NEXT", "next"), "/p/3");
  /* A rel listing several types. */
  ASSERT_STR_EQ(find("<?page=4>; rel=\"last next\"", "next"), "?page=4");
  ASSERT_STR_EQ(find("<?page=4>; rel=\"nextpage\"", "next"), "");
  /* Commas and semicolons inside the target. */
  ASSERT_STR_EQ(find("<https://x.test/a?f=1,2;3>; rel=\"prev\", <https://x.test/a?f=4,5;6>; rel=next",
                     "next"),
                "https://x.test/a?f=4,5;6");
  /* Blanks around everything; an empty link-value between commas. */
  ASSERT_STR_EQ(find(" ,  <a> ;  rel = \"x\" ,, <b>\t;\trel\t=\tnext  ", "next"), "b");
  /* The first rel of a link-value counts; later ones are ignored. */
  ASSERT_STR_EQ(find("<a>; rel=prev; rel=next, <b>; rel=next", "next"), "b");
  /* A link about another resource (anchor) is not this page's. */
  ASSERT_STR_EQ(find("<a>; anchor=\"#x\"; rel=next, <b>; rel=next", "next"), "b");
  /* A link-value that does not parse is skipped, the rest still counts;
   * a quoted comma does not end it early. */
  ASSERT_STR_EQ(find("garbage; rel=\"next, <c>\", <d>; rel=next", "next"), "d");
  ASSERT_STR_EQ(find("<a; rel=next", "next"), "");
  ASSERT_STR_EQ(find("<a> rel=next, <e>; rel=next", "next"), "e");
  /* A parameter without a value, and an empty rel. */
  ASSERT_STR_EQ(find("<a>; crossorigin; rel=\"\", <f>; rel=next", "next"), "f");
  ASSERT_STR_EQ(find("<a>; rel=next", ""), "");
}

/* A response as the client would hand it over, with these Link fields. */
static ac_response_t *response(const char *url, const char *const *lines, size_t n) {
  ac_response_t *r = ac__response_new(0);
  ASSERT_NOT_NULL(r);
  for (size_t i = 0; i < n; i++)
    ASSERT_OK(ac__headers_add_line(&r->headers, lines[i], strlen(lines[i])));
  r->url = ac__strdup(url);
  ASSERT_NOT_NULL(r->url);
  ASSERT_OK(ac__response_complete(r));
  return r;
}

static void expect_link(const ac_response_t *r, const char *rel, const char *want) {
  char *url = NULL;
  ASSERT_OK(ac_response_link(r, rel, &url));
  ASSERT_STR_EQ(url, want);
  ac_free(url);
}

TEST_IMPL(http_link_resolved_against_the_response) {
  static const char *const lines[] = {
      "Content-Type: application/json",
      "Link: <https://other.test/x>; rel=\"first\"",
      "link: <books?page=2&q=%2C+x>; rel=\"next\"", /* a second field, lower case */
      "Link: </v4/books?page=9>; rel=last, <//cdn.test/p?c=Zm9v%2B%2F%3D>; rel=alternate",
      "Link: <?page=1>; rel=prev, <../up>; rel=up, <#top>; rel=top"};
  ac_response_t *r = response("https://api.test/v3/list?page=1", lines, 5);
  char *url = (char *)"untouched";

  expect_link(r, "first", "https://other.test/x");
  /* Relative to the response's URL; "%2C" and "+" kept as written. */
  expect_link(r, "next", "https://api.test/v3/books?page=2&q=%2C+x");
  expect_link(r, "last", "https://api.test/v4/books?page=9");
  expect_link(r, "alternate", "https://cdn.test/p?c=Zm9v%2B%2F%3D");
  expect_link(r, "prev", "https://api.test/v3/list?page=1");
  expect_link(r, "up", "https://api.test/up");
  ASSERT_ERR(ac_response_link(r, "nope", &url), AC_ENOENT);
  ASSERT_NULL(url);
  ASSERT_ERR(ac_response_link(r, NULL, &url), AC_EINVAL);
  ASSERT_ERR(ac_response_link(NULL, "next", &url), AC_EINVAL);
  ASSERT_ERR(ac_response_link(r, "next", NULL), AC_EINVAL);
  ac_response_free(r);

  /* A target that is no URL at all. */
  {
    static const char *const bad[] = {"Link: <http://[::1>; rel=next"};
    r = response("https://api.test/", bad, 1);
    ASSERT_ERR(ac_response_link(r, "next", &url), AC_EPROTO);
    ASSERT_NULL(url);
    ac_response_free(r);
  }
  /* No Link field. */
  r = response("http://127.0.0.1:1/", lines, 1);
  ASSERT_ERR(ac_response_link(r, "next", &url), AC_ENOENT);
  ac_response_free(r);
}
