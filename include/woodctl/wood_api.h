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
bool wood_api_begin(struct wd_http_req *req, struct wood_api_state *st, double rate, int status,
                    const char *simulated);

/* The item in a create or decrease body; replies 400 itself ("Missing request body" for
 * the seed's falsy bodies, else prefix + the field's problem) and returns WD_EINVAL. */
struct wood_item;
int wood_api_item(struct wd_http_req *req, struct wood_item *it, const char *prefix);

/* wood_api_run for an item: the Idempotency-Key digest is "<verb>:<type>:<quantity>". */
void wood_api_run_item(struct wd_http_req *req, struct wood_api_state *st, const char *scope,
                       const char *verb, struct wood_item *it, wood_work_fn fn,
                       const char *unexpected);
int wood_api_ready(void *ud, struct wd_buf *why);

/* The digest of an item request, as wood_api_run_item uses it: "<verb>:<type>:<quantity>".
 * Batches use the same one, so a key first used in a batch and then in a single call (or
 * the reverse) gets the same answer. */
void wood_api_digest(const char *verb, const struct wood_item *it, char *out, size_t outsz);

/* ---- Batches: many items in one request and one transaction ------------------------ */

/* The most items one batch request may carry. */
#define WOOD_BATCH_MAX 1000

/* One item of a batch. */
struct wood_batch_item {
	const char *key;         /* its Idempotency-Key (borrowed), or NULL */
	char digest[64];         /* what it asks, as wood_api_digest writes it */
	struct wood_item *item;  /* the validated item (borrowed), for the work function */
	struct wood_reply reply; /* status 0: to be decided by wood_api_batch_tx; already set
	                          * (400, simulated 500): left alone, its key not claimed */
};

/*
 * The work of a batch: does items[todo[0]] ... items[todo[ntodo - 1]] on c, with a
 * handful of statements whatever ntodo is, and fills each of their replies (a 2xx one
 * is stored under the item's key). Returns 0, or a database error code (then nothing
 * is committed). It may run more than once, like wood_work_fn.
 */
typedef int (*wood_batch_fn)(struct wd_db_conn *c, void *ud, struct wood_batch_item *items,
                             const size_t *todo, size_t ntodo);

/*
 * The idempotent part of a batch, in one transaction of at most four statements besides
 * fn's (claim the keys, read the replays, store the replies, free the keys of refused
 * items): every undecided item with a key is handled as wood_api_run would handle it
 * alone (same scope, same digest: replay, 422, 409, or work and store), items without a
 * key are simply done, and an item repeating an earlier item's key in the same batch
 * gets the earlier item's answer when it asks the same thing, else 422 (even when the
 * earlier one was refused and its key freed). With no undecided item there is no
 * transaction at all. Returns 0 with every reply set, or a database error code with the
 * undecided replies reset (reply with wood_api_db_error).
 */
int wood_api_batch_tx(struct wd_db *db, const char *scope, struct wood_batch_item *items, size_t n,
                      wood_batch_fn fn, void *ud);

/* What a batch route of wood items is. */
struct wood_batch_spec {
	const char *scope;     /* of the Idempotency-Keys: the single route's scope */
	const char *verb;      /* of the digest: the single route's verb */
	const char *field;     /* the body's array: "orders" */
	double error_rate;     /* ERROR_RATE, drawn per item */
	const char *simulated; /* an item's simulated failure: 500 {"error": simulated} */
	wood_batch_fn fn;      /* the work, with ud */
	void *ud;
	const char *unexpected; /* the 500 message of a database failure */
};

/*
 * A batch route: body {"<field>": [item, ...]} with 1 to WOOD_BATCH_MAX items, each
 * {"wood_type", "quantity", "idempotency_key" (optional, the rules of the header)}, other
 * keys ignored. Per item, in the single route's order: one ERROR_RATE draw (a failure is
 * logged and marks the server span ERROR, as wood_api_simulate does), validation (400
 * "<field>[i]: <problem>"), the key's check, then wood_api_batch_tx for the rest. Replies
 * 200 {"results": [{"status", "body"}, ...]} in request order; 400 for a malformed
 * request, 503 before the migrations, the database errors of wood_api_db_error. Sets
 * woodctl.batch.size (the item count) on the server span.
 */
void wood_api_run_batch(struct wd_http_req *req, struct wood_api_state *st,
                        const struct wood_batch_spec *spec);

/*
 * The start-up of an API role: starts serving on port (so /health answers at once and
 * /ready says why it is not ready), waits for the database and applies the migrations,
 * then serves until a stop. Returns the role's exit code.
 */
int wood_api_main(const char *component, const struct wd_db_migration *migrations, size_t n,
                  int port, const struct wd_http_route *routes, struct wood_api_state *st);

#endif
