/*
 * The frontier of a crawl shared by many workers, in Redis: every process
 * started with the same Redis and crawl name is a worker of one crawl. The
 * atomic steps are one Lua script (frontier_redis.lua); this file is the
 * worker's side of them:
 *
 *   join     the first worker seeds the crawl (runs the spider's start),
 *            the others join; a seeder that dies is replaced;
 *   feeder   takes leased requests into the local ready heap, a few more
 *            than the consumers can start, so priorities hold across
 *            workers; when there is nothing to take and nothing queued,
 *            delayed or leased anywhere, the crawl is complete;
 *   settler  sends outcomes in batches: done (with the request's follows,
 *            in the same step, so no request is done before its children
 *            are in the frontier; a callback's follows past a batch go
 *            ahead), retry (the delayed set, so a retry survives its
 *            worker), failed, back (a stop gives it back);
 *   renewer  renews the leases of every request this worker holds, so a
 *            lease expires only when its worker died or stalled.
 *
 * A lease carries a fencing token: an outcome sent with a token that is no
 * longer the lease's (it expired and another worker took the request) is
 * refused and counted as an extra fetch; the items it stored were upserts.
 * Redis trouble (a restart, a pause, a lost connection) makes each task wait
 * with backoff and try again; a crawl whose keys are gone stops the worker
 * with an error, never "complete".
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/alloc.h"
#include "common/dynbuf.h"
#include "crawl/internal.h"
#include "redis/redis.h"

#include "crawl/frontier_redis_lua.h" /* made from frontier_redis.lua */

/* Follows of a producer sent together. */
#define ADD_BATCH 256
/* Follows of one callback kept for its done; more are sent ahead. */
#define CHILD_BATCH 1024
/* Outcomes sent in one step. */
#define SETTLE_BATCH 128
/* Failures put back in the queue per step of --retry-failed: each step
 * blocks Redis for the others while it runs. */
#define RETRY_FAILED_BATCH 1000
/* Waiting for work: from the first to the last poll interval. */
#define IDLE_MIN_MS 10
#define IDLE_MAX_MS 200
/* Redis trouble: from the first to the last wait before trying again. */
#define TROUBLE_MIN_MS 50
#define TROUBLE_MAX_MS 2000

/* ------------------------------------------------------------- args */

/* A command's arguments, each owned. */
typedef struct args {
  char **v;
  size_t *len;
  size_t n, cap;
  int err;
} args_t;

static int args_grow(args_t *a, size_t n);

static void args_add(args_t *a, const char *s, size_t len) {
  char *copy;
  if (args_grow(a, 1) != 0) return;
  copy = ac__malloc(len + 1);
  if (copy == NULL) {
    a->err = AC_ENOMEM;
    return;
  }
  memcpy(copy, s, len);
  copy[len] = '\0';
  a->v[a->n] = copy;
  a->len[a->n++] = len;
}

static void args_addz(args_t *a, const char *s) { args_add(a, s, strlen(s)); }

static void args_addi(args_t *a, long long v) {
  char t[32];
  int n = snprintf(t, sizeof(t), "%lld", v);
  args_add(a, t, (size_t)n);
}

static void args_free(args_t *a) {
  for (size_t i = 0; i < a->n; i++) ac__free(a->v[i]);
  ac__free(a->v);
  ac__free(a->len);
  memset(a, 0, sizeof(*a));
}

/* Makes room for n more arguments. 0 or AC_ENOMEM (sticky in a->err). */
static int args_grow(args_t *a, size_t n) {
  size_t cap = a->cap ? a->cap : 16;
  if (a->err) return a->err;
  while (cap < a->n + n) cap *= 2;
  if (cap != a->cap) {
    char **v = ac__realloc(a->v, cap * sizeof(*v));
    size_t *l;
    if (v == NULL) return a->err = AC_ENOMEM;
    a->v = v;
    if ((l = ac__realloc(a->len, cap * sizeof(*l))) == NULL) return a->err = AC_ENOMEM;
    a->len = l;
    a->cap = cap;
  }
  return 0;
}

/* Moves every argument of from to the end of a (the strings change hands,
 * not copied); from is left empty. */
static void args_move(args_t *a, args_t *from) {
  if (from->err) a->err = from->err;
  if (from->n > 0 && args_grow(a, from->n) == 0) {
    memcpy(a->v + a->n, from->v, from->n * sizeof(*from->v));
    memcpy(a->len + a->n, from->len, from->n * sizeof(*from->len));
    a->n += from->n;
    from->n = 0; /* the strings are a's now */
  }
  args_free(from);
}


void ac__shared_children_free(void *children) {
  if (children == NULL) return;
  args_free(children);
  ac__free(children);
}

/* ------------------------------------------------------------ state */

/* An outcome waiting to be sent. */
typedef struct op {
  struct ac__list link;
  args_t args;
  char *id, *token; /* its lease, renewed until the outcome is in */
} op_t;

typedef struct shared {
  ac__redis_t *redis;
  char *prefix;     /* "acrawl:{NAME}:" */
  char worker[128]; /* host:pid:random, unique per run */
  char fp[17];      /* what is crawled: workers of another spec are refused */
  int seeding;      /* this worker runs the start */
  int complete;     /* Redis said: nothing queued, delayed or leased */
  int gone;         /* the crawl's keys vanished */
  int trouble;      /* Redis answers not: waiting */
  size_t prefetch;  /* requests the feeder keeps ready */
  size_t suspects_waiting; /* requests whose lease expired, for a worker alone */
  size_t suspects_held;    /* one of them, held alone by this worker */
  int recover; /* a take's answer was lost: its leases go back first */
  uint64_t settle_batch; /* the number of the last batch of outcomes */
  args_t batch;     /* producers' follows not yet sent */
  size_t nbatch;
  struct ac__list held; /* requests leased by this worker, in its hands */
  size_t nheld;
  struct ac__list ops; /* outcomes not yet sent */
  struct ac__list inflight; /* outcomes being sent (their leases are still held) */
  size_t nops;
  size_t sending; /* outcomes being sent */
  ac_task_t *feeder, *settler, *renewer;
  ac_event_t *feed_wake, *settle_wake, *settled;
  uint64_t crawl_failed; /* the crawl's failures, read at the end */
  uint64_t late;         /* outcomes refused: the lease had been taken over */
  uint64_t lost;         /* leases found lost at a renewal */
  uint64_t taken;        /* requests taken */
  uint64_t steps;        /* calls of the script */
} shared_t;

static shared_t *sh_of(const ac_crawl_t *c) { return c->fr_data; }

/* The first line of a reply error, for messages. */
static const char *reply_error(const redisReply *r) {
  return r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL ? r->str : "";
}

/* The crawl's keys are gone (flushed, evicted, deleted): stop now. What
 * this worker holds cannot be acked anywhere. */
