/*
 * The Redis client's private parts, shared by its files: the client
 * (redis.c: open, free, the accessors), the connection and its handshake
 * (conn.c), the batches of commands awaited together (batch.c, used by the
 * calls in call.c) and the libuv adapter hiredis drives (poll.c).
 *
 * Ownership: a batch is on the heap, not the awaiting task's stack, because
 * hiredis keeps its address as the privdata of each command's callback and
 * may call back after the task stopped waiting (cancelled). The batch lives
 * until both its replies are all in (or failed) and its task took them or
 * left. hiredis frees a context only inside its own calls or ours
 * (redisAsyncFree); every path that loses a context detaches it from the
 * client first, so r->ctx is never a context being freed.
 */
#ifndef AC_REDIS_INTERNAL_H
#define AC_REDIS_INTERNAL_H

#include <hiredis/async.h>

#include "acrawl/errno.h"
#include "common/list.h"
#include "redis/redis.h"
#include "runtime/ext.h"

struct ac__redis_batch;

struct ac__redis {
  ac_loop_t *loop;
  redisAsyncContext *ctx;            /* NULL: no connection */
  int ready;                         /* ctx's handshake succeeded */
  struct ac__redis_batch *handshake; /* the handshake in flight, or NULL */
  struct ac__list conn_waiters;      /* tasks waiting for someone else's handshake */
  struct ac__list batches;           /* every batch not yet taken by its task */
  int drop_err;                      /* what a lost ctx's pending commands get; 0: ask hiredis */
  int opened;                        /* a handshake succeeded once: later ones are reconnects */
  /* Calls under way hold r (a woken task resumes later): ac__redis_free
   * with some running marks r closed, and the last one out frees it. */
  unsigned refs;
  int closed;
  ac__redis_uri_t uri;
  char addr[280];                    /* host:port, for messages */
  uint64_t timeout_ms;
  char *client_name;
  char **scripts;
  size_t nscripts;
  char (*shas)[41];
  redisReplyObjectFunctions fns;     /* hiredis's, but for freeObject (batch.c) */
  ac__redis_stats_t stats;
  char drop_why[160];                /* hiredis's words on the last lost connection */
  char last_error[512];
};

/* What a batch sends: commands in the protocol's form. script is the index
 * of the script an EVALSHA names, or -1 (NOSCRIPT is retried for those). */
struct ac__redis_fcmd {
  char *buf; /* from hiredis's formatter: redisFreeCommand */
  size_t len;
  int script;
};

struct ac__redis_batch {
  ac__redis_t *r;          /* freed after its batches: a free drops the connection first */
  ac_loop_t *loop;
  struct ac__list node;    /* in r->batches */
  struct ac__wait w;
  ac_task_t *task;         /* NULL: nobody awaits (cancelled); freed when done */
  struct ac__timer timer;
  size_t n, got;
  int lost;                /* nonzero once a command failed with its connection */
  unsigned timed_out : 1;
  unsigned done : 1;
  unsigned waiting : 1;    /* its task is suspended in ac__redis_batch_await */
  unsigned is_handshake : 1;
  int status;              /* once done */
  unsigned char *kinds;    /* handshake: what each command is (conn.c) */
  redisReply *replies[];
};

/* batch.c */
/* The n commands on r->ctx (which must be ready, or be the connection whose
 * handshake this is) under a timer due at due_us; NULL on out of memory.
 * The batch is in r->batches; it completes by itself. */
struct ac__redis_batch *ac__redis_batch_send(ac__redis_t *r, ac_task_t *task,
                                             const struct ac__redis_fcmd *cmds, size_t n,
                                             uint64_t due_us, int is_handshake);
/* Await b's completion: b's status, and its replies moved to replies (NULL:
 * freed); b is freed. An interruption returns its status at once and leaves
 * b to finish alone. */
int ac__redis_batch_await(struct ac__redis_batch *b, redisReply **replies);
/* The reply functions hiredis uses on a context of r: freeObject spares the
 * replies handed to a batch. */
void ac__redis_reply_fns_install(ac__redis_t *r, redisAsyncContext *ac);
/* Drop r's connection now (never from inside a hiredis callback): its
 * pending commands fail with err. */
void ac__redis_drop(ac__redis_t *r, int err);
/* Take ctx away from r if it is r's (it is being freed by hiredis). */
void ac__redis_detach(ac__redis_t *r, const redisAsyncContext *ac);

/* conn.c */
/* Make r->ctx ready (connect and handshake, or wait for the task doing it),
 * by due_us. 0 or the failure, with r->last_error saying why. */
int ac__redis_ready(ac__redis_t *r, ac_task_t *task, uint64_t due_us);
/* Load the scripts again on the ready connection (after a NOSCRIPT). */
int ac__redis_reload_scripts(ac__redis_t *r, ac_task_t *task, uint64_t due_us);
/* A batch of the handshake is done (inside a hiredis callback or a drop):
 * judge its replies, settle r's state, wake the tasks waiting for it.
 * Returns the handshake's status. */
int ac__redis_handshake_done(ac__redis_t *r, struct ac__redis_batch *b, int status);
/* The message for a failure: "redis HOST:PORT: ..." into r->last_error. */
void ac__redis_set_error(ac__redis_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* redis.c */
/* A call starts (0, or AC_ECLOSED) and ends: r is freed at the last end
 * once ac__redis_free was called. */
int ac__redis_enter(ac__redis_t *r);
void ac__redis_leave(ac__redis_t *r);

/* call.c */
/* argv in the protocol's form into c; AC_ENOMEM. */
int ac__redis_format(struct ac__redis_fcmd *c, int argc, const char *const *argv,
                     const size_t *lens);
void ac__redis_fcmds_free(struct ac__redis_fcmd *c, size_t n);

/* poll.c */
/* Drive ac with a uv_poll_t on its socket; 0 or a libuv error. */
int ac__redis_poll_attach(ac_loop_t *loop, redisAsyncContext *ac);

#endif /* AC_REDIS_INTERNAL_H */
