/* stock.c - the stock API: stock levels per wood type in PostgreSQL.
 *
 * Serves:   POST /stocks {"wood_type", "quantity"} -> 201 the level after adding the delivery;
 *           GET /stocks?skip=&limit=, GET /stocks/{wood_type},
 *           POST /stocks/decrease {"wood_type", "quantity"} -> 200 the level after taking
 *           (400 "Insufficient stock", 404 "Stock not found"); /health, /ready, /metrics.
 * Touches:  PostgreSQL table stocks (enum type woodtype) and idempotency_keys in DATABASE_URL.
 * Failures: with probability ERROR_RATE a request fails first thing (POST 500, GET 502).
 *           A decrease is one atomic statement: stock never goes below zero, and a request
 *           repeated with the same Idempotency-Key adds or takes only once.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "woodctl/cfg.h"
#include "woodctl/db.h"
#include "woodctl/http.h"
#include "woodctl/role.h"
#include "woodctl/wood.h"
#include "woodctl/wood_api.h"
#include "woodctl/wood_schema.h"

static double error_rate;
static int64_t port;

const struct wd_cfg_var stock_cfg[] = {
    WOOD_CFG_ERROR_RATE(error_rate),
    WD_CFG_I("PORT", WOOD_PORT_STOCK, 1, 65535, port, "TCP port the stock API listens on"),
    WD_CFG_END,
};

static struct wood_api_state state;

static json_t *stock_json(const struct wd_db_result *r, int row)
{
	int64_t quantity = 0;
	enum wood_type t = WOOD_OAK;
	wood_type_parse(wd_db_get(r, row, 0), &t);
	wd_db_get_int(r, row, 1, &quantity);
	return json_pack("{s:I, s:s}", "quantity", (json_int_t)quantity, "wood_type",
	                 wood_type_wire(t));
}

static int add_delivery(struct wd_db_conn *c, void *ud, struct wood_reply *out)
{
	const struct wood_item *it = ud;
	char q[24];
	snprintf(q, sizeof(q), "%lld", (long long)it->quantity);
	const char *p[] = {wood_type_label(it->type), q};
	struct wd_db_result *r = NULL;
	/* Accumulate in one statement, so concurrent deliveries never lose one another. */
	int rc = wd_db_conn_query(c,
	                          "INSERT INTO stocks (wood_type, quantity) VALUES ($1, $2) "
	                          "ON CONFLICT (wood_type) DO UPDATE "
	                          "SET quantity = stocks.quantity + EXCLUDED.quantity "
	                          "RETURNING wood_type, quantity",
	                          2, p, &r);
	if (!rc) {
		out->status = 201;
		out->body = stock_json(r, 0);
	}
	wd_db_result_free(r);
	return rc;
}

static void create(struct wd_http_req *req)
{
	if (wood_api_begin(req, &state, error_rate, 500, "Simulated DB error during stock creation"))
		return;
	struct wood_item it;
	if (wood_api_item(req, &it, ""))
		return;
	wood_api_run_item(req, &state, "stock", "add", &it, add_delivery,
	                  "Unexpected error during stock creation");
}

static int take(struct wd_db_conn *c, void *ud, struct wood_reply *out)
{
	const struct wood_item *it = ud;
	char q[24];
	snprintf(q, sizeof(q), "%lld", (long long)it->quantity);
	const char *p[] = {wood_type_label(it->type), q};
	struct wd_db_result *r = NULL;
	/* Check and take in one statement: two decreases can never both see the same stock. */
	int rc = wd_db_conn_query(c,
	                          "UPDATE stocks SET quantity = quantity - $2 "
	                          "WHERE wood_type = $1 AND quantity >= $2 "
	                          "RETURNING wood_type, quantity",
	                          2, p, &r);
	if (!rc && wd_db_nrows(r)) {
		out->status = 200;
		out->body = stock_json(r, 0);
	} else if (!rc) {
		wd_db_result_free(r);
		r = NULL;
		rc = wd_db_conn_query(
		    c, "SELECT wood_type, quantity FROM stocks WHERE wood_type = $1", 1, p, &r);
		if (!rc) {
			out->status = wd_db_nrows(r) ? 400 : 404;
			out->body =
			    json_pack("{s:s}", "error",
			              wd_db_nrows(r) ? "Insufficient stock" : "Stock not found");
		}
	}
	wd_db_result_free(r);
	return rc;
}

static void decrease(struct wd_http_req *req)
{
	if (wood_api_begin(req, &state, error_rate, 500, "Simulated DB error during stock decrease"))
		return;
	struct wood_item it;
	if (wood_api_item(req, &it, "Invalid input: "))
		return;
	wood_api_run_item(req, &state, "stock", "take", &it, take,
	                  "Unexpected error during stock decrease");
}

static void list(struct wd_http_req *req)
{
	int64_t skip, limit;
	if (wood_api_begin(req, &state, error_rate, 502, "Simulated API error during stock list"))
		return;
	if (wd_http_query_int(req, "skip", 0, 0, INT32_MAX, &skip) ||
	    wd_http_query_int(req, "limit", 10, 0, 10000, &limit)) {
		wd_http_reply_error(
		    req, 400, "skip and limit must be integers (skip >= 0, 0 <= limit <= 10000)");
		return;
	}
	char s[24], l[24];
	snprintf(s, sizeof(s), "%lld", (long long)skip);
	snprintf(l, sizeof(l), "%lld", (long long)limit);
	const char *p[] = {s, l};
	struct wd_db_result *r = NULL;
	int rc = wd_db_query(state.db,
	                     "SELECT wood_type, quantity FROM stocks ORDER BY wood_type "
	                     "OFFSET $1 LIMIT $2",
	                     2, p, &r);
	if (rc) {
		wood_api_db_error(req, rc, "Unexpected error during stock list");
	} else {
		json_t *arr = json_array();
		for (int i = 0; i < wd_db_nrows(r); i++)
			json_array_append_new(arr, stock_json(r, i));
		wd_http_reply_json(req, 200, arr);
	}
	wd_db_result_free(r);
}

static void read_one(struct wd_http_req *req)
{
	if (wood_api_begin(req, &state, error_rate, 502, "Simulated API error during stock read"))
		return;
	const char *text = wd_http_param(req, "wood_type");
	enum wood_type t;
	/* The seed also matched the upper-case name (OAK); an unknown one was a 500 there. */
	if (wood_type_parse(text, &t)) {
		wd_http_reply_error(
		    req, 400, "Invalid wood type: %s (expected oak, maple, birch, elm or pine)",
		    text);
		return;
	}
	const char *p[] = {wood_type_label(t)};
	struct wd_db_result *r = NULL;
	int rc = wd_db_query(
	    state.db, "SELECT wood_type, quantity FROM stocks WHERE wood_type = $1", 1, p, &r);
	if (rc)
		wood_api_db_error(req, rc, "Unexpected error during stock read");
	else if (!wd_db_nrows(r))
		wd_http_reply_error(req, 404, "Stock not found");
	else
		wd_http_reply_json(req, 200, stock_json(r, 0));
	wd_db_result_free(r);
}

static const struct wd_http_route routes[] = {
    {"POST", "/stocks", create, WD_HTTP_JSON},
    {"GET", "/stocks", list, 0},
    {"POST", "/stocks/decrease", decrease, WD_HTTP_JSON},
    {"GET", "/stocks/{wood_type}", read_one, 0},
    WD_HTTP_ROUTE_END,
};

int stock_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	return wood_api_main(WOOD_SCHEMA_STOCK, wood_schema_stock, wood_schema_stock_len, (int)port,
	                     routes, &state);
}
