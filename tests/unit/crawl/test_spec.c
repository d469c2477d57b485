/*
 * Specs (src/crawl/spec.c, spec_request.c): every refusal names the
 * pointer of the key at fault and what was expected; ${NAME} comes from the
 * environment; requests are built with the fields' values escaped where
 * they land (ids holding '/', '?', '%', spaces, non-ASCII; numbers; a
 * base64 cursor), and the paginator's values go to the query or the body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "acrawl/errno.h"
#include "acrawl/spec.h"
#include "crawl/spec_internal.h"
#include "runner.h"

#define BOOKS_LIST                                                                  \
  "{\"name\":\"list\",\"path\":\"/api/book/\",\"paginator\":{\"type\":\"offset\","   \
  "\"limit\":18,\"total\":\"/count\"},\"records\":\"/results\",\"emit\":false}"
#define BOOKS_DETAIL                                                                \
  "{\"name\":\"book\",\"parent\":\"list\",\"fields\":{\"id\":\"/id\"},"              \
  "\"path\":\"/api/book/{id}\",\"key\":\"/id\"}"

/* Loads text; on an error returns its code with the message in msg. */
static int load(const char *text, ac_spec_t **out, char *msg, size_t cap) {
  ac_spec_error_t err;
  int rc = ac_spec_load(text, strlen(text), out, &err);
  snprintf(msg, cap, "%s", rc == 0 ? "" : err.message);
  return rc;
}

/* The spec {"name":"t","base_url":..., <extra>, "resources":[<res>]} must
 * be refused with a message that starts with `want`. */
static void refused(const char *extra, const char *res, const char *want) {
  char text[4096], msg[1024];
  ac_spec_t *s = NULL;
  snprintf(text, sizeof(text), "{\"name\":\"t\",\"base_url\":\"http://h.test\"%s%s,"
                               "\"resources\":[%s]}", extra[0] ? "," : "", extra, res);
  ASSERT_EQ(load(text, &s, msg, sizeof(msg)), AC_EINVAL);
  ASSERT_NULL(s);
  if (strncmp(msg, want, strlen(want)) != 0) {
    fprintf(stderr, "spec: %s\nwanted: %s...\ngot:    %s\n", text, want, msg);
    ASSERT(0);
  }
}

TEST_IMPL(spec_books_loads) {
  char msg[1024];
  ac_spec_t *s = NULL;
  const char *text = "{\"name\":\"books\",\"base_url\":\"https://spa5.scrape.center\","
                     "\"headers\":{\"Accept\":\"application/json\"},"
                     "\"resources\":[" BOOKS_LIST "," BOOKS_DETAIL "]}";
  ASSERT_OK(load(text, &s, msg, sizeof(msg)));
  ASSERT_STR_EQ(ac_spec_name(s), "books");
  ASSERT_STR_EQ(ac_spec_collection(s), "books");
  ASSERT_STR_EQ(ac_spec_key_field(s), "id");
  ASSERT_STR_EQ(ac_spec_base_url(s), "https://spa5.scrape.center");
  ASSERT_EQ(s->nres, 2);
  ASSERT_EQ(s->res[0].parent, -1);
  ASSERT_EQ(s->res[1].parent, 0);
  ASSERT_EQ(s->res[1].depth, 1);
  ASSERT_EQ(s->res[0].pager.type, AC__PG_OFFSET);
  ASSERT_STR_EQ(s->res[0].pager.param, "offset");
  ASSERT_STR_EQ(s->res[0].pager.limit_param, "limit");
  ASSERT_EQ(s->res[0].pager.limit, 18);
  ASSERT_EQ(s->res[0].emit, 0);
  ASSERT_EQ(s->res[1].emit, 1);
  ASSERT_STR_EQ(s->res[1].method, "GET");
  ac_spec_free(s);
}