static void keys_gone(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  if (sh->gone) return;
  sh->gone = 1;
  c->state_error = 1;
  if (c->state_why == NULL) {
    char why[512];
    snprintf(why, sizeof(why),
             "the crawl's keys (%s*) are gone from Redis: flushed, evicted "
             "or deleted while it ran",
             sh->prefix);
    c->state_why = ac__strdup(why);
  }
  ac_crawl_stop(c, 1);
}

/* One step of the script: EVALSHA with the prefix and args. 0 and *reply
 * (an error reply other than a crawl's is returned as 0 too), AC_ESTORE
 * when the keys are gone (already acted on), or the client's error. */
static int step(ac_crawl_t *c, const args_t *a, redisReply **reply) {
  shared_t *sh = sh_of(c);
  const char **argv;
  size_t *lens;
  int rc;
  *reply = NULL;
  if (a->err) return a->err;
  argv = ac__calloc(a->n + 4, sizeof(*argv));
  lens = ac__calloc(a->n + 4, sizeof(*lens));
  if (argv == NULL || lens == NULL) {
    ac__free(argv);
    ac__free(lens);
    return AC_ENOMEM;
  }
  argv[0] = "EVALSHA";
  argv[1] = ac__redis_script_sha(sh->redis, 0);
  argv[2] = "1";
  argv[3] = sh->prefix;
  for (size_t i = 0; i < 4; i++) lens[i] = strlen(argv[i]);
  for (size_t i = 0; i < a->n; i++) {
    argv[4 + i] = a->v[i];
    lens[4 + i] = a->len[i];
  }
  rc = ac__redis_call(sh->redis, reply, (int)(a->n + 4), argv, lens);
  sh->steps++;
  ac__free(argv);
  ac__free(lens);
  if (rc != 0) {
    if (!sh->trouble && rc != AC_ECANCELED) {
      sh->trouble = 1;
      ac_crawl_note(c, "redis: %s: waiting for it (the crawl goes on when it answers)",
                    ac__redis_last_error(sh->redis)[0] != '\0' ? ac__redis_last_error(sh->redis)
                                                               : ac_strerror(rc));
    }
    return rc;
  }
  if (sh->trouble) {
    sh->trouble = 0;
    ac_crawl_note(c, "redis: answering again");
  }
  if (strncmp(reply_error(*reply), "ACRAWL_GONE", 11) == 0) {
    freeReplyObject(*reply);
    *reply = NULL;
    keys_gone(c);
    return AC_ESTORE;
  }
  return 0;
}

/* A wait before trying Redis again, growing with each failure. */
static int trouble_wait(ac_crawl_t *c, uint64_t *wait) {
  int rc;
  (void)c;
  if (*wait < TROUBLE_MIN_MS) *wait = TROUBLE_MIN_MS;
  rc = ac_sleep(*wait);
  *wait = *wait * 2 > TROUBLE_MAX_MS ? TROUBLE_MAX_MS : *wait * 2;
  return rc;
}

/* A follow's dedup bucket and fingerprint: 64 bits of the key's hash, in
 * one of 65,536 sets (small sets of integers are Redis's compact intsets). */
static void fingerprint(const char *key, char bucket[8], char fp[24]) {
  uint64_t h = ac__crawl_hash(key);
  snprintf(bucket, 8, "s:%04x", (unsigned)(h >> 48));
  snprintf(fp, 24, "%lld", (long long)h);
}

/* The four arguments of a follow (bucket, fingerprint, priority, record). */
static int follow_args(ac_crawl_t *c, ac__crawl_url_t *u, const ac_crawl_request_t *req,
                       ac_follow_how_t how, args_t *out) {
  struct ac__dynbuf b;
  char bucket[8], fp[24];
  ac__creq_t *r;
  int rc;
  fingerprint(u->key, bucket, fp);
  r = ac__creq_new(c, u, req);
  if (r == NULL) {
    ac__crawl_url_free(u);
    return AC_ENOMEM;
  }
  ac__dynbuf_init(&b, SIZE_MAX / 2);
  ac__request_record(&b, r);
  (void)ac__dynbuf_addc(&b, '}');
  if ((rc = ac__dynbuf_err(&b)) == 0) {
    args_addz(out, how == AC_FOLLOW_NEW ? bucket : "");
    args_addz(out, fp);
    args_addi(out, r->pub.priority);
    args_add(out, ac__dynbuf_ptr(&b), ac__dynbuf_len(&b));
    rc = out->err;
  }
  ac__dynbuf_free(&b);
  ac__creq_free(r);
  return rc;
}

/* Sends n follows (emptying the batch), waiting while Redis is away, then,
 * for a producer's (room set), while the shared queue is over its cap:
 * backpressure for the whole crawl. */
static int send_follows(ac_crawl_t *c, args_t *batch, size_t *n, int room) {
  uint64_t wait = 0;
  args_t a = {0};
  redisReply *rep = NULL;
  int rc;
  if (*n == 0) return 0;
  args_addz(&a, "add");
  args_addi(&a, (long long)*n);
  args_move(&a, batch);
  *n = 0;
  for (;;) {
    rc = step(c, &a, &rep);
    if (rc == 0 || rc == AC_ESTORE || rc == AC_ENOMEM || rc == AC_ECANCELED || c->hard) break;
    if ((rc = trouble_wait(c, &wait)) != 0) break;
  }
  args_free(&a);
  if (rc != 0) return rc;
  if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0) {
    long long queued = rep->element[0]->integer;
    for (size_t i = 1; i < rep->elements; i++)
      if (rep->element[i]->integer == 0) c->st.duplicates++;
    freeReplyObject(rep);
    /* The whole crawl's queue is the frontier: a producer waits while it is
     * over the cap, as it would for room in this process. */
    wait = IDLE_MIN_MS;
    while (room && (size_t)queued > c->opts.frontier_cap && !c->stopping) {
      args_t s = {0};
      redisReply *st = NULL;
      if ((rc = ac_sleep(wait)) != 0) return rc;
      wait = wait * 2 > IDLE_MAX_MS ? IDLE_MAX_MS : wait * 2;
      args_addz(&s, "add");
      args_addi(&s, 0);
      rc = step(c, &s, &st);
      args_free(&s);
      if (rc == AC_ESTORE) return rc;
      if (rc == 0 && st->type == REDIS_REPLY_ARRAY && st->elements > 0)
        queued = st->element[0]->integer;
      if (st != NULL) freeReplyObject(st);
    }
    return 0;
  }
  fprintf(c->out, "redis: the crawl's script refused follows: %s\n", reply_error(rep));
  freeReplyObject(rep);
  return AC_EPROTO;
}

static int flush_batch(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  return send_follows(c, &sh->batch, &sh->nbatch, 1);
}

/* --------------------------------------------------------- the ops */

