/* wood_api.c - the parts the order and stock APIs share, so each role holds only its routes. */
#include "woodctl/wood_api.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "woodctl/log.h"
#include "woodctl/otel.h"
#include "woodctl/run.h"
#include "woodctl/wood.h"

bool wood_api_simulate(struct wd_http_req *req, double rate, int status, const char *message)
{
	if (!wood_draw_failure(rate))
		return false;
	wood_simulated_failure(message);
	wd_http_reply_error(req, status, "%s", message);
	return true;
}

void wood_api_db_error(struct wd_http_req *req, int rc, const char *unexpected)
{
	const struct wd_db_error *e = wd_db_last_error();
	switch (rc) {
	case WD_EUNAVAIL:
	case WD_EAGAIN:
		wd_http_reply_error(req, 503, "database unavailable, try again later");
		break;
	case WD_ETIMEDOUT:
		wd_http_reply_error(req, 503, "database did not answer in time, try again later");
		break;
	case WD_DB_EINPUT: wd_http_reply_error(req, 400, "invalid value: %s", e->message); break;
	default:
		wd_error("%s: %s (SQLSTATE %s)", unexpected, e->message,
		         e->sqlstate[0] ? e->sqlstate : "none");
		wd_http_reply_error(req, 500, "%s", unexpected);
		break;
	}
}

/* The longest Idempotency-Key accepted: keys are ids, not documents. */
#define KEY_MAX 200

/* 1 to KEY_MAX printable ASCII characters, no spaces (n counts any embedded NUL). */
static bool key_ok(const char *key, size_t n)
{
	bool ok = n > 0 && n <= KEY_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)key[i] > 0x20 && (unsigned char)key[i] < 0x7f;
	return ok;
}

struct run_ctx {
	const char *scope;
	const char *key;
	const char *digest;
	wood_work_fn fn;
	void *ud;
	struct wood_reply reply;
};

/* A positive return from the transaction function: roll back, but reply as decided. */
#define REPLY_WITHOUT_COMMIT 1

static void reply_reset(struct wood_reply *r)
{
	json_decref(r->body);
	r->body = NULL;
	r->status = 0;
}

static void key_reused(const char *key, struct wood_reply *out)
{
	out->status = 422;
	out->body = json_pack("{s:s+}", "error",
	                      "Idempotency-Key was already used for a different request: ", key);
}

/*
 * The answer to a request whose key was taken by an earlier one, from that one's row
 * (columns request_hash, status, body from col): 422 when it asked something else, 409
 * while it has no reply yet, else its stored reply. row < 0: the row is gone (409).
 */
static void replay(const char *key, const char *digest, const struct wd_db_result *r, int row,
                   int col, struct wood_reply *out)
{
	int64_t status = 0;
	const char *hash = row < 0 ? digest : wd_db_get(r, row, col);
	if (!hash || strcmp(hash, digest)) {
		key_reused(key, out);
	} else if (row < 0 || wd_db_get_int(r, row, col + 1, &status) ||
	           !wd_db_get(r, row, col + 2)) {
		out->status = 409;
		out->body = json_pack("{s:s}", "error",
		                      "a request with this Idempotency-Key is still in progress");
	} else {
		out->status = (int)status;
		out->body = json_loads(wd_db_get(r, row, col + 2), JSON_DECODE_ANY, NULL);
	}
}