TEST_IMPL(spec_errors_name_the_key) {
  char msg[1024];
  ac_spec_t *s = NULL;
  /* The issue's own example, word for word. */
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"emit\":false},"
              "{\"name\":\"b\",\"path\":\"/b\",\"key\":\"/id\",\"paginator\":{\"type\":\"ofset\"}}",
          "resources/1/paginator/type: unknown paginator \"ofset\" (offset, page, cursor, "
          "next_url, link_header, none)");
  /* Unknown keys, at every level. */
  refused("\"concurrenc\":4", BOOKS_DETAIL, "concurrenc: unknown key in a spec (known: name,");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"recods\":\"/r\"}",
          "resources/0/recods: unknown key in a resource");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"paginator\":{\"type\":\"cursor\","
              "\"from\":\"/n\",\"limit\":5}}",
          "resources/0/paginator/limit: unknown key in this paginator");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"paginator\":{\"type\":\"next_url\","
              "\"from\":\"/n\",\"in\":\"json\"}}",
          "resources/0/paginator/in: unknown key in this paginator");
  /* Types and ranges. */
  refused("\"concurrency\":0", BOOKS_DETAIL, "concurrency: 0 is out of range");
  refused("\"rate\":\"fast\"", BOOKS_DETAIL, "rate: a string, where a number is expected");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"emit\":\"yes\"}",
          "resources/0/emit: a string, where true or false is expected");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"paginator\":{\"type\":\"offset\","
              "\"limit\":2.5}}",
          "resources/0/paginator/limit: a fraction, where a whole number is expected");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"paginator\":{\"type\":\"offset\"}}",
          "resources/0/paginator: missing \"limit\"");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"paginator\":{\"type\":\"page\","
              "\"total\":\"/n\"}}",
          "resources/0/paginator: \"total\" counts items: \"size\"");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"paginator\":{\"type\":\"cursor\"}}",
          "resources/0/paginator: missing \"from\"");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"paginator\":{\"type\":\"page\","
              "\"in\":\"body\"}}",
          "resources/0/paginator/in: \"query\" or \"json\" expected");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"id\"}",
          "resources/0/key: \"id\" is not a JSON Pointer");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"kind\":\"html\"}",
          "resources/0/kind: only \"json\"");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"method\":\"GET POST\"}",
          "resources/0/method: \"GET POST\" is not an HTTP method");
  refused("", "{\"name\":\"a\",\"path\":\"/\"}", "resources/0: an emitting resource needs \"key\"");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"json\":{},\"form\":{}}",
          "resources/0: \"json\" and \"form\" both given");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"json\":[1],\"paginator\":"
              "{\"type\":\"page\",\"in\":\"json\"}}",
          "resources/0/json: the paginator puts its values in the JSON body");
  /* Missing pieces, parents, placeholders. */
  refused("", "{\"path\":\"/\",\"key\":\"/id\"}", "resources/0: missing \"name\"");
  refused("", "{\"name\":\"a\",\"path\":\"/{id}\",\"key\":\"/id\"}",
          "resources/0/path: {id}: a placeholder needs a parent resource");
  refused("", BOOKS_LIST ",{\"name\":\"b\",\"parent\":\"list\",\"fields\":{\"id\":\"/id\"},"
              "\"path\":\"/x/{ID}\",\"key\":\"/id\"}",
          "resources/1/path: {ID}: no such field");
  refused("", BOOKS_LIST ",{\"name\":\"b\",\"parent\":\"lists\",\"path\":\"/x\",\"key\":\"/id\"}",
          "resources/1/parent: no resource is named \"lists\"");
  refused("", "{\"name\":\"a\",\"parent\":\"b\",\"path\":\"/\",\"key\":\"/id\"},"
              "{\"name\":\"b\",\"parent\":\"a\",\"path\":\"/\",\"key\":\"/id\"}",
          "resources/0/parent: the parents make a cycle");
  refused("", BOOKS_LIST "," BOOKS_LIST, "resources/1/name: \"list\" names resource 0 already");
  refused("", BOOKS_LIST, "resources: no resource emits items");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"collection\":\"x y\"}",
          "resources/0/collection: \"x y\": letters, digits, '_' and '-' only");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"collection\":\"\"}",
          "resources/0/collection:");
  refused("", "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"fields\":{\"id\":\"/id\"}}",
          "resources/0/fields: fields are taken from a parent's records");
  refused("", "", "resources: no resource");
  {
    /* Fields travel with each request: their number is capped. */
    char res[4096];
    size_t n = (size_t)snprintf(res, sizeof(res), BOOKS_LIST ",{\"name\":\"b\",\"parent\":"
                                                  "\"list\",\"path\":\"/b\",\"key\":\"/id\","
                                                  "\"fields\":{");
    for (int i = 0; i <= AC__SPEC_MAX_FIELDS; i++)
      n += (size_t)snprintf(res + n, sizeof(res) - n, "%s\"f%d\":\"/id\"", i ? "," : "", i);
    snprintf(res + n, sizeof(res) - n, "}}");
    refused("", res, "resources/1/fields: 65 fields: at most 64");
  }
  /* The top. */
  ASSERT_EQ(load("{\"name\":\"t\",\"base_url\":\"ftp://h\",\"resources\":[" BOOKS_DETAIL "]}", &s,
                 msg, sizeof(msg)), AC_EINVAL);
  ASSERT_STR_EQ(msg, "base_url: \"ftp://h\" is not an absolute http:// or https:// URL");
  ASSERT_EQ(load("{\"name\":\"a b\",\"base_url\":\"http://h\",\"resources\":[]}", &s, msg,
                 sizeof(msg)), AC_EINVAL);
  ASSERT(strstr(msg, "name: \"a b\": letters, digits") == msg);
  ASSERT_EQ(load("[1]", &s, msg, sizeof(msg)), AC_EINVAL);
  ASSERT_STR_EQ(msg, "a spec is a JSON object, not an array");
  ASSERT_EQ(load("{\"name\":\"t\",\n  \"base_url\": http}", &s, msg, sizeof(msg)), AC_EINVAL);
  ASSERT_STR_EQ(msg, "not JSON: line 2, column 15");
  ASSERT_EQ(load("", &s, msg, sizeof(msg)), AC_EINVAL);
  ASSERT(strstr(msg, "not JSON") == msg);
  ASSERT_EQ(load("{\"name\":\"t\",\"name\":\"u\"}", &s, msg, sizeof(msg)), AC_EINVAL);
  ASSERT_STR_EQ(msg, "name: given twice");
}