static int sh_add(ac_crawl_t *c, ac__crawl_url_t *u, const ac_crawl_request_t *req,
                  ac_follow_how_t how) {
  shared_t *sh = sh_of(c);
  ac__consumer_t *me = ac__crawl_consumer(c);
  int rc;
  if (me != NULL && me->req != NULL) {
    /* A callback's follow goes with its request's done, in one step. */
    ac__creq_t *r = me->req;
    if (r->children == NULL && (r->children = ac__calloc(1, sizeof(args_t))) == NULL) {
      ac__crawl_url_free(u);
      return AC_ENOMEM;
    }
    if ((rc = follow_args(c, u, req, how, r->children)) != 0) return rc;
    /* Past a batch, they go ahead of the done: memory stays bounded, and
     * if the request is fetched again its follows are only seen again. */
    if (++r->nchildren >= CHILD_BATCH)
      return (rc = send_follows(c, r->children, &r->nchildren, 0)) != 0 ? rc : 1;
    return 1;
  }
  if (c->stopping) {
    /* A producer's: the request that started it is not done (or the start
     * did not return), so this will be followed again. */
    ac__crawl_url_free(u);
    return AC_ECANCELED;
  }
  if ((rc = follow_args(c, u, req, how, &sh->batch)) != 0) return rc;
  if (++sh->nbatch >= ADD_BATCH && (rc = flush_batch(c)) != 0) return rc;
  return 1;
}

static op_t *op_new(ac__creq_t *r, const char *what) {
  op_t *op = ac__calloc(1, sizeof(*op));
  if (op == NULL) return NULL;
  op->id = ac__strdup(r->lease_id);
  op->token = ac__strdup(r->lease_token);
  if (op->id == NULL || op->token == NULL) {
    ac__free(op->id);
    ac__free(op->token);
    ac__free(op);
    return NULL;
  }
  args_addz(&op->args, what);
  args_addz(&op->args, op->id);
  args_addz(&op->args, op->token);
  return op;
}

/* An op without a lease of its own: a host's slot given back, a host's
 * pause, a record that failed. */
static void queue_op(ac_crawl_t *c, const char *what, const char *a1, const char *a2) {
  shared_t *sh = sh_of(c);
  op_t *op = ac__calloc(1, sizeof(*op));
  if (op == NULL) return; /* a slot's lease expires; the rest is only this worker's */
  args_addz(&op->args, what);
  args_addz(&op->args, a1);
  args_addz(&op->args, a2);
  ac__list_insert_tail(&sh->ops, &op->link);
  sh->nops++;
  ac_event_set(sh->settle_wake);
}

static void op_free(op_t *op) {
  args_free(&op->args);
  ac__free(op->id);
  ac__free(op->token);
  ac__free(op);
}

/* r leaves this worker's hands: its outcome goes to the settler. */
static void unhold(ac_crawl_t *c, ac__creq_t *r, op_t *op) {
  shared_t *sh = sh_of(c);
  if (!ac__list_empty(&r->held)) {
    ac__list_remove(&r->held);
    ac__list_init(&r->held);
    sh->nheld--;
    if (r->suspect) sh->suspects_held--;
    /* Drained, or a suspect's done: the feeder may take again. */
    if (sh->nheld == 0 || r->suspect) ac_event_set(sh->feed_wake);
  }
  if (op == NULL) return;
  ac__list_insert_tail(&sh->ops, &op->link);
  sh->nops++;
  ac_event_set(sh->settle_wake);
}

static int sh_retry(ac_crawl_t *c, ac__creq_t *r, uint64_t delay_ms) {
  op_t *op = op_new(r, "r");
  if (op == NULL) return 0;
  args_addi(&op->args, (long long)delay_ms);
  args_addi(&op->args, r->pub.attempt - 1);
  unhold(c, r, op);
  ac__creq_free(r);
  return 1;
}

static char *failure_json(const ac__creq_t *r) {
  cJSON *j = cJSON_CreateObject();
  char *s, *out;
  if (j == NULL) return NULL;
  cJSON_AddStringToObject(j, "u", r->fetch);
  cJSON_AddStringToObject(j, "cause", ac_crawl_cause_name(r->last_cause));
  cJSON_AddNumberToObject(j, "code", r->last_code);
  cJSON_AddNumberToObject(j, "status", r->last_status);
  cJSON_AddNumberToObject(j, "attempts", r->pub.attempt);
  cJSON_AddStringToObject(j, "why", r->why != NULL ? r->why : "");
  s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (s == NULL) return NULL;
  out = ac__strdup(s);
  cJSON_free(s);
  return out;
}

static void sh_settle(ac_crawl_t *c, ac__creq_t *r, char how) {
  op_t *op;
  if (r->lease_id == NULL || ac__list_empty(&r->held)) return; /* settled already */
  if (c->hard) {
    /* Its lease expires and another worker takes it. */
    unhold(c, r, NULL);
    return;
  }
  switch (how) {
  case 'd':
    op = op_new(r, "d");
    if (op == NULL) break;
    args_addi(&op->args, (long long)r->nchildren);
    if (r->children != NULL) args_move(&op->args, r->children);
    break;
  case 'f': {
    char *j = failure_json(r);
    op = op_new(r, "f");
    if (op == NULL || j == NULL) {
      if (op != NULL) op_free(op);
      op = NULL;
    } else {
      args_addz(&op->args, j);
    }
    ac__free(j);
    break;
  }
  default:
    op = op_new(r, "b");
    break;
  }
  /* No op (ENOMEM): the lease expires and another worker does it again. */
  unhold(c, r, op);
}

static int sh_finished(const ac_crawl_t *c) {
  const shared_t *sh = sh_of(c);
  return sh->complete && c->busy == 0 && c->nready == 0 && c->producers == 0 && sh->nheld == 0 &&
         sh->nops == 0 && sh->sending == 0;
}

/* ----------------------------------------------------------- the feeder */

static int seed_fn(ac_crawl_t *c, void *arg);

/* The outcomes not acknowledged yet (waiting, or being sent) that hold a
 * lease: their count, and, with a, their ids (and, with tokens, their
 * tokens) added to it. */
static size_t answered_ids(const shared_t *sh, args_t *a, int tokens) {
  const struct ac__list *lists[] = {&sh->ops, &sh->inflight};
  size_t n = 0;
  for (size_t i = 0; i < 2; i++)
    for (const struct ac__list *l = lists[i]->next; l != lists[i]; l = l->next) {
      const op_t *op = ac__container_of(l, op_t, link);
      if (op->id == NULL) continue;
      n++;
      if (a == NULL) continue;
      args_addz(a, op->id);
      if (tokens) args_addz(a, op->token);
    }
  return n;
}

static size_t answered(const shared_t *sh, args_t *a) { return answered_ids(sh, a, 0); }

/* take's answer: a header, then 4 elements per request. */
#define TAKE_HEAD 7

/* Gives back the leases this worker holds in Redis without knowing of them
 * (a take whose answer timed out or was lost): 0 or the step's error. */
