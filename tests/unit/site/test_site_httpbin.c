/*
 * acrawl site's httpbin-style endpoints against curl: the echo of args,
 * form and JSON, every method, /status, /delay, /redirect, /gzip, /bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner.h"
#include "site_proc.h"

/* Parse a command's output (freed here) as JSON, asserting it is JSON. */
static cJSON *parse_out(char *out) {
  cJSON *j = cJSON_Parse(out);
  if (j == NULL) AC__FAIL("not JSON: %s", out);
  free(out);
  return j;
}

/* curl's output for a command whose format takes the base URL. */
#define curl_json(p, fmt) parse_out(site_shf(fmt, (p)->url))

static const char *str_at(const cJSON *j, const char *a, const char *b) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, a);
  if (b != NULL) v = cJSON_GetObjectItemCaseSensitive(v, b);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

TEST_IMPL(site_httpbin_echo) {
  struct site_proc p;
  cJSON *j;
  const cJSON *a;
  site_start(&p, NULL);

  j = curl_json(&p, "curl -s '%s/get?x=1&y=caf%%C3%%A9+au+lait&x=2' -H 'X-Test: yes'");
  ASSERT_STR_EQ(str_at(j, "args", "y"), "caf\xc3\xa9 au lait");
  a = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "args"), "x");
  ASSERT(cJSON_IsArray(a));
  ASSERT_EQ(cJSON_GetArraySize(a), 2);
  ASSERT_STR_EQ(str_at(j, "headers", "X-Test"), "yes");
  ASSERT_STR_EQ(str_at(j, "origin", NULL), "127.0.0.1");
  ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(j, "json"));
  cJSON_Delete(j);

  j = curl_json(&p, "curl -s -d 'name=acrawl&lang=C' '%s/post'");
  ASSERT_STR_EQ(str_at(j, "form", "name"), "acrawl");
  ASSERT_STR_EQ(str_at(j, "form", "lang"), "C");
  ASSERT(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "json")));
  cJSON_Delete(j);

  j = curl_json(&p, "curl -s -X PUT -H 'Content-Type: application/json' "
                    "-d '{\"k\":[1,2.5,\"\\u4e2d\"],\"n\":null}' '%s/put'");
  a = cJSON_GetObjectItemCaseSensitive(j, "json");
  ASSERT(cJSON_IsObject(a));
  ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "k")), 3);
  ASSERT_STR_EQ(str_at(j, "data", NULL), "{\"k\":[1,2.5,\"\\u4e2d\"],\"n\":null}");
  cJSON_Delete(j);

  /* Not JSON: json is null, data holds the text. */
  j = curl_json(&p, "curl -s -X PATCH -H 'Content-Type: application/json' -d '{\"k\":' '%s/patch'");
  ASSERT(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "json")));
  ASSERT_STR_EQ(str_at(j, "data", NULL), "{\"k\":");
  cJSON_Delete(j);

  /* multipart/form-data: fields in form, parts with a filename in files. */
  j = curl_json(&p, "printf 'line 1\\nline 2\\n' > /tmp/ac_site_mp.$$ && "
                    "curl -s -F 'who=acrawl' -F 'lang=C; type=text/plain' "
                    "-F 'up=@/tmp/ac_site_mp.'$$';filename=notes.txt' '%s/post'; "
                    "rm -f /tmp/ac_site_mp.$$");
  ASSERT_STR_EQ(str_at(j, "form", "who"), "acrawl");
  ASSERT_STR_EQ(str_at(j, "form", "lang"), "C");
  ASSERT_STR_EQ(str_at(j, "files", "up"), "line 1\nline 2\n");
  ASSERT_STR_EQ(str_at(j, "data", NULL), "");
  cJSON_Delete(j);

  j = curl_json(&p, "curl -s -X DELETE '%s/delete?z=9'");
  ASSERT_STR_EQ(str_at(j, "args", "z"), "9");
  cJSON_Delete(j);

  j = curl_json(&p, "curl -s -X OPTIONS '%s/anything/a/b?q=1'");
  ASSERT_STR_EQ(str_at(j, "method", NULL), "OPTIONS");
  ASSERT(strstr(str_at(j, "url", NULL), "/anything/a/b?q=1") != NULL);
  cJSON_Delete(j);

  j = curl_json(&p, "curl -s -H 'X-One: 1' '%s/headers'");
  ASSERT_STR_EQ(str_at(j, "headers", "X-One"), "1");
  cJSON_Delete(j);

  /* The wrong method on a method route: 405. */
  ASSERT_EQ(site_code(&p, "/post"), 405);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* Header names come back title-cased as httpbin's (werkzeug's) do. */
