/*
 * acrawl specs: a JSON API crawl described as data, run by the crawl engine.
 *
 * A spec names a site (base_url, headers) and its resources: list pages
 * that paginate one of several ways, and requests made once per record of
 * a parent's responses, each record stored by its key. docs/specs.md is the
 * user's reference for every key; specs/schema.json is its JSON Schema.
 *
 *   ac_spec_load*    parse and check a spec: every error names the pointer
 *                    of the offending key ("resources/1/paginator/type:
 *                    unknown paginator ...") before any request is made
 *   ac_spec_spider   a spider (crawl.h) that runs it
 *
 * A loaded spec is immutable: one may back several spiders in turn.
 */
#ifndef ACRAWL_SPEC_H
#define ACRAWL_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "acrawl/crawl.h"
#include "acrawl/errno.h"
#include "acrawl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ac_spec ac_spec_t;

/** What is wrong with a spec: `pointer` is where (a JSON Pointer into the
 * spec without its leading '/', "" for the whole document) and `message`
 * the whole line, starting with that pointer. */
typedef struct ac_spec_error {
  char pointer[256];
  char message[768];
} ac_spec_error_t;

/**
 * Parse and check a spec from text (len bytes, UTF-8 JSON). `${NAME}` in a
 * string is replaced by the environment variable NAME here, once (a token
 * stays out of the spec file); a variable that is not set is an error.
 * Messages do not name the file: a caller that has one puts it first.
 * Returns 0 and *out (free with ac_spec_free); AC_EINVAL with err filled
 * (not JSON, an unknown key, a value of the wrong type or out of range, a
 * placeholder no parent field fills, a parent that does not exist or makes
 * a cycle, a missing environment variable); AC_ENOMEM.
 */
AC_EXTERN int ac_spec_load(const char *text, size_t len, ac_spec_t **out,
                           ac_spec_error_t *err);

/** ac_spec_load on a file's contents. AC_EIO (err says why) when it cannot
 * be read; otherwise as ac_spec_load. */
AC_EXTERN int ac_spec_load_file(const char *path, ac_spec_t **out, ac_spec_error_t *err);

AC_EXTERN void ac_spec_free(ac_spec_t *spec);

/** The spec's name (static while the spec lives). */
AC_EXTERN const char *ac_spec_name(const ac_spec_t *spec);

/** The spec's base_url, after `${NAME}` expansion (static while the spec
 * lives). */
AC_EXTERN const char *ac_spec_base_url(const ac_spec_t *spec);

/** 16 hex digits that name what the spec says: the same for the same JSON
 * document whatever its whitespace, different when any key or value
 * differs (static while the spec lives). Workers of one shared crawl must
 * have specs of one digest (acrawl puts it in ac_crawl_opts_t's
 * crawl_fingerprint). */
AC_EXTERN const char *ac_spec_digest(const ac_spec_t *spec);

/** The store collection of the spec's first emitting resource: its
 * `collection`, else the spec's name (static while the spec lives). The
 * first of ac_spec_collections. */
AC_EXTERN const char *ac_spec_collection(const ac_spec_t *spec);

/** The distinct store collections the spec's items go to (each emitting
 * resource's `collection`, else the spec's name), in the order of the
 * resources that first name them: at least one. *names (when names is not
 * NULL) is set to an array of that many names, owned by the spec and
 * static while it lives. Returns the count; 0 for a NULL spec. */
AC_EXTERN size_t ac_spec_collections(const ac_spec_t *spec, const char *const **names);

/** The top-level member of an item that holds its key, when every emitting
 * resource's key is one step ("/id" gives "id") and the same, for stores
 * that index a field (MongoDB); NULL otherwise. */
AC_EXTERN const char *ac_spec_key_field(const ac_spec_t *spec);

/** As ac_spec_key_field, over the emitting resources of one collection
 * only: the key member they all use, or NULL (keys that are not one step
 * or differ, or a collection the spec does not have). Static while the
 * spec lives. */
AC_EXTERN const char *ac_spec_collection_key_field(const ac_spec_t *spec,
                                                   const char *collection);

/**
 * The crawl defaults the spec sets (concurrency, per_host, rate, retries,
 * timeout) written into opts; the others are left as they are. A program
 * applies these first and its command line after, so the command line
 * wins.
 */
AC_EXTERN void ac_spec_crawl_defaults(const ac_spec_t *spec, ac_crawl_opts_t *opts);

typedef struct ac_spec_spider_opts {
  /** Replaces the spec's base_url (a local replica or a staging site);
   * NULL: the spec's. Must be an absolute http(s) URL. Copied. */
  const char *base_url;
} ac_spec_spider_opts_t;

/**
 * Make a spider that runs `spec` (borrowed: it must outlive the spider).
 * It emits each item with ac_crawl_emit_in under its resource's
 * collection: a crawl with ac_crawl_opts_t.store_collections must have
 * stores for every name of ac_spec_collections (an item no store holds
 * fails its request); without store_collections every store takes every
 * item. Returns 0, AC_EINVAL (a base_url that is not http(s)://host...),
 * AC_ENOMEM. Free it with ac_spec_spider_free after the crawl.
 */
AC_EXTERN int ac_spec_spider_new(const ac_spec_t *spec, const ac_spec_spider_opts_t *opts,
                                 ac_spider_t *out);
AC_EXTERN void ac_spec_spider_free(ac_spider_t *spider);

/**
 * Whether many workers sharing a frontier (ac_crawl_opts_t.frontier) can
 * crawl the spec: 0, or AC_EINVAL with err filled. A root listing whose
 * offset or page paginator has neither total nor total_pages ends at its
 * first empty page, which only the worker that reads it would see: it
 * needs max_pages. (The spider refuses to start such a listing on a
 * shared crawl too; this says so before anything runs.)
 */
AC_EXTERN int ac_spec_check_shared(const ac_spec_t *spec, ac_spec_error_t *err);

#ifdef __cplusplus
}
#endif
#endif /* ACRAWL_SPEC_H */