TEST_IMPL(spec_empty_pointer_is_the_whole_value) {
  char msg[1024];
  ac_spec_t *s = NULL;
  ASSERT_OK(load("{\"name\":\"t\",\"base_url\":\"http://h\",\"resources\":[{\"name\":\"a\","
                 "\"path\":\"/\",\"records\":\"\",\"key\":\"\"}]}", &s, msg, sizeof(msg)));
  ASSERT_STR_EQ(s->res[0].records, "");
  ASSERT_STR_EQ(s->res[0].key, "");
  ASSERT_NULL(ac_spec_key_field(s));
  ac_spec_free(s);
}

TEST_IMPL(spec_env_variables) {
  char msg[1024];
  ac_spec_t *s = NULL;
  const char *text = "{\"name\":\"t\",\"base_url\":\"${AC_TEST_SPEC_BASE}\","
                     "\"resources\":[{\"name\":\"a\",\"path\":\"/a\",\"key\":\"/id\","
                     "\"headers\":{\"Authorization\":\"Bearer ${AC_TEST_SPEC_TOKEN}$x${\"}}]}";
  unsetenv("AC_TEST_SPEC_TOKEN");
  setenv("AC_TEST_SPEC_BASE", "http://127.0.0.1:1", 1);
  ASSERT_EQ(load(text, &s, msg, sizeof(msg)), AC_EINVAL);
  ASSERT_STR_EQ(msg, "resources/0/headers/Authorization: the environment variable "
                     "AC_TEST_SPEC_TOKEN is not set");
  setenv("AC_TEST_SPEC_TOKEN", "s3cr3t-and-a-longer-one", 1);
  ASSERT_OK(load(text, &s, msg, sizeof(msg)));
  ASSERT_STR_EQ(ac_spec_base_url(s), "http://127.0.0.1:1");
  /* A '$' not followed by {NAME} is text. */
  ASSERT_STR_EQ(s->res[0].headers[0].tmpl, "Bearer s3cr3t-and-a-longer-one$x${");
  ac_spec_free(s);
  unsetenv("AC_TEST_SPEC_TOKEN");
  unsetenv("AC_TEST_SPEC_BASE");
}

/* The spec every build() loads, freed by the test's end (a request's
 * header names are the spec's). */
static ac_spec_t *built_spec;