static int recover(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  args_t a = {0};
  redisReply *rep = NULL;
  int rc;
  /* Known: what it holds, and what it answered for but Redis has not
   * acknowledged yet. */
  args_addz(&a, "recover");
  args_addz(&a, sh->worker);
  args_addi(&a, (long long)(sh->nheld + answered(sh, NULL)));
  for (struct ac__list *l = sh->held.next; l != &sh->held; l = l->next)
    args_addz(&a, ac__container_of(l, ac__creq_t, held)->lease_id);
  (void)answered(sh, &a);
  rc = step(c, &a, &rep);
  args_free(&a);
  if (rc != 0) return rc;
  if (rep->type == REDIS_REPLY_INTEGER && rep->integer > 0)
    ac_crawl_note(c, "redis: %lld requests leased by a take whose answer was lost go back to "
                     "the queue", rep->integer);
  freeReplyObject(rep);
  sh->recover = 0;
  return 0;
}

/* A leased request from Redis into the ready heap. */
static int take_one(ac_crawl_t *c, const redisReply *id, const redisReply *token,
                    const redisReply *attempts, const redisReply *record, int suspect) {
  shared_t *sh = sh_of(c);
  cJSON *d = cJSON_ParseWithLength(record->str, record->len);
  ac_crawl_request_t req;
  ac_http_kv_t *kv = NULL;
  ac__crawl_url_t u;
  ac__creq_t *r = NULL;
  int rc = d == NULL ? 0 : ac__request_from_record(d, &req, &kv);
  /* A record of another spider (a callback out of range) is not sent. */
  if (rc > 0 && !ac__crawl_request_valid(c, &req)) rc = 0;
  if (rc > 0 && (rc = ac__crawl_request_url(&req, &u)) == 0) {
    r = ac__creq_new(c, &u, &req);
    if (r == NULL) {
      ac__crawl_url_free(&u);
      rc = AC_ENOMEM;
    }
  }
  if (r != NULL) {
    size_t ni = strlen(id->str), nt = strlen(token->str);
    r->lease_id = ac__malloc(ni + nt + 2);
    if (r->lease_id == NULL) {
      ac__creq_free(r);
      r = NULL;
      rc = AC_ENOMEM;
    } else {
      memcpy(r->lease_id, id->str, ni + 1);
      memcpy(r->lease_id + ni + 1, token->str, nt + 1);
      r->lease_token = r->lease_id + ni + 1;
      r->pub.attempt = 1 + atoi(attempts->str);
    }
  }
  ac__free(kv);
  cJSON_Delete(d);
  if (r == NULL) {
    /* A record this worker cannot read (another version wrote it): it
     * stays leased and comes back; its expiries end it in the failures. */
    if (rc == 0)
      fprintf(c->out, "redis: request %s has a record this worker cannot read\n", id->str);
    return rc < 0 ? rc : 0;
  }
  r->overflow = 1; /* it holds no room of the local frontier */
  r->suspect = suspect;
  sh->suspects_held += (size_t)suspect;
  sh->taken++;
  ac__list_insert_tail(&sh->held, &r->held);
  sh->nheld++;
  ac__crawl_push_ready(c, r);
  return 0;
}

static int feeder_main(void *arg, void **result) {
  ac_crawl_t *c = arg;
  shared_t *sh = sh_of(c);
  uint64_t idle = IDLE_MIN_MS, trouble = 0;
  (void)result;
  while (!c->stopping && !c->finished && !sh->complete) {
    size_t want = sh->prefetch > c->nready ? sh->prefetch - c->nready : 0;
    args_t a = {0};
    redisReply *rep = NULL;
    int rc;
    /* A suspect is held alone until it is settled; while suspects wait,
     * the worker drains what it holds so that it can take one alone. */
    if (c->nready > sh->prefetch / 2 || want == 0 || sh->suspects_held > 0 ||
        (sh->suspects_waiting > 0 && sh->nheld > 0)) {
      ac_event_clear(sh->feed_wake);
      if (ac_event_wait(sh->feed_wake) != 0) break;
      continue;
    }
    if (sh->recover && (rc = recover(c)) != 0) {
      if (rc == AC_ESTORE || rc == AC_ECANCELED || rc == AC_ENOMEM) break;
      if (trouble_wait(c, &trouble) != 0) break;
      continue;
    }
    args_addz(&a, "take");
    args_addz(&a, sh->worker);
    args_addi(&a, (long long)want);
    args_addi(&a, (long long)c->opts.lease_ms);
    args_addi(&a, c->opts.max_reclaims);
    args_addi(&a, sh->nheld == 0);
    rc = step(c, &a, &rep);
    args_free(&a);
    if (rc == AC_ESTORE || rc == AC_ECANCELED || rc == AC_ENOMEM) break;
    if (rc != 0 || rep->type != REDIS_REPLY_ARRAY || rep->elements < TAKE_HEAD) {
      if (rc == 0) {
        fprintf(c->out, "redis: the crawl's script answered take with %s\n", reply_error(rep));
        freeReplyObject(rep);
      } else {
        /* The take may have run without this worker hearing of it: its
         * leases are given back before the next one. */
        sh->recover = 1;
      }
      if (trouble_wait(c, &trouble) != 0) break;
      continue;
    }
    trouble = 0;
    {
      const char *state = rep->element[0]->str != NULL ? rep->element[0]->str : "";
      size_t got = (rep->elements - TAKE_HEAD) / 4;
      long long next_due = rep->element[4]->integer;
      int suspect = rep->element[6]->integer == 1;
      sh->suspects_waiting = (size_t)rep->element[5]->integer;
      for (size_t i = 0; i < got && rc == 0; i++) {
        redisReply **e = rep->element + TAKE_HEAD + 4 * i;
        rc = take_one(c, e[0], e[1], e[2], e[3], suspect);
      }
      if (got == 0 && strcmp(state, "complete") == 0) sh->complete = 1;
      if (strcmp(state, "seed") == 0 && !sh->seeding) {
        /* The seeder died before its start returned: this worker seeds. */
        sh->seeding = 1;
        if (rc == 0) rc = ac_crawl_produce(c, seed_fn, NULL);
      }
      freeReplyObject(rep);
      if (rc != 0) break;
      if (sh->complete) {
        ac__crawl_check_finished(c);
        break;
      }
      if (got > 0) {
        idle = IDLE_MIN_MS;
        continue;
      }
      /* Nothing to take now: others hold the rest, or retries are due
       * later. Ask again soon, later and later. */
      if (next_due >= 0 && (uint64_t)next_due < idle) idle = (uint64_t)next_due + 1;
      ac_event_clear(sh->feed_wake);
      {
        ac_timeout_t t;
        if (ac_timeout_enter(&t, idle) != 0) break;
        rc = ac_event_wait(sh->feed_wake);
        (void)ac_timeout_leave(&t);
        if (rc != 0 && rc != AC_ETIMEDOUT) break;
      }
      idle = idle * 2 > IDLE_MAX_MS ? IDLE_MAX_MS : idle * 2;
    }
  }
  if (!sh->complete && !c->stopping && !c->finished) {
    /* Out of memory, or a request this worker cannot make: it stops, and
     * what it holds goes back to the others. */
    ac__crawl_stop_on_error(c, AC_ENOMEM);
  }
  return 0;
}

