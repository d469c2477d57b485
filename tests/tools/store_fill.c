/*
 * Writes a JSON Lines file into a store through the public API, one put per
 * line, keyed by the key field's value (a string's content or a number's
 * text): what store_compare.py then checks with an independent reader.
 *
 *   store_fill DUMP.jsonl STORE_URI [KEY_FIELD]     (KEY_FIELD: id)
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl.h"

struct fill {
  const char *dump;
  const char *uri;
  const char *key_field;
  long acked_ok;
  long acked_err;
};

static void on_ack(ac_store_t *s, int status, void *userdata) {
  struct fill *f = userdata;
  (void)s;
  if (status == 0)
    f->acked_ok++;
  else
    f->acked_err++;
}

static int fill_main(void *arg, void **result) {
  struct fill *f = arg;
  ac_store_opts_t o;
  ac_store_t *s;
  ac_store_error_t err;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  long lineno = 0;
  int rc;
  FILE *in = fopen(f->dump, "rb");

  if (in == NULL) {
    perror(f->dump);
    return AC_EIO;
  }
  ac_store_opts_init(&o);
  o.key_field = f->key_field;
  rc = ac_store_open(ac_task_loop(ac_task_current()), f->uri, &o, &s, &err);
  if (rc != 0) {
    fprintf(stderr, "store_fill: %s\n", err.message);
    fclose(in);
    return rc;
  }
  while (rc == 0 && (n = getline(&line, &cap, in)) > 0) {
    char key[128];
    cJSON *doc, *v;
    lineno++;
    if (line[n - 1] == '\n') line[--n] = '\0';
    if (n == 0) continue;
    doc = cJSON_ParseWithLength(line, (size_t)n);
    v = doc ? cJSON_GetObjectItemCaseSensitive(doc, f->key_field) : NULL;
    if (cJSON_IsString(v))
      snprintf(key, sizeof(key), "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
      snprintf(key, sizeof(key), "%.17g", v->valuedouble);
    else {
      fprintf(stderr, "store_fill: %s line %ld: no \"%s\" string or number\n", f->dump, lineno,
              f->key_field);
      rc = AC_EINVAL;
    }
    cJSON_Delete(doc);
    if (rc == 0) rc = ac_store_put(s, key, line, (size_t)n, on_ack, f);
  }
  free(line);
  fclose(in);
  if (rc != 0) {
    ac_store_abort(s);
    return rc;
  }
  return ac_store_close(s);
}

int main(int argc, char **argv) {
  struct fill f = {0};
  int rc;
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: %s DUMP.jsonl STORE_URI [KEY_FIELD]\n", argv[0]);
    return 2;
  }
  f.dump = argv[1];
  f.uri = argv[2];
  f.key_field = argc > 3 ? argv[3] : "id";
  rc = ac_run(fill_main, &f, NULL);
  if (rc != 0 || f.acked_err != 0) {
    fprintf(stderr, "store_fill: %s (%ld stored, %ld refused)\n", ac_strerror(rc), f.acked_ok,
            f.acked_err);
    return 1;
  }
  fprintf(stderr, "store_fill: %ld documents into %s\n", f.acked_ok, f.uri);
  return 0;
}