/* Builds resource `res` of text with field values vals (JSON text). */
static void build(const char *text, size_t res, const char *const *vals,
                  const ac__spec_pageval_t *pv, ac__spec_built_t *b) {
  char msg[1024], why[256];
  ac_spec_free(built_spec);
  built_spec = NULL;
  ASSERT_OK(load(text, &built_spec, msg, sizeof(msg)));
  ac__spec_base_t base;
  ASSERT_OK(ac__spec_base_init(&base, ac_spec_base_url(built_spec)));
  ASSERT_OK(ac__spec_build(&base, &built_spec->res[res], vals, pv, NULL, b, why, sizeof(why)));
  ac__spec_base_free(&base);
}

TEST_IMPL(spec_request_escapes_values) {
  static const char text[] =
      "{\"name\":\"t\",\"base_url\":\"http://h.test/api/v2/\",\"resources\":["
      "{\"name\":\"list\",\"path\":\"list\",\"emit\":false,\"records\":\"/r\"},"
      "{\"name\":\"item\",\"parent\":\"list\",\"fields\":{\"id\":\"/id\",\"n\":\"/n\"},"
      "\"path\":\"items/{id}/x{n}\",\"params\":{\"q\":\"a b&{id}\",\"k+\":3},"
      "\"headers\":{\"X-Id\":\"<{id}>\"},\"key\":\"/id\"}]}";
  ac__spec_built_t b;
  const char *v1[] = {"\"a/b?c%d e\\u00e9\"", "42"};
  const char *v2[] = {"\"..\"", "-1.5e3"};
  const char *v3[] = {"\"x\\r\\ny\"", "1"};
  char msg[1024], why[256];
  ac_spec_t *s = NULL;
  build(text, 1, v1, NULL, &b);
  /* Relative to the base's directory (RFC 3986); the value encoded whole. */
  ASSERT_STR_EQ(b.url, "http://h.test/api/v2/items/a%2Fb%3Fc%25d%20e%C3%A9/x42"
                       "?q=a%20b%26a%2Fb%3Fc%25d%20e%C3%A9&k%2B=3");
  ASSERT_EQ(b.nheaders, 1);
  ASSERT_STR_EQ(b.headers[0].key, "X-Id");
  ASSERT_STR_EQ(b.headers[0].value, "<a/b?c%d e\xC3\xA9>");
  ASSERT_NULL(b.body);
  ac__spec_built_free(&b);
  /* A dot segment as a whole value does not climb the path. */
  build(text, 1, v2, NULL, &b);
  ASSERT_STR_EQ(b.url, "http://h.test/api/v2/items/%2E%2E/x-1.5e3?q=a%20b%26..&k%2B=3");
  ac__spec_built_free(&b);
  /* A line break may not go into a header. */
  ASSERT_OK(load(text, &s, msg, sizeof(msg)));
  {
    ac__spec_base_t base;
    ASSERT_OK(ac__spec_base_init(&base, ac_spec_base_url(s)));
    ASSERT_EQ(ac__spec_build(&base, &s->res[1], v3, NULL, NULL, &b, why, sizeof(why)), AC_EINVAL);
    ac__spec_base_free(&base);
  }
  ASSERT_STR_EQ(why, "{id} would put a line break in a header");
  ac_spec_free(s);
  ac_spec_free(built_spec);
  built_spec = NULL;
}