/* ---------------------------------------------------------- the settler */

static int send_ops(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  struct ac__list *batch = &sh->inflight;
  args_t a = {0};
  redisReply *rep = NULL;
  uint64_t wait = 0;
  size_t n = 0;
  int rc;
  while (n < SETTLE_BATCH && !ac__list_empty(&sh->ops)) {
    struct ac__list *l = ac__list_head(&sh->ops);
    ac__list_remove(l);
    ac__list_insert_tail(batch, l);
    n++;
  }
  sh->nops -= n;
  sh->sending += n;
  args_addz(&a, "settle");
  args_addz(&a, sh->worker);
  args_addi(&a, (long long)++sh->settle_batch); /* one number for all its tries */
  args_addi(&a, (long long)n);
  for (struct ac__list *l = batch->next; l != batch; l = l->next)
    args_move(&a, &ac__container_of(l, op_t, link)->args);
  for (;;) {
    rc = step(c, &a, &rep);
    if (rc == 0 || rc == AC_ESTORE || rc == AC_ENOMEM) break;
    /* Cancelled: a hard stop; the leases expire. Else Redis is away: the
     * same outcomes again (a refusal then only counts one extra). */
    if (rc == AC_ECANCELED || c->hard || trouble_wait(c, &wait) != 0) break;
  }
  args_free(&a);
  if (rc == 0) {
    if (rep->type == REDIS_REPLY_ARRAY) {
      for (size_t i = 0; i < rep->elements; i++)
        if (rep->element[i]->integer == 0) sh->late++;
    } else {
      fprintf(c->out, "redis: the crawl's script refused outcomes: %s\n", reply_error(rep));
      rc = AC_EPROTO;
    }
    freeReplyObject(rep);
  }
  while (!ac__list_empty(batch)) {
    struct ac__list *l = ac__list_head(batch);
    ac__list_remove(l);
    op_free(ac__container_of(l, op_t, link));
  }
  sh->sending -= n;
  ac_event_set(sh->settled);
  /* Done requests bring their follows: there may be work to take now. */
  ac_event_set(sh->feed_wake);
  ac__crawl_check_finished(c);
  return rc;
}

static int settler_main(void *arg, void **result) {
  ac_crawl_t *c = arg;
  shared_t *sh = sh_of(c);
  (void)result;
  for (;;) {
    if (!ac__list_empty(&sh->ops)) {
      int rc = send_ops(c);
      if (rc == AC_ESTORE || rc == AC_ECANCELED || c->hard) break;
      /* Out of memory: the batch is lost (its leases expire and others do
       * it again); the next one may fit. */
      if (rc == AC_ENOMEM && ac_sleep(TROUBLE_MIN_MS) != 0) break;
      continue;
    }
    ac_event_clear(sh->settle_wake);
    if (ac_event_wait(sh->settle_wake) != 0) break;
  }
  return 0;
}

/* ----------------------------------------------------------- the renewer */

/* A slot's name is the acquisition's own: a release sent later (with the
 * outcomes) must not take the slot the same consumer holds again by then. */
static void slot_name(ac_crawl_t *c, const ac__consumer_t *me, char *out, size_t cap) {
  snprintf(out, cap, "%s:%zu:%llu", sh_of(c)->worker, (size_t)(me - c->consumers),
           (unsigned long long)me->gate_seq);
}


static int renew(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  args_t a = {0};
  redisReply *rep = NULL;
  char info[256];
  size_t n = 0;
  int rc;
  snprintf(info, sizeof(info), "{\"pid\":%ld,\"held\":%zu,\"done\":%llu,\"requests\":%llu}",
           (long)getpid(), sh->nheld, (unsigned long long)c->st.pages_done,
           (unsigned long long)c->st.requests);
  n = sh->nheld + answered(sh, NULL);
  args_addz(&a, "renew");
  args_addz(&a, sh->worker);
  args_addi(&a, (long long)c->opts.lease_ms);
  args_addz(&a, info);
  args_addi(&a, (long long)n);
  for (struct ac__list *l = sh->held.next; l != &sh->held; l = l->next) {
    ac__creq_t *r = ac__container_of(l, ac__creq_t, held);
    args_addz(&a, r->lease_id);
    args_addz(&a, r->lease_token);
  }
  (void)answered_ids(sh, &a, 1);
  /* The host slots its consumers hold. */
  n = 0;
  for (size_t i = 0; i < c->nconsumers; i++) n += c->consumers[i].gate_host != NULL;
  args_addi(&a, (long long)n);
  for (size_t i = 0; i < c->nconsumers; i++) {
    char slot[160];
    if (c->consumers[i].gate_host == NULL) continue;
    slot_name(c, &c->consumers[i], slot, sizeof(slot));
    args_addz(&a, c->consumers[i].gate_host->name);
    args_addz(&a, slot);
  }
  rc = step(c, &a, &rep);
  args_free(&a);
  if (rc != 0) return rc;
  if (rep->type == REDIS_REPLY_ARRAY) sh->lost += rep->elements;
  freeReplyObject(rep);
  return 0;
}

static int renewer_main(void *arg, void **result) {
  ac_crawl_t *c = arg;
  (void)result;
  for (;;) {
    int rc = ac_sleep(c->opts.lease_ms / 3 > 0 ? c->opts.lease_ms / 3 : 1);
    if (rc != 0) break;
    rc = renew(c);
    if (rc == AC_ESTORE || rc == AC_ECANCELED) break;
  }
  return 0;
}

/* ---------------------------------------------------------- host gate */

static int sh_gate_enter(ac_crawl_t *c, ac__host_t *h) {
  ac__consumer_t *me = ac__crawl_consumer(c);
  uint64_t poll = 2, trouble = 0;
  char slot[160];
  int rc;
  if (!c->gate_shared || me == NULL) return 0;
  me->gate_seq++;
  slot_name(c, me, slot, sizeof(slot));
  for (;;) {
    args_t a = {0};
    redisReply *rep = NULL;
    long long code, ms;
    if (c->stopping) return AC_ECANCELED;
    args_addz(&a, "host");
    args_addz(&a, h->name);
    args_addz(&a, slot);
    args_addi(&a, (long long)c->gate_per_host);
    args_addi(&a, c->opts.rate > 0 ? (long long)(1000.0 / c->opts.rate) : 0);
    args_addi(&a, (long long)c->opts.lease_ms);
    rc = step(c, &a, &rep);
    args_free(&a);
    if (rc == AC_ESTORE || rc == AC_ECANCELED || rc == AC_ENOMEM) return rc;
    if (rc != 0 || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
      if (rep != NULL) freeReplyObject(rep);
      if ((rc = trouble_wait(c, &trouble)) != 0) return rc;
      continue;
    }
    code = rep->element[0]->integer;
    ms = rep->element[1]->integer;
    freeReplyObject(rep);
    if (code == 0) {
      me->gate_host = h;
      /* The rate's start time, reserved for this request. */
      if (ms > 0 && (rc = ac_sleep((uint64_t)ms)) != 0) {
        c->fr->gate_leave(c, h);
        return rc;
      }
      return 0;
    }
    if (code == 2) {
      rc = ac_sleep((uint64_t)ms);
    } else {
      /* Every slot is taken: they come back as requests end anywhere. */
      rc = ac_sleep(poll + (uint64_t)(ac_now_us() % (poll + 1)));
      poll = poll * 2 > 50 ? 50 : poll * 2;
    }
    if (rc != 0) return rc;
  }
}

