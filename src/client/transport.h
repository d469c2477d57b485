/*
 * The HTTP client's transports: what the front (client.c: sessions, calls,
 * completion, cancel) asks of the code that moves a request's bytes.
 *
 *   h1/    acrawl's own HTTP/1.1 client for plain http:// (h1/h1.h);
 *   curl/  libcurl's multi interface on the loop: everything else.
 *
 * A session opens each transport once (its state in s->transport[slot],
 * NULL when the transport is not in use for it); a request is offered to
 * them in slot order and the first that takes it runs it (call->tp), its
 * per-call state in call->transport[slot], kept with the pooled call. A
 * transport ends a call through ac__http_call_end, and may pass it on to
 * another transport mid-request (ac__http_call_hand_over). The front knows
 * the table below and nothing of a transport's state.
 */
#ifndef AC_CLIENT_TRANSPORT_H
#define AC_CLIENT_TRANSPORT_H

#include "acrawl.h"

struct ac_http_call;

/* The slots, in the order a request is offered to the transports. */
enum { AC__HTTP_H1, AC__HTTP_CURL, AC__HTTP_NTRANSPORTS };

/* start's flags. */
enum {
  /* o->headers are the whole list, the session's default headers among them
   * (filtered for the target by a hand-over): they are not added again. */
  AC__HTTP_ALL_HEADERS = 1,
};

typedef struct ac__http_transport {
  const char *name;
  /* Set up the session's state of this transport: 0 with *state set (NULL:
   * the transport takes none of this session's requests), or an AC_E* code. */
  int (*open)(ac_session_t *s, const ac_session_opts_t *o, void **state);
  /* Start call: 0 (started; it ends through ac__http_call_end, never from
   * inside start), 1 (not for this transport: nothing changed), or an AC_E*
   * code with err filled and nothing started. */
  int (*start)(struct ac_http_call *call, const ac_request_opts_t *o, int flags,
               ac_http_error_t *err);
  /* The call ends (completed, failed or cancelled) while on this transport,
   * before its callback runs: stop it and release what it holds. */
  void (*detach)(struct ac_http_call *call);
  /* The call itself is freed: this transport's state of it (maybe NULL). */
  void (*call_free)(struct ac_http_call *call);
  /* The session is freed (no call in flight, none pooled): close its
   * connections and handles and free its state. */
  void (*close)(ac_session_t *s);
} ac__http_transport_t;

extern const ac__http_transport_t ac__http_h1;
extern const ac__http_transport_t ac__http_curl;

/* End a call: status 0 with call->resp complete (raise_for_status is
 * applied here) or an error with its detail. Detaches the call from its
 * transport, then runs the user's callback (client.c). */
void ac__http_call_end(struct ac_http_call *call, int status, ac_http_error_t *err);

/* Bytes arrived for call: its idle-read timer starts again (client.c). */
void ac__http_call_got_data(struct ac_http_call *call);

/* Pass a started call on to the transport of `slot` with o and start's
 * flags (its transport so far has let go of it): 0, or an AC_E* code with
 * err filled, the call still to be ended by the caller. */
int ac__http_call_hand_over(struct ac_http_call *call, int slot, const ac_request_opts_t *o,
                            int flags, ac_http_error_t *err);

#endif /* AC_CLIENT_TRANSPORT_H */
