/*
 * A loaded spec (include/acrawl/spec.h): what spec.c makes of the JSON and
 * spec_spider.c runs. Everything here is checked at load: the spider never
 * meets an unknown paginator, a placeholder without a field or a parent
 * that does not exist.
 */
#ifndef ACRAWL_SPEC_INTERNAL_H
#define ACRAWL_SPEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "acrawl/spec.h"

typedef enum {
  AC__PG_NONE = 0,
  AC__PG_OFFSET,
  AC__PG_PAGE,
  AC__PG_CURSOR,
  AC__PG_NEXT_URL,
  AC__PG_LINK
} ac__pg_type_t;

/* The most fields a resource takes from its parent's records. */
#define AC__SPEC_MAX_FIELDS 64

/* A name and a template: text in which `{field}` stands for the value of
 * the parent field `field` (already checked to exist). */
typedef struct ac__spec_kv {
  char *name;
  char *tmpl;
} ac__spec_kv_t;

typedef struct ac__spec_pager {
  ac__pg_type_t type;
  int in_json;          /* page values as top-level keys of the JSON body */
  char *param;          /* offset, page or cursor parameter */
  char *limit_param;    /* offset: the page size's parameter */
  char *size_param;     /* page: the page size's parameter (NULL: none) */
  int64_t limit;        /* offset: items per page */
  int64_t size;         /* page: items per page (0: not given) */
  int64_t start;        /* offset: first offset (0); page: first page (1) */
  char *total;          /* pointer to the item count, or NULL */
  char *total_pages;    /* page: pointer to the page count, or NULL */
  char *from;           /* cursor, next_url: pointer to the next value */
  int64_t max_pages;    /* 0: no limit */
} ac__spec_pager_t;

typedef struct ac__spec_res {
  char *name;
  int parent;           /* index, -1 for a root */
  int depth;            /* 0 for a root: its requests' priority is its depth */
  char *path;           /* template */
  char *method;         /* "GET" unless given */
  ac__spec_kv_t *params;
  size_t nparams;
  ac__spec_kv_t *headers;
  size_t nheaders;
  cJSON *json;          /* the body template, or NULL */
  ac__spec_kv_t *form;
  size_t nform;
  ac__spec_kv_t *fields; /* name -> pointer into one parent record */
  size_t nfields;
  char *records;        /* pointer to the records' array; NULL: the body */
  int emit;
  char *key;            /* pointer into a record; required when emit */
  const char *collection; /* emitting: where its items go (one of the spec's
                           * collections, owned there); NULL otherwise */
  ac__spec_kv_t *expect; /* pointer -> template: a record must hold these */
  size_t nexpect;
  ac__spec_pager_t pager;
  int *children;
  size_t nchildren;
} ac__spec_res_t;

struct ac_spec {
  char *name;
  char *base_url;
  char *collection;     /* the first of collections (ac_spec_collection) */
  char *key_field;      /* see ac_spec_key_field, or NULL */
  /* The distinct collections of the emitting resources, in the order they
   * first appear, and each one's key field (ac_spec_collection_key_field;
   * NULL entries: none). */
  char **collections;
  char **key_fields;
  size_t ncollections;
  ac__spec_kv_t *headers;
  size_t nheaders;
  ac__spec_res_t *res;
  size_t nres;
  /* Crawl defaults; a negative value (or 0 for the doubles) is unset. */
  int64_t concurrency, per_host, retries;
  double rate, timeout_s;
  char digest[17]; /* ac_spec_digest */
};

/* The placeholders of a template, one by one: returns the next `{name}`
 * at or after *pos (its name in name[0..*nlen), its span [*at, *pos) once
 * past it), or 0 when there is none. A '{' not followed by a name and '}'
 * is text. */
int ac__spec_next_placeholder(const char *tmpl, size_t *pos, size_t *at, const char **name,
                              size_t *nlen);

/* The index of field name[0..nlen) of resource r, or -1. */
int ac__spec_field_index(const ac__spec_res_t *r, const char *name, size_t nlen);

/* The paginator's values of one request: (name, number) or (name, text)
 * pairs, put in the query or, with `in: json`, in the JSON body. */
typedef struct ac__spec_pageval {
  struct {
    const char *name;
    int64_t num;
    const char *text; /* NULL: num */
  } v[2];
  size_t n;
} ac__spec_pageval_t;

/* A request ready to follow; everything owned (free with
 * ac__spec_built_free), but header names, which are the spec's. */
typedef struct ac__spec_built {
  char *url;
  char *body;               /* NULL: none */
  const char *content_type; /* static */
  ac_http_kv_t *headers;
  size_t nheaders;
} ac__spec_built_t;

/* A base URL as libcurl renders it, and the two prefixes a reference
 * joins to when resolving it changes nothing else (spec_request.c). */
typedef struct ac__spec_base {
  char *url;    /* "http://h:8080/api/v2/x?q" */
  char *origin; /* "http://h:8080": for a path starting with '/' */
  char *dir;    /* "http://h:8080/api/v2/": for a relative path */
} ac__spec_base_t;

/* 0, AC_EINVAL (not a URL with a host), AC_ENOMEM. */
int ac__spec_base_init(ac__spec_base_t *b, const char *url);
void ac__spec_base_free(ac__spec_base_t *b);

/*
 * Build the request of resource r with field values vals (JSON text, one
 * per field of r) and page values pv (may be NULL): the URL from base and
 * the templates, or `url` as it is when not NULL (a next page's URL from
 * the site). Returns 0; AC_EINVAL with why set (a value that cannot go
 * where its placeholder is, a URL that does not parse); AC_ENOMEM.
 */
int ac__spec_build(const ac__spec_base_t *base, const ac__spec_res_t *r, const char *const *vals,
                   const ac__spec_pageval_t *pv, const char *url, ac__spec_built_t *out,
                   char *why, size_t whycap);
void ac__spec_built_free(ac__spec_built_t *b);

/* tmpl with its placeholders replaced by the fields' values as text (a
 * string's content), nothing escaped: for comparing with a record. 0 and
 * *out (ac__free it), AC_EINVAL (a value that is not text), AC_ENOMEM. */
int ac__spec_expand_text(const ac__spec_res_t *r, const char *tmpl, const char *const *vals,
                         char **out);

/* 1 if url is an absolute http(s) URL with a host, as libcurl reads it. */
int ac__spec_url_ok(const char *url);

#endif /* ACRAWL_SPEC_INTERNAL_H */