static void sh_gate_leave(ac_crawl_t *c, ac__host_t *h) {
  ac__consumer_t *me = ac__crawl_consumer(c);
  char slot[160];
  if (me == NULL || me->gate_host != h) return;
  me->gate_host = NULL;
  slot_name(c, me, slot, sizeof(slot));
  if (!c->hard) queue_op(c, "h", h->name, slot);
}

static void sh_gate_pause(ac_crawl_t *c, ac__host_t *h, uint64_t ms) {
  char t[32];
  if (!c->gate_shared || c->hard) return;
  snprintf(t, sizeof(t), "%llu", (unsigned long long)ms);
  queue_op(c, "p", h->name, t);
}

/* --------------------------------------------------------- open, begin */

static int spawn(ac_crawl_t *c, ac_task_fn fn, const char *name, ac_task_t **out) {
  ac_task_opts_t to = {name, 0};
  return ac_task_spawn(c->loop, fn, c, &to, out);
}

/* A warning when Redis may evict the crawl's keys (a policy other than
 * noeviction under a memory limit), or keeps no append-only file (a
 * restart can take back minutes of the crawl). */
static void check_settings(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  const char *argv[] = {"CONFIG", "GET", NULL};
  static const char *const names[] = {"maxmemory-policy", "appendonly"};
  for (size_t i = 0; i < 2; i++) {
    redisReply *rep = NULL;
    argv[2] = names[i];
    if (ac__redis_call(sh->redis, &rep, 3, argv, NULL) != 0) return;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 && rep->element[1]->str != NULL) {
      const char *v = rep->element[1]->str;
      if (i == 0 && strcmp(v, "noeviction") != 0)
        ac_crawl_note(
            c,
            "redis: warning: maxmemory-policy is %s: under memory pressure Redis may evict the "
            "crawl's keys (set it to noeviction)",
            v);
      if (i == 1 && strcmp(v, "yes") != 0)
        ac_crawl_note(
            c,
            "redis: warning: appendonly is %s: a restart of Redis can lose the last minutes of "
            "the crawl (appendonly yes)",
            v);
    }
    freeReplyObject(rep);
  }
}

/* The crawl's failures back in the queue (ac_crawl_opts_t.retry_failed),
 * a bounded batch per step; *moved says how many. 0, or having said why,
 * the error of a join that failed. */
static int retry_failed(ac_crawl_t *c, long long *moved) {
  shared_t *sh = sh_of(c);
  char cursor[32] = "0";
  int rc = 0;
  do {
    args_t a = {0};
    redisReply *rep = NULL;
    args_addz(&a, "retry_failed");
    args_addz(&a, cursor);
    args_addi(&a, RETRY_FAILED_BATCH);
    rc = step(c, &a, &rep);
    args_free(&a);
    if (rc == 0 && (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
                    rep->element[0]->type != REDIS_REPLY_STRING ||
                    rep->element[0]->len >= sizeof(cursor) ||
                    rep->element[1]->type != REDIS_REPLY_INTEGER)) {
      fprintf(c->out, "redis: cannot put the crawl's failures back in the queue: %s\n",
              reply_error(rep)[0] != '\0' ? reply_error(rep) : "an answer of another shape");
      rc = AC_EPROTO;
    } else if (rc == 0) {
      memcpy(cursor, rep->element[0]->str, rep->element[0]->len + 1);
      *moved += rep->element[1]->integer;
    } else {
      fprintf(c->out, "redis: cannot put the crawl's failures back in the queue: %s\n",
              ac__redis_last_error(sh->redis)[0] ? ac__redis_last_error(sh->redis)
                                                 : ac_strerror(rc));
    }
    if (rep != NULL) freeReplyObject(rep);
  } while (rc == 0 && strcmp(cursor, "0") != 0);
  if (rc == 0)
    ac_crawl_note(c, "redis: %lld failed requests back in the queue of the crawl %.*s", *moved,
                  (int)(strlen(sh->prefix) - 10), sh->prefix + 8);
  return rc == AC_ENOMEM || rc == AC_ECANCELED ? rc : rc != 0 ? AC_ESTORE : 0;
}

static int sh_open(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  static const char *const scripts[] = {ac__frontier_redis_lua};
  ac__redis_opts_t ro;
  args_t a = {0};
  redisReply *rep = NULL;
  char why[512], host[64];
  int rc;
  memset(&ro, 0, sizeof(ro));
  ro.uri = c->opts.frontier;
  ro.timeout_ms = c->opts.redis_timeout_ms;
  ro.scripts = scripts;
  ro.nscripts = 1;
  ro.client_name = "acrawl";
  why[0] = '\0';
  /* Every failure here is said, and returned as the crawl state's
   * (AC_ESTORE): the frontier is where the crawl is kept. */
  if ((rc = ac__redis_open(c->loop, &ro, &sh->redis, why, sizeof(why))) != 0) {
    fprintf(c->out, "%s\n", why[0] != '\0' ? why : ac_strerror(rc));
    return rc == AC_ENOMEM || rc == AC_ECANCELED ? rc : AC_ESTORE;
  }
  check_settings(c);
  if (gethostname(host, sizeof(host)) != 0) snprintf(host, sizeof(host), "?");
  host[sizeof(host) - 1] = '\0';
  snprintf(sh->worker, sizeof(sh->worker), "%s:%ld:%08llx", host, (long)getpid(),
           (unsigned long long)(ac_now_us() & 0xffffffffu));
  args_addz(&a, "join");
  args_addz(&a, sh->worker);
  args_addz(&a, sh->fp);
  args_addi(&a, (long long)c->opts.lease_ms);
  rc = step(c, &a, &rep);
  args_free(&a);
  if (rc != 0) {
    fprintf(c->out, "redis: cannot join the crawl: %s\n",
            ac__redis_last_error(sh->redis)[0] ? ac__redis_last_error(sh->redis) : ac_strerror(rc));
    return rc == AC_ENOMEM || rc == AC_ECANCELED ? rc : AC_ESTORE;
  }
  if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1) {
    const char *e = reply_error(rep);
    if (strncmp(e, "ACRAWL_SPEC ", 12) == 0) e += 12;
    fprintf(c->out, "redis: cannot join the crawl %s: %s\n", sh->prefix, e);
    freeReplyObject(rep);
    return AC_ESTORE;
  }
  sh->seeding = strcmp(rep->element[0]->str, "seed") == 0;
  if (c->opts.retry_failed && !sh->seeding) {
    long long moved = 0;
    if ((rc = retry_failed(c, &moved)) != 0) {
      freeReplyObject(rep);
      return rc;
    }
    /* Complete no more: the failures wait in the queue. */
    if (moved > 0 && strcmp(rep->element[0]->str, "complete") == 0) {
      freeReplyObject(rep);
      return 0;
    }
  }
  if (strcmp(rep->element[0]->str, "complete") == 0) {
    sh->complete = 1;
    ac_crawl_note(c,
                  "redis: the crawl %.*s is complete already: nothing to do (another --crawl name "
                  "starts another crawl)",
                  (int)(strlen(sh->prefix) - 10), sh->prefix + 8);
  }
  freeReplyObject(rep);
  return 0;
}