TEST_IMPL(spec_request_bodies_and_pages) {
  static const char text[] =
      "{\"name\":\"t\",\"base_url\":\"http://h.test\",\"resources\":["
      "{\"name\":\"search\",\"method\":\"POST\",\"path\":\"/search?v=1\","
      "\"json\":{\"query\":\"books\",\"page\":99},"
      "\"paginator\":{\"type\":\"page\",\"in\":\"json\",\"size_param\":\"size\",\"size\":20},"
      "\"records\":\"/items\",\"emit\":false},"
      "{\"name\":\"d\",\"parent\":\"search\",\"fields\":{\"id\":\"/id\",\"t\":\"/t\"},"
      "\"method\":\"POST\",\"path\":\"/d\",\"json\":{\"id\":\"{id}\",\"label\":\"id {id}\","
      "\"list\":[\"{t}\",true,null,1.5]},\"key\":\"/id\"},"
      "{\"name\":\"f\",\"parent\":\"search\",\"fields\":{\"id\":\"/id\"},\"method\":\"PUT\","
      "\"path\":\"/f\",\"form\":{\"id\":\"{id}\",\"n\":7},\"key\":\"/id\"},"
      "{\"name\":\"c\",\"path\":\"/c\",\"paginator\":{\"type\":\"cursor\",\"from\":\"/next\"},"
      "\"key\":\"/id\"}]}";
  ac__spec_built_t b;
  ac__spec_pageval_t pv;
  const char *vals[] = {"12", "\"a\\\"b\""};
  memset(&pv, 0, sizeof(pv));
  pv.v[0].name = "page";
  pv.v[0].num = 3;
  pv.v[1].name = "size";
  pv.v[1].num = 20;
  pv.n = 2;
  build(text, 0, NULL, &pv, &b);
  /* `in: json`: the page values as top-level keys, over the template's. */
  ASSERT_STR_EQ(b.url, "http://h.test/search?v=1");
  ASSERT_STR_EQ(b.body, "{\"page\":3,\"size\":20,\"query\":\"books\"}");
  ASSERT_STR_EQ(b.content_type, "application/json");
  ac__spec_built_free(&b);
  /* A string that is exactly one placeholder takes the value as it was. */
  build(text, 1, vals, NULL, &b);
  ASSERT_STR_EQ(b.body, "{\"id\":12,\"label\":\"id 12\",\"list\":[\"a\\\"b\",true,null,1.5]}");
  ac__spec_built_free(&b);
  build(text, 2, vals, NULL, &b);
  ASSERT_STR_EQ(b.body, "id=12&n=7");
  ASSERT_STR_EQ(b.content_type, "application/x-www-form-urlencoded");
  ac__spec_built_free(&b);
  /* A base64 cursor's '+', '/' and '=' are data in the query. */
  memset(&pv, 0, sizeof(pv));
  pv.v[0].name = "cursor";
  pv.v[0].text = "ab+/c==";
  pv.n = 1;
  build(text, 3, NULL, &pv, &b);
  ASSERT_STR_EQ(b.url, "http://h.test/c?cursor=ab%2B%2Fc%3D%3D");
  ac__spec_built_free(&b);
  ac_spec_free(built_spec);
  built_spec = NULL;
}

TEST_IMPL(spec_load_file) {
  ac_spec_t *s = NULL;
  ac_spec_error_t err;
  ASSERT_EQ(ac_spec_load_file("/nonexistent/spec.json", &s, &err), AC_EIO);
  ASSERT(strstr(err.message, "cannot read /nonexistent/spec.json") == err.message);
}

/* Workers of a shared crawl compare digests: layout must not matter, any
 * value must. */
TEST_IMPL(spec_digest) {
  const char *one = "{\"name\":\"t\",\"base_url\":\"http://h.test\",\"resources\":[" BOOKS_LIST
                    "," BOOKS_DETAIL "]}";
  const char *spaced =
      "\xEF\xBB\xBF{ \"name\" : \"t\",\n\t\"base_url\": \"http://h.test\",\r\n"
      " \"resources\": [" BOOKS_LIST ", " BOOKS_DETAIL "] }\n";
  char other[1024], msg[1024];
  ac_spec_t *a = NULL, *b = NULL, *c = NULL;
  snprintf(other, sizeof(other), "%s", one);
  memcpy(strstr(other, "\"limit\":18"), "\"limit\":17", 10);
  ASSERT_EQ(load(one, &a, msg, sizeof(msg)), 0);
  ASSERT_EQ(load(spaced, &b, msg, sizeof(msg)), 0);
  ASSERT_EQ(load(other, &c, msg, sizeof(msg)), 0);
  ASSERT_EQ(strlen(ac_spec_digest(a)), 16);
  ASSERT_EQ(strspn(ac_spec_digest(a), "0123456789abcdef"), 16);
  ASSERT_STR_EQ(ac_spec_digest(a), ac_spec_digest(b));
  ASSERT(strcmp(ac_spec_digest(a), ac_spec_digest(c)) != 0);
  ASSERT_NULL(ac_spec_digest(NULL));
  ac_spec_free(a);
  ac_spec_free(b);
  ac_spec_free(c);
}

/* libcurl's resolution of ref against base (RFC 3986 section 5): 1, or 0
 * when libcurl refuses it. */