TEST_IMPL(site_httpbin_header_names_title_cased) {
  struct site_proc p;
  cJSON *j;
  site_start(&p, NULL);
  j = curl_json(&p, "curl -s -H 'x-api-KEY: k1' -H 'dnt: 1' -H 'X-B3-traceid: t' '%s/headers'");
  ASSERT_STR_EQ(str_at(j, "headers", "X-Api-Key"), "k1");
  ASSERT_STR_EQ(str_at(j, "headers", "Dnt"), "1");
  ASSERT_STR_EQ(str_at(j, "headers", "X-B3-Traceid"), "t");
  ASSERT_NOT_NULL(str_at(j, "headers", "User-Agent"));
  ASSERT_NULL(str_at(j, "headers", "x-api-KEY"));
  cJSON_Delete(j);
  j = curl_json(&p, "curl -s -H 'x-api-key: k2' '%s/get'");
  ASSERT_STR_EQ(str_at(j, "headers", "X-Api-Key"), "k2");
  cJSON_Delete(j);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* A file that is not UTF-8 is echoed as httpbin's json_safe does: a base64
 * data URI with the part's type (application/octet-stream when it has none);
 * a UTF-8 file stays text. */
TEST_IMPL(site_httpbin_binary_files_as_data_uri) {
  struct site_proc p;
  cJSON *j;
  site_start(&p, NULL);
  j = curl_json(&p, "printf '\\377\\330\\000\\001x' > /tmp/ac_site_bin.$$ && "
                    "printf 'caf\\303\\251' > /tmp/ac_site_txt.$$ && "
                    "curl -s -F 'img=@/tmp/ac_site_bin.'$$';type=image/png' "
                    "-F 'raw=@/tmp/ac_site_bin.'$$ -F 'txt=@/tmp/ac_site_txt.'$$ '%s/post'; "
                    "rm -f /tmp/ac_site_bin.$$ /tmp/ac_site_txt.$$");
  ASSERT_STR_EQ(str_at(j, "files", "img"), "data:image/png;base64,/9gAAXg=");
  ASSERT_STR_EQ(str_at(j, "files", "raw"), "data:application/octet-stream;base64,/9gAAXg=");
  ASSERT_STR_EQ(str_at(j, "files", "txt"), "caf\xc3\xa9");
  cJSON_Delete(j);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

TEST_IMPL(site_httpbin_misc) {
  struct site_proc p;
  char *out;
  cJSON *j;
  site_start(&p, NULL);

  ASSERT_EQ(site_code(&p, "/status/418"), 418);
  ASSERT_EQ(site_code(&p, "/status/204"), 204);
  ASSERT_EQ(site_code(&p, "/status/503"), 503);
  ASSERT_EQ(site_code(&p, "/status/42"), 400);
  ASSERT_EQ(site_code(&p, "/delay/x"), 400);

  /* A delay answers with the echo (how long it took is not asserted: the
   * machine may be slow, but it must have waited at least the delay). */
  {
    uint64_t t0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    j = curl_json(&p, "curl -s -m 30 '%s/delay/0.5'");
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ASSERT_GE((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 - t0, 450);
    ASSERT_NOT_NULL(cJSON_GetObjectItemCaseSensitive(j, "headers"));
    cJSON_Delete(j);
    j = curl_json(&p, "curl -s -m 30 '%s/delay/1'");
    cJSON_Delete(j);
  }

  /* Three redirects, then /get. */
  out = site_shf("curl -sL -o /dev/null -w '%%{http_code} %%{num_redirects} %%{url_effective}' "
                 "'%s/redirect/3'", p.url);
  {
    char want[128];
    snprintf(want, sizeof(want), "200 3 %s/get", p.url);
    ASSERT_STR_EQ(out, want);
  }
  free(out);
  ASSERT_EQ(site_code(&p, "/redirect/1"), 302);
  ASSERT_EQ(site_code(&p, "/redirect/0"), 400);

  /* /gzip is gzip'd whatever was asked; --compressed decodes it. */
  j = curl_json(&p, "curl -s --compressed '%s/gzip'");
  ASSERT(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "gzipped")));
  cJSON_Delete(j);
  out = site_shf("curl -s '%s/gzip' | gzip -dc | head -c 15", p.url);
  ASSERT_STR_EQ(out, "{\"gzipped\":true");
  free(out);

  /* /bytes: n bytes, the same ones every time; capped at 100 KiB. */
  out = site_shf("curl -s '%s/bytes/1000' | wc -c", p.url);
  ASSERT_EQ(atoi(out), 1000);
  free(out);
  out = site_shf("a=$(curl -s '%s/bytes/777' | md5sum) && b=$(curl -s '%s/bytes/777' | md5sum) "
                 "&& test \"$a\" = \"$b\" && echo same", p.url, p.url);
  ASSERT_STR_EQ(out, "same\n");
  free(out);
  out = site_shf("curl -s '%s/bytes/10000000' | wc -c", p.url);
  ASSERT_EQ(atoi(out), 100 * 1024);
  free(out);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}