/* The start on the seeding worker: the spider's start, its follows sent,
 * then the crawl is seeded (until then no worker may call it complete). */
static int seed_fn(ac_crawl_t *c, void *arg) {
  shared_t *sh = sh_of(c);
  args_t a = {0};
  redisReply *rep = NULL;
  uint64_t wait = 0;
  int rc;
  int started;
  (void)arg;
  started = c->spider.start(c, c->spider.data);
  if (started == AC_ECANCELED) return started;
  if ((rc = flush_batch(c)) != 0) return rc;
  if (started < 0) {
    /* Not seeded: the crawl cannot be complete without its whole start.
     * This worker stops (the start's error is its exit status); the seed
     * lease expires and another worker runs the start again. */
    ac__crawl_stop_on_error(c, started);
    return started;
  }
  args_addz(&a, "seeded");
  args_addz(&a, sh->worker);
  for (;;) {
    rc = step(c, &a, &rep);
    if (rc == 0 || rc == AC_ESTORE || rc == AC_ECANCELED || rc == AC_ENOMEM) break;
    if ((rc = trouble_wait(c, &wait)) != 0) break;
  }
  args_free(&a);
  if (rep != NULL) freeReplyObject(rep);
  return rc;
}

static int sh_begin(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  int rc;
  if (sh->complete) {
    ac__crawl_check_finished(c);
    return 0;
  }
  if ((rc = spawn(c, feeder_main, "redis-feeder", &sh->feeder)) != 0 ||
      (rc = spawn(c, settler_main, "redis-settler", &sh->settler)) != 0 ||
      (rc = spawn(c, renewer_main, "redis-renewer", &sh->renewer)) != 0)
    return rc;
  if (sh->seeding) return ac_crawl_produce(c, seed_fn, NULL);
  return 0;
}

static void sh_end(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  ac__crawl_finish_task(&sh->feeder, 1);
  /* Requests taken but never started go back to the queue. */
  while (c->nready > 0) {
    ac__creq_t *r = ac__crawl_pop_ready(c);
    r->crawl = c;
    sh_settle(c, r, 'a');
    ac__creq_free(r);
  }
}

static void parse_status(const redisReply *rep, ac_crawl_status_t *out);

/* The crawl's counts at the end: its failures make every worker's exit
 * status, and the summary says where the whole crawl stands. */
static void read_counts(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  args_t a = {0};
  redisReply *rep = NULL;
  ac_crawl_status_t st;
  args_addz(&a, "status");
  args_addi(&a, 10000);
  if (step(c, &a, &rep) == 0 && rep->type == REDIS_REPLY_ARRAY) {
    parse_status(rep, &st);
    sh->crawl_failed = st.failed + st.records_failed;
    if (c->opts.summary)
      ac_crawl_note(
          c,
          "crawl %.*s: %s; done %llu, failed %llu, queued %llu, delayed %llu, leased %llu "
          "(seen %llu), records failed %llu; this worker's answers refused as late: %llu",
          (int)(strlen(sh->prefix) - 10), sh->prefix + 8, st.state, (unsigned long long)st.done,
          (unsigned long long)st.failed, (unsigned long long)st.queued,
          (unsigned long long)st.delayed, (unsigned long long)st.leased,
          (unsigned long long)st.seen, (unsigned long long)st.records_failed,
          (unsigned long long)sh->late);
  }
  if (rep != NULL) freeReplyObject(rep);
  args_free(&a);
}

static int sh_close(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  if (sh->redis == NULL) return 0;
  /* The outcomes first: until they are in, the leases are this worker's.
   * Waited for as long as a lease lasts: past that, another worker has
   * taken them over anyway, and a Redis that does not answer must not
   * keep a stopping worker forever. */
  ac_timeout_t t;
  int expired = 0;
  if (ac_timeout_enter(&t, c->opts.lease_ms) == 0) {
    while (!c->hard && !sh->gone && (sh->nops > 0 || sh->sending > 0) && sh->settler != NULL &&
           !ac_task_is_finished(sh->settler)) {
      ac_event_set(sh->settle_wake);
      ac_event_clear(sh->settled);
      if (ac_event_wait(sh->settled) != 0) break;
    }
    expired = ac_timeout_leave(&t) == AC_ETIMEDOUT;
  }
  if (expired || (!c->hard && !sh->gone && sh->nops + sh->sending > 0))
    ac_crawl_note(c, "redis: %zu outcomes could not be sent (%s): their requests go to other "
                     "workers when their leases expire", sh->nops + sh->sending,
                  ac__redis_last_error(sh->redis)[0] != '\0' ? ac__redis_last_error(sh->redis)
                                                              : "Redis does not answer");
  ac__crawl_finish_task(&sh->settler, 1);
  ac__crawl_finish_task(&sh->renewer, 1);
  if (!c->hard && !sh->gone) read_counts(c);
  if (sh->crawl_failed > 0 && c->st.failures == 0) c->start_error = AC_EFAILED;
  return 0;
}

static void sh_free(ac_crawl_t *c) {
  shared_t *sh = sh_of(c);
  if (sh == NULL) return;
  while (!ac__list_empty(&sh->ops)) {
    struct ac__list *l = ac__list_head(&sh->ops);
    ac__list_remove(l);
    op_free(ac__container_of(l, op_t, link));
  }
  args_free(&sh->batch);
  if (sh->redis != NULL) ac__redis_free(sh->redis);
  (void)ac_event_free(sh->feed_wake);
  (void)ac_event_free(sh->settle_wake);
  (void)ac_event_free(sh->settled);
  ac__free(sh->prefix);
  ac__free(sh);
  c->fr_data = NULL;
}

static void sh_record_failed(ac_crawl_t *c, ac__creq_t *r, const char *why) {
  if (!c->hard) queue_op(c, "x", r->fetch, why);
}

/* The producer ended: its follows go to Redis before its parent is done. */
static int sh_flush(ac_crawl_t *c) { return flush_batch(c); }