static int curl_resolve(const char *base, const char *ref, char *out, size_t cap) {
  CURLU *u = curl_url();
  char *full = NULL;
  int ok;
  ASSERT_NOT_NULL(u);
  ASSERT_EQ(curl_url_set(u, CURLUPART_URL, base, 0), CURLUE_OK);
  ok = curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
       curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK;
  if (ok) snprintf(out, cap, "%s", full);
  curl_free(full);
  curl_url_cleanup(u);
  return ok;
}

/* A path is joined to the base without libcurl where resolving changes
 * nothing else; every case, joined or not, must give libcurl's answer. */
TEST_IMPL(spec_request_paths_resolve_as_rfc3986) {
  static const char *const bases[] = {"http://h.test/api/v2/", "http://h.test/api/v2",
                                      "http://H.test:80/a/b?x=1#f", "https://h.test",
                                      "http://127.0.0.1:8080/"};
  static const char *const paths[] = {"items/x", "/abs/y", "../up", "./here", "a/./b", "a/../b",
                                      "?q=1", "#frag", "http://other.test/x", "//other.test/x",
                                      "items?v=1", ".hidden/x", "x..y/z", "/", "a:b"};
  for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
    for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
      char text[1024], msg[1024], want[1024], why[256];
      ac_spec_t *s = NULL;
      ac__spec_base_t base;
      ac__spec_built_t built;
      snprintf(text, sizeof(text), "{\"name\":\"t\",\"base_url\":\"%s\",\"resources\":"
                                   "[{\"name\":\"a\",\"path\":\"%s\",\"key\":\"/id\"}]}",
               bases[b], paths[p]);
      ASSERT_OK(load(text, &s, msg, sizeof(msg)));
      ASSERT_OK(ac__spec_base_init(&base, bases[b]));
      if (!curl_resolve(bases[b], paths[p], want, sizeof(want))) {
        /* What libcurl refuses (a scheme it does not know) fails the build. */
        ASSERT_EQ(ac__spec_build(&base, &s->res[0], NULL, NULL, NULL, &built, why, sizeof(why)),
                  AC_EINVAL);
        ac__spec_base_free(&base);
        ac_spec_free(s);
        continue;
      }
      ASSERT_OK(ac__spec_build(&base, &s->res[0], NULL, NULL, NULL, &built, why, sizeof(why)));
      if (strcmp(built.url, want) != 0) {
        fprintf(stderr, "base %s path %s: built %s, libcurl %s\n", bases[b], paths[p], built.url,
                want);
        ASSERT(0);
      }
      ac__spec_built_free(&built);
      ac__spec_base_free(&base);
      ac_spec_free(s);
    }
}

/* Resources that name different collections: each keeps its own, the
 * spec lists them once each in the order they first appear, and a key
 * field is per collection (the spec-wide one only where all agree). */