static int claim_and_work(struct wd_db_conn *c, void *ud)
{
	struct run_ctx *x = ud;
	int rc;
	reply_reset(&x->reply);
	if (x->key) {
		const char *p[] = {x->scope, x->key, x->digest};
		int64_t claimed = 0;
		rc = wd_db_conn_exec(c,
		                     "INSERT INTO idempotency_keys (scope, key, request_hash) "
		                     "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		                     3, p, &claimed);
		if (rc)
			return rc;
		if (!claimed) {
			/* The key is taken, by a finished request (a concurrent one made our INSERT
			 * wait until it committed): replay what it answered. */
			struct wd_db_result *r = NULL;
			rc = wd_db_conn_query(
			    c,
			    "SELECT request_hash, status, body FROM idempotency_keys "
			    "WHERE scope = $1 AND key = $2",
			    2, p, &r);
			if (rc)
				return rc;
			replay(x->key, x->digest, r, 0, 0, &x->reply);
			wd_db_result_free(r);
			return REPLY_WITHOUT_COMMIT;
		}
	}
	rc = x->fn(c, x->ud, &x->reply);
	if (rc)
		return rc;
	if (x->reply.status < 200 || x->reply.status > 299)
		return REPLY_WITHOUT_COMMIT;
	if (x->key) {
		char *body = json_dumps(x->reply.body, JSON_COMPACT | JSON_ENCODE_ANY);
		char status[16];
		snprintf(status, sizeof(status), "%d", x->reply.status);
		const char *p[] = {x->scope, x->key, status, body ? body : "null"};
		rc = wd_db_conn_exec(c,
		                     "UPDATE idempotency_keys SET status = $3, body = $4 "
		                     "WHERE scope = $1 AND key = $2",
		                     4, p, NULL);
		free(body);
	}
	return rc;
}

void wood_api_run(struct wd_http_req *req, struct wd_db *db, const char *scope, const char *digest,
                  wood_work_fn fn, void *ud, const char *unexpected)
{
	struct run_ctx x = {.scope = scope, .digest = digest, .fn = fn, .ud = ud};
	x.key = wd_http_header(req, "Idempotency-Key");
	if (x.key) {
		if (!key_ok(x.key, strlen(x.key))) {
			wd_http_reply_error(req, 400,
			                    "Idempotency-Key must be 1 to %d printable characters "
			                    "without spaces",
			                    KEY_MAX);
			return;
		}
	}
	int rc = wd_db_tx(db, NULL, claim_and_work, &x);
	if (rc < 0) {
		reply_reset(&x.reply);
		wood_api_db_error(req, rc, unexpected);
		return;
	}
	wd_http_reply_json(req, x.reply.status ? x.reply.status : 500, x.reply.body);
}

bool wood_api_begin(struct wd_http_req *req, struct wood_api_state *st, double rate, int status,
                    const char *simulated)
{
	if (wood_api_simulate(req, rate, status, simulated))
		return true;
	if (atomic_load(&st->migrated))
		return false;
	wd_http_reply_error(req, 503, "database not ready yet, try again later");
	return true;
}

int wood_api_item(struct wd_http_req *req, struct wood_item *it, const char *prefix)
{
	json_t *body = wd_http_json(req);
	/* The seed treats a falsy body ({}, [], null) as missing. */
	if (!body || json_is_null(body) || (json_is_object(body) && !json_object_size(body)) ||
	    (json_is_array(body) && !json_array_size(body))) {
		wd_http_reply_error(req, 400, "Missing request body");
		return WD_EINVAL;
	}
	char err[160];
	if (wood_item_from_json(body, it, err, sizeof(err))) {
		wd_http_reply_error(req, 400, "%s%s", prefix, err);
		return WD_EINVAL;
	}
	return 0;
}

void wood_api_run_item(struct wd_http_req *req, struct wood_api_state *st, const char *scope,
                       const char *verb, struct wood_item *it, wood_work_fn fn,
                       const char *unexpected)
{
	char digest[64];
	wood_api_digest(verb, it, digest, sizeof(digest));
	wood_api_run(req, st->db, scope, digest, fn, it, unexpected);
}

void wood_api_digest(const char *verb, const struct wood_item *it, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s:%s:%lld", verb, wood_type_wire(it->type), (long long)it->quantity);
}

/* ---- Batches ------------------------------------------------------------------------ */

/* What wood_api_batch_tx knows of an item beyond what the caller sees. */
struct slot {
	size_t first; /* the item that used this key first (itself when it is the first) */
	bool fixed;   /* decided before the transaction: not touched, key not claimed */
	bool claimed; /* its key was claimed in this attempt of the transaction */
	int row;      /* its key's row in the replay result, or -1 */
};

/* A key and the item that used it first; sorted by key, then position. */
struct keyed {
	const char *key;
	size_t i;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int keyed_key_cmp(const void *key, const void *b)
{
	return strcmp(key, ((const struct keyed *)b)->key);
}

struct batch_ctx {
	const char *scope;
	struct wood_batch_item *items;
	size_t n;
	struct slot *slots;
	struct keyed *owners; /* the first user of each key, sorted by key */
	size_t nowners;
	size_t *todo;
	wood_batch_fn fn;
	void *ud;
};

static bool is_2xx(int status)
{
	return status >= 200 && status <= 299;
}

/* The owner whose key is key, or NULL. */
static struct keyed *owner_of(const struct batch_ctx *x, const char *key)
{
	return key ? bsearch(key, x->owners, x->nowners, sizeof(*x->owners), keyed_key_cmp) : NULL;
}

/*
 * Claims every key the batch uses with one INSERT. The keys go in sorted order, so two
 * batches sharing keys take their row locks in the same order and cannot deadlock each
 * other (a batch waits for the other's first shared key before it holds any later one).
 */
static int batch_claim(struct wd_db_conn *c, struct batch_ctx *x)
{
	struct wd_buf keys = WD_BUF_INIT, hashes = WD_BUF_INIT;
	struct wd_db_result *r = NULL;
	for (size_t k = 0; k < x->nowners; k++) {
		wd_db_array_add(&keys, x->owners[k].key);
		wd_db_array_add(&hashes, x->items[x->owners[k].i].digest);
	}
	wd_db_array_end(&keys);
	wd_db_array_end(&hashes);
	const char *p[] = {x->scope, keys.ptr, hashes.ptr};
	int rc = wd_db_conn_query(c,
	                          "INSERT INTO idempotency_keys (scope, key, request_hash) "
	                          "SELECT $1, u.key, u.hash FROM unnest($2::text[], $3::text[]) "
	                          "AS u(key, hash) ON CONFLICT DO NOTHING RETURNING key",
	                          3, p, &r);
	for (int row = 0; !rc && row < wd_db_nrows(r); row++) {
		struct keyed *o = owner_of(x, wd_db_get(r, row, 0));
		if (o)
			x->slots[o->i].claimed = true;
	}
	wd_db_result_free(r);
	wd_buf_release(&keys);
	wd_buf_release(&hashes);
	return rc;
}

/* Answers the items whose key was taken before this batch, from one SELECT: the first
 * user of the key and its repeats alike, each against the stored row. */
static int batch_replay(struct wd_db_conn *c, struct batch_ctx *x)
{
	struct wd_buf keys = WD_BUF_INIT;
	struct wd_db_result *r = NULL;
	int rc = 0;
	for (size_t k = 0; k < x->nowners; k++)
		if (!x->slots[x->owners[k].i].claimed)
			wd_db_array_add(&keys, x->owners[k].key);
	if (!keys.len)
		goto out;
	wd_db_array_end(&keys);
	const char *p[] = {x->scope, keys.ptr};
	/* Planned each time, like the UPDATE and DELETE below: see wd_db_conn_query_planned. */
	rc =
	    wd_db_conn_query_planned(c,
	                             "SELECT key, request_hash, status, body FROM idempotency_keys "
	                             "WHERE scope = $1 AND key = ANY($2::text[])",
	                             2, p, &r);
	if (rc)
		goto out;
	for (int row = 0; row < wd_db_nrows(r); row++) {
		struct keyed *o = owner_of(x, wd_db_get(r, row, 0));
		if (o && !x->slots[o->i].claimed)
			x->slots[o->i].row = row;
	}
	for (size_t i = 0; i < x->n; i++) {
		struct wood_batch_item *it = &x->items[i];
		const struct slot *s = &x->slots[i];
		if (!s->fixed && it->key && !x->slots[s->first].claimed)
			replay(it->key, it->digest, r, x->slots[s->first].row, 1, &it->reply);
	}
out:
	wd_db_result_free(r);
	wd_buf_release(&keys);
	return rc;
}

/* Stores the 2xx replies under their claimed keys with one UPDATE, and frees the keys of
 * refused items with one DELETE (a refused single request leaves its key free too). */
static int batch_store(struct wd_db_conn *c, struct batch_ctx *x)
{
	struct wd_buf keys = WD_BUF_INIT, statuses = WD_BUF_INIT, bodies = WD_BUF_INIT;
	struct wd_buf freed = WD_BUF_INIT;
	int rc = 0;
	for (size_t k = 0; k < x->nowners; k++) {
		const struct wood_batch_item *it = &x->items[x->owners[k].i];
		if (!x->slots[x->owners[k].i].claimed)
			continue;
		if (!is_2xx(it->reply.status)) {
			wd_db_array_add(&freed, it->key);
			continue;
		}
		/* The same text wood_api_run stores, so replays match across the routes. */
		char *body = json_dumps(it->reply.body, JSON_COMPACT | JSON_ENCODE_ANY);
		wd_db_array_add(&keys, it->key);
		wd_db_array_add_int(&statuses, it->reply.status);
		wd_db_array_add(&bodies, body ? body : "null");
		free(body);
	}
	if (keys.len) {
		wd_db_array_end(&keys);
		wd_db_array_end(&statuses);
		wd_db_array_end(&bodies);
		const char *p[] = {x->scope, keys.ptr, statuses.ptr, bodies.ptr};
		rc = wd_db_conn_query_planned(
		    c,
		    "UPDATE idempotency_keys AS k SET status = u.status, body = u.body "
		    "FROM unnest($2::text[], $3::integer[], $4::text[]) "
		    "AS u(key, status, body) WHERE k.scope = $1 AND k.key = u.key",
		    4, p, NULL);
	}
	if (!rc && freed.len) {
		wd_db_array_end(&freed);
		const char *p[] = {x->scope, freed.ptr};
		rc = wd_db_conn_query_planned(c,
		                              "DELETE FROM idempotency_keys "
		                              "WHERE scope = $1 AND key = ANY($2::text[])",
		                              2, p, NULL);
	}
	wd_buf_release(&keys);
	wd_buf_release(&statuses);
	wd_buf_release(&bodies);
	wd_buf_release(&freed);
	return rc;
}

static void batch_reset(struct batch_ctx *x)
{
	for (size_t i = 0; i < x->n; i++) {
		if (x->slots[i].fixed)
			continue;
		reply_reset(&x->items[i].reply);
		x->slots[i].claimed = false;
		x->slots[i].row = -1;
	}
}

static int batch_work(struct wd_db_conn *c, void *ud)
{
	struct batch_ctx *x = ud;
	int rc = 0;
	batch_reset(x);
	if (x->nowners && ((rc = batch_claim(c, x)) || (rc = batch_replay(c, x))))
		return rc;
	/* The work: items without a key, and the first user of each key claimed now. */
	size_t ntodo = 0;
	for (size_t i = 0; i < x->n; i++) {
		const struct slot *s = &x->slots[i];
		if (!s->fixed && (!x->items[i].key || (s->first == i && s->claimed)))
			x->todo[ntodo++] = i;
	}
	if (ntodo && (rc = x->fn(c, x->ud, x->items, x->todo, ntodo)))
		return rc;
	for (size_t k = 0; k < ntodo; k++) {
		struct wood_reply *r = &x->items[x->todo[k]].reply;
		if (!r->status) {
			/* A work function that skipped an item: a bug, never a silent success. */
			wd_error("batch work left item %zu without a reply", x->todo[k]);
			r->status = 500;
			r->body = json_pack("{s:s}", "error", "no reply for this item");
		}
	}
	/* A repeated key, claimed by its first user in this batch: that user's answer when
	 * it asks the same, else 422, as a later single request would get. */
	for (size_t i = 0; i < x->n; i++) {
		struct wood_batch_item *it = &x->items[i];
		const struct slot *s = &x->slots[i];
		if (s->fixed || !it->key || s->first == i || !x->slots[s->first].claimed)
			continue;
		const struct wood_batch_item *first = &x->items[s->first];
		if (!strcmp(first->digest, it->digest)) {
			it->reply.status = first->reply.status;
			it->reply.body = json_deep_copy(first->reply.body);
		} else {
			key_reused(it->key, &it->reply);
		}
	}
	return x->nowners ? batch_store(c, x) : 0;
}

int wood_api_batch_tx(struct wd_db *db, const char *scope, struct wood_batch_item *items, size_t n,
                      wood_batch_fn fn, void *ud)
{
	struct batch_ctx x = {.scope = scope, .items = items, .n = n, .fn = fn, .ud = ud};
	x.slots = xcalloc(n ? n : 1, sizeof(*x.slots));
	x.owners = xcalloc(n ? n : 1, sizeof(*x.owners));
	x.todo = xcalloc(n ? n : 1, sizeof(*x.todo));
	/* Sort the keys once: the first user of each becomes its owner; repeats point to it. */
	size_t nkeyed = 0, nopen = 0;
	for (size_t i = 0; i < n; i++) {
		x.slots[i].fixed = items[i].reply.status != 0;
		nopen += !x.slots[i].fixed;
		x.slots[i].first = i;
		if (!x.slots[i].fixed && items[i].key)
			x.owners[nkeyed++] = (struct keyed){items[i].key, i};
	}
	qsort(x.owners, nkeyed, sizeof(*x.owners), keyed_cmp);
	for (size_t k = 0; k < nkeyed; k++) {
		if (x.nowners && !strcmp(x.owners[x.nowners - 1].key, x.owners[k].key))
			x.slots[x.owners[k].i].first = x.owners[x.nowners - 1].i;
		else
			x.owners[x.nowners++] = x.owners[k];
	}
	/* Nothing left to do (every item refused or failed): no transaction, so such a
	 * batch is answered like those single requests, even while the database is away. */
	int rc = nopen ? wd_db_tx(db, NULL, batch_work, &x) : 0;
	if (rc)
		batch_reset(&x);
	free(x.slots);
	free(x.owners);
	free(x.todo);
	return rc < 0 ? rc : 0;
}

void wood_api_run_batch(struct wd_http_req *req, struct wood_api_state *st,
                        const struct wood_batch_spec *spec)
{
	json_t *body = wd_http_json(req);
	json_t *list = json_is_object(body) ? json_object_get(body, spec->field) : NULL;
	size_t n = json_array_size(list);
	struct wd_span *span = wd_span_current();
	if (span && json_is_array(list))
		wd_span_set_int(span, "woodctl.batch.size", (int64_t)n);
	if (!atomic_load(&st->migrated)) {
		wd_http_reply_error(req, 503, "database not ready yet, try again later");
		return;
	}
	if (!json_is_array(list) || n < 1 || n > WOOD_BATCH_MAX) {
		wd_http_reply_error(req, 400, "%s must be an array of 1 to %d %s", spec->field,
		                    WOOD_BATCH_MAX, spec->field);
		return;
	}
	struct wood_batch_item *items = xcalloc(n, sizeof(*items));
	struct wood_item *its = xcalloc(n, sizeof(*its));
	for (size_t i = 0; i < n; i++) {
		const json_t *el = json_array_get(list, i);
		struct wood_batch_item *b = &items[i];
		char err[160];
		/* The single route's order: the draw first, then the item, then its key. */
		if (wood_draw_failure(spec->error_rate)) {
			wood_simulated_failure(spec->simulated);
			b->reply.status = 500;
			b->reply.body = json_pack("{s:s}", "error", spec->simulated);
			continue;
		}
		if (wood_item_from_json(el, &its[i], err, sizeof(err))) {
			b->reply.status = 400;
			b->reply.body = json_pack("{s:o}", "error",
			                          json_sprintf("%s[%zu]: %s", spec->field, i, err));
			continue;
		}
		const json_t *key = json_object_get(el, "idempotency_key");
		if (key && (!json_is_string(key) ||
		            !key_ok(json_string_value(key), json_string_length(key)))) {
			b->reply.status = 400;
			b->reply.body = json_pack(
			    "{s:o}", "error",
			    json_sprintf("%s[%zu]: idempotency_key must be 1 to %d printable "
			                 "characters without spaces",
			                 spec->field, i, KEY_MAX));
			continue;
		}
		b->key = key ? json_string_value(key) : NULL;
		b->item = &its[i];
		wood_api_digest(spec->verb, &its[i], b->digest, sizeof(b->digest));
	}
	int rc = wood_api_batch_tx(st->db, spec->scope, items, n, spec->fn, spec->ud);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			reply_reset(&items[i].reply);
		wood_api_db_error(req, rc, spec->unexpected);
	} else {
		json_t *results = json_array();
		for (size_t i = 0; i < n; i++) {
			json_array_append_new(
			    results,
			    json_pack("{s:i, s:o}", "status", items[i].reply.status, "body",
			              items[i].reply.body ? items[i].reply.body : json_null()));
			items[i].reply.body = NULL;
		}
		wd_http_reply_json(req, 200, json_pack("{s:o}", "results", results));
	}
	free(items);
	free(its);
}

int wood_api_ready(void *ud, struct wd_buf *why)
{
	struct wood_api_state *st = ud;
	int rc = wd_db_ping(st->db);
	if (rc) {
		wd_buf_printf(why, "database: %s", wd_db_strerror(rc));
		return rc;
	}
	if (!atomic_load(&st->migrated)) {
		wd_buf_puts(why, "database: schema not migrated yet");
		return WD_EAGAIN;
	}
	return 0;
}

int wood_api_main(const char *component, const struct wd_db_migration *migrations, size_t n,
                  int port, const struct wd_http_route *routes, struct wood_api_state *st)
{
	st->db = wd_db_shared();
	if (!st->db)
		return wd_fail(1, "no database pool: the role table must ask for WD_SETUP_DB");
	struct wd_http_server_opts opts = {
	    .port = port,
	    .routes = routes,
	    .ud = st,
	    .ready = wood_api_ready,
	    .ready_ud = st,
	};
	struct wd_http_server *srv = NULL;
	if (wd_http_server_start(&opts, &srv))
		return 1;
	/* Serve /health at once; the data routes answer 503 until the schema is in place. */
	while (!wd_run_stopping()) {
		int rc = wd_db_wait_ready(st->db, 0);
		if (rc == WD_ESTOPPED)
			break;
		if (!rc && !wd_db_migrate(st->db, component, migrations, n)) {
			atomic_store(&st->migrated, true);
			wd_info("schema of %s is up to date; serving", component);
			break;
		}
		wd_warn("database not ready for %s; trying again in 2 s", component);
		wd_run_sleep_ms(2000);
	}
	while (!wd_run_stopping())
		wd_run_sleep_ms(60000);
	return 0;
}
