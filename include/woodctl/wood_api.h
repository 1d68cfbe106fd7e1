/* wood_api.h - what the order and stock APIs share: simulated failures, database error
 * replies, and idempotent units of work keyed by the Idempotency-Key header. */
#ifndef WOODCTL_WOOD_API_H
#define WOODCTL_WOOD_API_H

#include <jansson.h>

#include "woodctl/db.h"
#include "woodctl/http.h"

/*
 * One ERROR_RATE draw for a request (seed-spec §3.3: first thing, before any parsing).
 * On a failure: an ERROR log line (it carries the trace id), the current span marked
 * ERROR with error.type "SimulatedError", and the reply status {"error": message}; then
 * returns true and the handler returns at once.
 */
bool wood_api_simulate(struct wd_http_req *req, double rate, int status, const char *message);

/* Replies for a failed database call: 503 while the database is away or too slow, 400 when
 * the server rejected the request's values, else 500 {"error": "<unexpected>"} with the
 * server's message in the log. */
void wood_api_db_error(struct wd_http_req *req, int rc, const char *unexpected);

/* The reply a unit of work decided on; body is owned (stolen by the reply). */
struct wood_reply {
	int status;
	json_t *body;
};

/*
 * A unit of work inside one transaction. It fills out and returns 0, or returns a
 * database error code. A 2xx reply commits; anything else rolls back (so a refused
 * request leaves nothing behind, and its Idempotency-Key stays free). It may run more
 * than once (a serialization failure is retried), so it must not keep state between runs.
 */
typedef int (*wood_work_fn)(struct wd_db_conn *c, void *ud, struct wood_reply *out);

/*
 * Runs fn and replies. With an Idempotency-Key header, the key is claimed in the same
 * transaction (scope separates the APIs): a key already used for the same request
 * (digest) replays the stored reply without doing the work again, one used for another
 * request gets 422, and a concurrent duplicate waits for the first to finish. unexpected
 * is the 500 message ("Unexpected error during order creation").
 */
void wood_api_run(struct wd_http_req *req, struct wd_db *db, const char *scope, const char *digest,
                  wood_work_fn fn, void *ud, const char *unexpected);

/* Readiness for /ready: the database answers and the schema is in place. */
struct wood_api_state {
	struct wd_db *db;
	_Atomic bool migrated;
};

/*
 * The start of every data route: the ERROR_RATE draw (wood_api_simulate), then 503 while
 * the schema is not in place. Returns true when the request has its reply already.
 */
bool wood_api_begin(struct wd_http_req *req, struct wood_api_state *st, double rate,
                    int status, const char *simulated);

/* The item in a create or decrease body; replies 400 itself ("Missing request body" for
 * the seed's falsy bodies, else prefix + the field's problem) and returns WD_EINVAL. */
struct wood_item;
int wood_api_item(struct wd_http_req *req, struct wood_item *it, const char *prefix);

/* wood_api_run for an item: the Idempotency-Key digest is "<verb>:<type>:<quantity>". */
void wood_api_run_item(struct wd_http_req *req, struct wood_api_state *st, const char *scope,
                       const char *verb, struct wood_item *it, wood_work_fn fn,
                       const char *unexpected);
int wood_api_ready(void *ud, struct wd_buf *why);

/*
 * The start-up of an API role: starts serving on port (so /health answers at once and
 * /ready says why it is not ready), waits for the database and applies the migrations,
 * then serves until a stop. Returns the role's exit code.
 */
int wood_api_main(const char *component, const struct wd_db_migration *migrations, size_t n,
                  int port, const struct wd_http_route *routes, struct wood_api_state *st);

#endif