const ac__frontier_ops_t ac__frontier_redis = {
    .name = "redis",
    .open = sh_open,
    .begin = sh_begin,
    .add = sh_add,
    .retry = sh_retry,
    .settle = sh_settle,
    .finished = sh_finished,
    .end = sh_end,
    .close = sh_close,
    .free = sh_free,
    .flush = sh_flush,
    .gate_enter = sh_gate_enter,
    .gate_leave = sh_gate_leave,
    .gate_pause = sh_gate_pause,
    .record_failed = sh_record_failed,
};

int ac__frontier_redis_init(ac_crawl_t *c, const char *name, const char *fingerprint) {
  shared_t *sh = ac__calloc(1, sizeof(*sh));
  size_t n;
  int rc;
  if (sh == NULL) return AC_ENOMEM;
  c->fr_data = sh;
  ac__list_init(&sh->held);
  ac__list_init(&sh->ops);
  ac__list_init(&sh->inflight);
  n = strlen(name) + 16;
  if ((sh->prefix = ac__malloc(n)) == NULL) return AC_ENOMEM;
  /* The braces make every key of one crawl one hash slot (Redis Cluster). */
  snprintf(sh->prefix, n, "acrawl:{%s}:", name);
  snprintf(sh->fp, sizeof(sh->fp), "%016llx",
           (unsigned long long)ac__crawl_hash(fingerprint != NULL ? fingerprint : name));
  sh->prefetch = c->nconsumers / 2 + 4;
  if ((rc = ac_event_new(c->loop, &sh->feed_wake)) != 0 ||
      (rc = ac_event_new(c->loop, &sh->settle_wake)) != 0 ||
      (rc = ac_event_new(c->loop, &sh->settled)) != 0)
    return rc;
  c->feed_wake = sh->feed_wake;
  c->feed_low = sh->prefetch / 2;
  return 0;
}

/* ------------------------------------------------------------ status */

static uint64_t reply_u64(const redisReply *r) {
  if (r->type == REDIS_REPLY_INTEGER) return r->integer < 0 ? 0 : (uint64_t)r->integer;
  if (r->type == REDIS_REPLY_STRING) return (uint64_t)strtoull(r->str, NULL, 10);
  return 0;
}

static void parse_status(const redisReply *rep, ac_crawl_status_t *out) {
  static const struct {
    const char *name;
    size_t off;
  } fields[] = {
      {"queued", offsetof(ac_crawl_status_t, queued)},
      {"delayed", offsetof(ac_crawl_status_t, delayed)},
      {"leased", offsetof(ac_crawl_status_t, leased)},
      {"done", offsetof(ac_crawl_status_t, done)},
      {"failed", offsetof(ac_crawl_status_t, failed)},
      {"seen", offsetof(ac_crawl_status_t, seen)},
      {"retries", offsetof(ac_crawl_status_t, retries)},
      {"reclaimed", offsetof(ac_crawl_status_t, reclaimed)},
      {"extra", offsetof(ac_crawl_status_t, extra)},
      {"records_failed", offsetof(ac_crawl_status_t, records_failed)},
      {"workers", offsetof(ac_crawl_status_t, workers)},
      {"created", offsetof(ac_crawl_status_t, created_ms)},
      {"now", offsetof(ac_crawl_status_t, now_ms)},
      {"dups", offsetof(ac_crawl_status_t, dups)},
  };
  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i + 1 < rep->elements; i += 2) {
    const char *k = rep->element[i]->str;
    const redisReply *v = rep->element[i + 1];
    if (k == NULL) continue;
    if (strcmp(k, "state") == 0 && v->type == REDIS_REPLY_STRING) {
      snprintf(out->state, sizeof(out->state), "%s", v->str);
      continue;
    }
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
      if (strcmp(k, fields[f].name) == 0)
        *(uint64_t *)(void *)((char *)out + fields[f].off) = reply_u64(v);
  }
}

int ac_crawl_status(ac_loop_t *loop, const char *frontier, const char *name, ac_crawl_status_t *out,
                    char *why, size_t cap) {
  static const char *const scripts[] = {ac__frontier_redis_lua};
  ac__redis_opts_t ro;
  ac__redis_t *redis = NULL;
  redisReply *rep = NULL;
  char prefix[512];
  const char *argv[6];
  int rc;
  if (why != NULL && cap > 0) why[0] = '\0';
  if (loop == NULL || frontier == NULL || name == NULL || out == NULL) return AC_EINVAL;
  memset(out, 0, sizeof(*out));
  memset(&ro, 0, sizeof(ro));
  ro.uri = frontier;
  ro.scripts = scripts;
  ro.nscripts = 1;
  if ((rc = ac__redis_open(loop, &ro, &redis, why, cap)) != 0) return rc;
  snprintf(prefix, sizeof(prefix), "acrawl:{%s}:", name);
  argv[0] = "EVALSHA";
  argv[1] = ac__redis_script_sha(redis, 0);
  argv[2] = "1";
  argv[3] = prefix;
  argv[4] = "status";
  argv[5] = "10000";
  rc = ac__redis_call(redis, &rep, 6, argv, NULL);
  if (rc != 0) {
    if (why != NULL) snprintf(why, cap, "%s", ac__redis_last_error(redis));
  } else if (strncmp(reply_error(rep), "ACRAWL_GONE", 11) == 0) {
    if (why != NULL) snprintf(why, cap, "no crawl named %s in that Redis", name);
    rc = AC_ENOENT;
  } else if (rep->type != REDIS_REPLY_ARRAY) {
    if (why != NULL) snprintf(why, cap, "redis answered: %s", reply_error(rep));
    rc = AC_EPROTO;
  } else {
    parse_status(rep, out);
  }
  if (rep != NULL) freeReplyObject(rep);
  ac__redis_free(redis);
  return rc;
}

/* --------------------------------------------------------------- stats */

void ac__frontier_redis_stats_json(const ac_crawl_t *c, cJSON *o) {
  const shared_t *sh = sh_of(c);
  cJSON *j;
  ac__redis_stats_t rs;
  if (sh == NULL || (j = cJSON_AddObjectToObject(o, "shared")) == NULL) return;
  memset(&rs, 0, sizeof(rs));
  if (sh->redis != NULL) ac__redis_stats(sh->redis, &rs);
  cJSON_AddStringToObject(j, "worker", sh->worker);
  cJSON_AddNumberToObject(j, "taken", (double)sh->taken);
  cJSON_AddNumberToObject(j, "late_refused", (double)sh->late);
  cJSON_AddNumberToObject(j, "leases_lost", (double)sh->lost);
  cJSON_AddNumberToObject(j, "crawl_failed", (double)sh->crawl_failed);
  cJSON_AddNumberToObject(j, "script_calls", (double)sh->steps);
  cJSON_AddNumberToObject(j, "redis_commands", (double)rs.commands);
  cJSON_AddNumberToObject(j, "redis_round_trips", (double)rs.round_trips);
  cJSON_AddNumberToObject(j, "redis_reconnects", (double)rs.reconnects);
  cJSON_AddNumberToObject(j, "redis_timeouts", (double)rs.timeouts);
}
