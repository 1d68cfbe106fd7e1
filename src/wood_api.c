/* wood_api.c - the parts the order and stock APIs share, so each role holds only its routes. */
#include "woodctl/wood_api.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "woodctl/log.h"
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
			int64_t status = 0;
			const char *hash = wd_db_get(r, 0, 0);
			if (!hash || strcmp(hash, x->digest)) {
				x->reply.status = 422;
				x->reply.body = json_pack("{s:s+}", "error",
				                          "Idempotency-Key was already used for a "
				                          "different request: ",
				                          x->key);
			} else if (wd_db_get_int(r, 0, 1, &status) || !wd_db_get(r, 0, 2)) {
				x->reply.status = 409;
				x->reply.body = json_pack("{s:s}", "error",
				                          "a request with this Idempotency-Key is "
				                          "still in progress");
			} else {
				x->reply.status = (int)status;
				x->reply.body =
				    json_loads(wd_db_get(r, 0, 2), JSON_DECODE_ANY, NULL);
			}
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
		size_t n = strlen(x.key);
		bool ok = n > 0 && n <= KEY_MAX;
		for (size_t i = 0; ok && i < n; i++)
			ok = (unsigned char)x.key[i] > 0x20 && (unsigned char)x.key[i] < 0x7f;
		if (!ok) {
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

bool wood_api_begin(struct wd_http_req *req, struct wood_api_state *st, double rate,
                    int status, const char *simulated)
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
	snprintf(digest, sizeof(digest), "%s:%s:%lld", verb, wood_type_wire(it->type),
	         (long long)it->quantity);
	wood_api_run(req, st->db, scope, digest, fn, it, unexpected);
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
