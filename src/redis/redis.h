/*
 * acrawl's Redis client: one connection per ac__redis_t, shared by the tasks
 * of one loop, on hiredis's async API driven by acrawl's own libuv adapter
 * (src/redis/poll.c) and bounded by acrawl's timers (hiredis 0.14 has no
 * async timeouts). Internal to libacrawl: the crawl engine's shared frontier
 * is its user.
 *
 * A lost connection is reopened by the next call, never in the background:
 * a worker that has nothing to ask Redis holds no retry loop. Every
 * (re)connect runs the same handshake: AUTH, SELECT, CLIENT SETNAME, PING
 * and SCRIPT LOAD of the scripts, because a restarted Redis forgets the
 * scripts, and a restart always drops the connection.
 *
 * Not for SUBSCRIBE, MONITOR or blocking commands that outlive the timeout:
 * every command gets exactly one reply, awaited under the timeout.
 */
#ifndef AC_REDIS_REDIS_H
#define AC_REDIS_REDIS_H

#include <hiredis/hiredis.h> /* redisReply, freeReplyObject */
#include <stddef.h>
#include <stdint.h>

#include "acrawl/runtime.h"

typedef struct ac__redis ac__redis_t;

/* redis://[[user]:password@]host[:port][/db]  (port 6379, db 0 by default;
 * user NULL = default user, password NULL = no AUTH; an IPv6 host in
 * brackets; percent-escapes in user and password decoded). */
typedef struct ac__redis_uri {
  char *host;
  int port;
  int db;
  char *user;
  char *password;
} ac__redis_uri_t;

/* 0, or AC_EINVAL with `why` naming the problem ("redis URI: port 99999 out
 * of range"); AC_ENOMEM. On an error *out holds nothing to free. */
int ac__redis_uri_parse(const char *text, ac__redis_uri_t *out, char *why, size_t cap);
void ac__redis_uri_free(ac__redis_uri_t *u);
/* The URI without its password (":***@"), for messages and logs. */
void ac__redis_uri_shown(const char *text, char *out, size_t cap);

typedef struct ac__redis_opts {
  const char *uri;
  /* Bound on every await: connect+AUTH+SELECT+script loads, a call, a
   * pipeline; 0 -> 5000. */
  uint64_t timeout_ms;
  const char *client_name;    /* CLIENT SETNAME after each connect, or NULL */
  const char *const *scripts; /* Lua sources, SCRIPT LOADed on every (re)connect; may be NULL */
  size_t nscripts;
} ac__redis_opts_t;

/* AWAITS (must run in a task). Connect, AUTH (AUTH password, or AUTH user
 * password), SELECT db, CLIENT SETNAME, load the scripts. 0 and *out;
 * errors: AC_EINVAL bad URI, AC_ECONNREFUSED, AC_EDNS, AC_ETIMEDOUT, AC_EPERM
 * (AUTH refused: WRONGPASS, or NOAUTH/password needed), AC_EPROTO (any other
 * refusal: SELECT out of range, a script that does not compile, not a Redis
 * at all), AC_ECONNRESET (the server closed the connection during the
 * handshake), AC_ENOMEM, AC_ENOTASK, AC_ECANCELED. `why` (may be NULL) gets a
 * message for the user that names host:port (never the password) and
 * Redis's own words. */
int ac__redis_open(ac_loop_t *loop, const ac__redis_opts_t *o, ac__redis_t **out, char *why,
                   size_t cap);
/* Not awaiting. Calls still waiting get AC_ECLOSED. Handles closed through
 * the loop. NULL is a no-op. */
void ac__redis_free(ac__redis_t *r);

typedef struct ac__redis_cmd {
  int argc;
  const char *const *argv;
  const size_t *lens; /* lens NULL: strlen of each */
} ac__redis_cmd_t;

/* AWAITS: the n commands are written together (one pipeline) and their
 * replies awaited together under one timeout. On 0 every replies[i] is set,
 * in order, owned by the caller (freeReplyObject); an error reply is a reply
 * (type REDIS_REPLY_ERROR). On an error, every replies[i] is NULL and:
 * AC_ETIMEDOUT (no complete answer in time: the connection was dropped; the
 * commands may or may not have run), AC_ECONNRESET (the connection was lost:
 * may or may not have run), AC_ECONNREFUSED/AC_EDNS/AC_EPERM/AC_EPROTO
 * (reconnecting failed), AC_ECANCELED (the awaiting task was cancelled: the
 * commands may still run, their replies are freed when they come),
 * AC_ECLOSED, AC_ENOMEM, AC_EINVAL (n == 0, a command with argc < 1).
 * A lost connection is reopened (connect, AUTH, SELECT, name, scripts) by
 * the next call, not in the background. An EVALSHA of one of the scripts
 * answered NOSCRIPT is resent once as EVALSHA after the scripts are loaded
 * again. Several tasks may call at once on one ac__redis_t: their commands
 * share the connection (hiredis pipelines them). Nothing of argv or lens is
 * kept after the call returns. */
int ac__redis_pipeline(ac__redis_t *r, size_t n, const ac__redis_cmd_t *cmds,
                       redisReply **replies);
/* One command, the same contract. */
int ac__redis_call(ac__redis_t *r, redisReply **reply, int argc, const char *const *argv,
                   const size_t *lens);
/* printf-like, hiredis's format (%s %b %d ...), the same contract. */
int ac__redis_callf(ac__redis_t *r, redisReply **reply, const char *fmt, ...);
/* The SHA1 (40 hex + NUL) of script i as Redis knows it (known after
 * ac__redis_open); NULL for i out of range. */
const char *ac__redis_script_sha(const ac__redis_t *r, size_t i);

typedef struct ac__redis_stats {
  uint64_t commands;    /* commands sent */
  uint64_t round_trips; /* pipelines and single calls awaited */
  uint64_t reconnects;  /* connections opened after the first */
  uint64_t timeouts;    /* awaits that expired */
} ac__redis_stats_t;
void ac__redis_stats(const ac__redis_t *r, ac__redis_stats_t *out);
/* A short description of the last connection failure (for "waiting for
 * Redis: ..." messages), "" if none. */
const char *ac__redis_last_error(const ac__redis_t *r);

#endif /* AC_REDIS_REDIS_H */