TEST_IMPL(spec_several_collections) {
  char msg[1024];
  ac_spec_t *s = NULL;
  const char *const *names = NULL;
  ASSERT_OK(load("{\"name\":\"t\",\"base_url\":\"http://h\",\"resources\":["
                 "{\"name\":\"a\",\"path\":\"/\",\"key\":\"/id\",\"collection\":\"x\"},"
                 "{\"name\":\"l\",\"path\":\"/l\",\"emit\":false,\"collection\":\"zz\"},"
                 "{\"name\":\"b\",\"path\":\"/b\",\"key\":\"/no\",\"collection\":\"y\"},"
                 "{\"name\":\"c\",\"path\":\"/c\",\"key\":\"/id\"},"
                 "{\"name\":\"d\",\"path\":\"/d\",\"key\":\"/id\",\"collection\":\"x\"},"
                 "{\"name\":\"e\",\"path\":\"/e\",\"key\":\"/a/b\",\"collection\":\"w\"},"
                 "{\"name\":\"f\",\"path\":\"/f\",\"key\":\"/no\",\"collection\":\"t\"}]}",
                 &s, msg, sizeof(msg)));
  /* "zz" is only a non-emitting resource's: no items go there. */
  ASSERT_EQ(ac_spec_collections(s, &names), 4);
  ASSERT_STR_EQ(names[0], "x");
  ASSERT_STR_EQ(names[1], "y");
  ASSERT_STR_EQ(names[2], "t");
  ASSERT_STR_EQ(names[3], "w");
  ASSERT_EQ(ac_spec_collections(s, NULL), 4);
  ASSERT_STR_EQ(ac_spec_collection(s), "x");
  ASSERT_STR_EQ(s->res[0].collection, "x");
  ASSERT_NULL(s->res[1].collection);
  ASSERT_STR_EQ(s->res[3].collection, "t");
  ASSERT(s->res[0].collection == s->res[4].collection);
  /* "t" holds c (/id) and f (/no): they disagree. */
  ASSERT_STR_EQ(ac_spec_collection_key_field(s, "x"), "id");
  ASSERT_STR_EQ(ac_spec_collection_key_field(s, "y"), "no");
  ASSERT_NULL(ac_spec_collection_key_field(s, "t"));
  ASSERT_NULL(ac_spec_collection_key_field(s, "w"));
  ASSERT_NULL(ac_spec_collection_key_field(s, "zz"));
  ASSERT_NULL(ac_spec_collection_key_field(s, NULL));
  ASSERT_NULL(ac_spec_key_field(s));
  ac_spec_free(s);
  ASSERT_EQ(ac_spec_collections(NULL, &names), 0);
  ASSERT_NULL(names);
  /* One collection: the spec's name, its key field everywhere. */
  ASSERT_OK(load("{\"name\":\"books\",\"base_url\":\"http://h\",\"resources\":["
                 BOOKS_LIST "," BOOKS_DETAIL "]}", &s, msg, sizeof(msg)));
  ASSERT_EQ(ac_spec_collections(s, &names), 1);
  ASSERT_STR_EQ(names[0], "books");
  ASSERT_STR_EQ(ac_spec_collection_key_field(s, "books"), "id");
  ac_spec_free(s);
}

/* Many workers can share a spec unless a root listing ends only at its
 * first empty page (no total, no max_pages). */
TEST_IMPL(spec_check_shared) {
  static const struct {
    const char *list;
    int ok;
  } cases[] = {
      {"{\"name\":\"list\",\"path\":\"/l\",\"paginator\":{\"type\":\"offset\",\"limit\":18,"
       "\"total\":\"/count\"},\"records\":\"/results\",\"emit\":false}", 1},
      {"{\"name\":\"list\",\"path\":\"/l\",\"paginator\":{\"type\":\"page\",\"size\":18,"
       "\"total_pages\":\"/pages\"},\"records\":\"/results\",\"emit\":false}", 1},
      {"{\"name\":\"list\",\"path\":\"/l\",\"paginator\":{\"type\":\"page\",\"size\":18,"
       "\"max_pages\":40},\"records\":\"/results\",\"emit\":false}", 1},
      {"{\"name\":\"list\",\"path\":\"/l\",\"paginator\":{\"type\":\"cursor\","
       "\"param\":\"c\",\"from\":\"/next\"},\"records\":\"/results\",\"emit\":false}", 1},
      {"{\"name\":\"list\",\"path\":\"/l\",\"paginator\":{\"type\":\"page\",\"size\":18},"
       "\"records\":\"/results\",\"emit\":false}", 0},
      {"{\"name\":\"list\",\"path\":\"/l\",\"paginator\":{\"type\":\"offset\",\"limit\":18},"
       "\"records\":\"/results\",\"emit\":false}", 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char text[2048], msg[1024];
    ac_spec_t *s = NULL;
    ac_spec_error_t err;
    snprintf(text, sizeof(text), "{\"name\":\"t\",\"base_url\":\"http://h.test\",\"resources\":"
                                 "[%s," BOOKS_DETAIL "]}", cases[i].list);
    if (load(text, &s, msg, sizeof(msg)) != 0) AC__FAIL("case %zu does not load: %s", i, msg);
    memset(&err, 0, sizeof(err));
    if (cases[i].ok) {
      ASSERT_OK(ac_spec_check_shared(s, &err));
    } else {
      ASSERT_EQ(ac_spec_check_shared(s, &err), AC_EINVAL);
      ASSERT_STR_EQ(err.pointer, "resources/0/paginator");
      ASSERT(strstr(err.message, "resources/0/paginator: a listing without a total") ==
             err.message);
      ASSERT(strstr(err.message, "max_pages") != NULL);
    }
    ac_spec_free(s);
  }
  ASSERT_EQ(ac_spec_check_shared(NULL, NULL), AC_EINVAL);
}
