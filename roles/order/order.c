/* order.c - the order API: a REST service over the "orders" table in PostgreSQL.
 *
 * Serves:   POST /orders {"wood_type", "quantity"} -> 201 the order (status registered);
 *           GET /orders?skip=&limit= (limit 10 by default), GET /orders/status/{status},
 *           GET /orders/{id}, PUT /orders/{id} {"order_status"}; both /orders and /orders/
 *           forms; /health, /ready, /metrics.
 *           POST /orders/batch {"orders": [{"wood_type", "quantity", "idempotency_key"?},
 *           ...]} (1 to 1000) -> 200 {"results": [{"status", "body"}, ...]}: each item
 *           answered in request order as POST /orders would answer it alone (400 with
 *           "orders[i]: " before the message, 500 simulated, 201, or the replay of its key),
 *           all in one transaction; 400 when "orders" is not such an array. GET or PUT of
 *           /orders/batch is GET or PUT of /orders/{id} (404).
 * Touches:  PostgreSQL table orders (enum types woodtype, orderstatus) and idempotency_keys
 *           in DATABASE_URL; migrations run at start-up.
 * Failures: with probability ERROR_RATE a request fails first thing (POST 500, others 502);
 *           a batch draws per item instead. An Idempotency-Key (the header of POST /orders,
 *           the idempotency_key of a batch item: one scope) creates at most one order.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
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

const struct wd_cfg_var order_cfg[] = {
    WOOD_CFG_ERROR_RATE(error_rate),
    WD_CFG_I("PORT", WOOD_PORT_ORDER, 1, 65535, port, "TCP port the order API listens on"),
    WD_CFG_END,
};

static struct wood_api_state state;

#define COLUMNS "id, wood_type, quantity, order_status"

/* One row of orders as the API shows it (keys sorted, as the seed's Flask did). */
static json_t *order_json(const struct wd_db_result *r, int row)
{
	int64_t id = 0, quantity = 0;
	enum wood_type t = WOOD_OAK;
	enum wood_status s = WOOD_UNKNOWN;
	wd_db_get_int(r, row, 0, &id);
	wood_type_parse(wd_db_get(r, row, 1), &t);
	wd_db_get_int(r, row, 2, &quantity);
	wood_status_parse(wd_db_get(r, row, 3), &s);
	return json_pack("{s:I, s:s, s:I, s:s}", "id", (json_int_t)id, "order_status",
	                 wood_status_wire(s), "quantity", (json_int_t)quantity, "wood_type",
	                 wood_type_wire(t));
}

static json_t *orders_json(const struct wd_db_result *r)
{
	json_t *list = json_array();
	for (int i = 0; i < wd_db_nrows(r); i++)
		json_array_append_new(list, order_json(r, i));
	return list;
}

static int id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int insert_order(struct wd_db_conn *c, void *ud, struct wood_reply *out)
{
	const struct wood_item *it = ud;
	char q[24];
	snprintf(q, sizeof(q), "%lld", (long long)it->quantity);
	const char *p[] = {wood_type_label(it->type), q, wood_status_label(WOOD_REGISTERED)};
	struct wd_db_result *r = NULL;
	int rc = wd_db_conn_query(c,
	                          "INSERT INTO orders (wood_type, quantity, order_status) "
	                          "VALUES ($1, $2, $3) RETURNING " COLUMNS,
	                          3, p, &r);
	if (!rc) {
		out->status = 201;
		out->body = order_json(r, 0);
	}
	wd_db_result_free(r);
	return rc;
}

static void create(struct wd_http_req *req)
{
	struct wood_item it;
	if (wood_api_begin(req, &state, error_rate, 500, "Simulated DB insertion error") ||
	    wood_api_item(req, &it, ""))
		return;
	wood_api_run_item(req, &state, "order", "create", &it, insert_order,
	                  "Unexpected error during order creation");
}

/*
 * The orders of a batch, with two statements whatever their number. Each item's row must
 * come back to that item, and RETURNING promises no order, so the ids are taken first
 * (nextval of the orders sequence, as the column's default would) and given to the items
 * in ascending order; the INSERT then writes those ids, and each returned row finds its
 * item by its id. Ids are unique, so the mapping never depends on row order.
 */
static int insert_orders(struct wd_db_conn *c, void *ud, struct wood_batch_item *items,
                         const size_t *todo, size_t n)
{
	WD_UNUSED(ud);
	struct wd_buf ids = WD_BUF_INIT, types = WD_BUF_INIT, quantities = WD_BUF_INIT;
	struct wd_db_result *r = NULL;
	int64_t *id = xcalloc(n, sizeof(*id));
	char count[24];
	snprintf(count, sizeof(count), "%zu", n);
	const char *pn[] = {count};
	int rc = wd_db_conn_query(c,
	                          "SELECT nextval(pg_get_serial_sequence('orders', 'id')) "
	                          "FROM generate_series(1, $1::integer)",
	                          1, pn, &r);
	if (rc)
		goto out;
	if ((size_t)wd_db_nrows(r) != n) {
		rc = WD_EIO;
		goto out;
	}
	for (size_t k = 0; k < n; k++)
		wd_db_get_int(r, (int)k, 0, &id[k]);
	qsort(id, n, sizeof(*id), id_cmp);
	wd_db_result_free(r);
	r = NULL;
	for (size_t k = 0; k < n; k++) {
		const struct wood_item *it = items[todo[k]].item;
		wd_db_array_add_int(&ids, id[k]);
		wd_db_array_add(&types, wood_type_label(it->type));
		wd_db_array_add_int(&quantities, it->quantity);
	}
	wd_db_array_end(&ids);
	wd_db_array_end(&types);
	wd_db_array_end(&quantities);
	const char *p[] = {ids.ptr, types.ptr, quantities.ptr, wood_status_label(WOOD_REGISTERED)};
	rc = wd_db_conn_query(c,
	                      "INSERT INTO orders (id, wood_type, quantity, order_status) "
	                      "SELECT u.id, u.wood_type, u.quantity, $4 FROM "
	                      "unnest($1::integer[], $2::woodtype[], $3::integer[]) "
	                      "AS u(id, wood_type, quantity) RETURNING " COLUMNS,
	                      4, p, &r);
	for (int row = 0; !rc && row < wd_db_nrows(r); row++) {
		int64_t got = 0;
		wd_db_get_int(r, row, 0, &got);
		const int64_t *at = bsearch(&got, id, n, sizeof(*id), id_cmp);
		if (at) {
			struct wood_reply *out = &items[todo[at - id]].reply;
			out->status = 201;
			out->body = order_json(r, row);
		}
	}
out:
	wd_db_result_free(r);
	wd_buf_release(&ids);
	wd_buf_release(&types);
	wd_buf_release(&quantities);
	free(id);
	return rc;
}

static void create_batch(struct wd_http_req *req)
{
	static const struct wood_batch_spec spec = {
	    .scope = "order",
	    .verb = "create",
	    .field = "orders",
	    .simulated = "Simulated DB insertion error",
	    .fn = insert_orders,
	    .unexpected = "Unexpected error during order creation",
	};
	struct wood_batch_spec s = spec;
	s.error_rate = error_rate;
	wood_api_run_batch(req, &state, &s);
}

/* skip and limit, the seed's pagination; limit 10 by default. */
static int page(struct wd_http_req *req, char skip[24], char limit[24])
{
	int64_t s, l;
	if (wd_http_query_int(req, "skip", 0, 0, INT32_MAX, &s) ||
	    wd_http_query_int(req, "limit", 10, 0, 10000, &l)) {
		wd_http_reply_error(
		    req, 400, "skip and limit must be integers (skip >= 0, 0 <= limit <= 10000)");
		return WD_EINVAL;
	}
	snprintf(skip, 24, "%lld", (long long)s);
	snprintf(limit, 24, "%lld", (long long)l);
	return 0;
}

static void reply_rows(struct wd_http_req *req, const char *sql, int n, const char *const *p,
                       const char *unexpected)
{
	struct wd_db_result *r = NULL;
	int rc = wd_db_query(state.db, sql, n, p, &r);
	if (rc)
		wood_api_db_error(req, rc, unexpected);
	else
		wd_http_reply_json(req, 200, orders_json(r));
	wd_db_result_free(r);
}

static void list(struct wd_http_req *req)
{
	char skip[24], limit[24];
	if (wood_api_begin(req, &state, error_rate, 502, "Simulated API error during order list") ||
	    page(req, skip, limit))
		return;
	const char *p[] = {skip, limit};
	reply_rows(req, "SELECT " COLUMNS " FROM orders ORDER BY id OFFSET $1 LIMIT $2", 2, p,
	           "Unexpected error during order list");
}

static void by_status(struct wd_http_req *req)
{
	char skip[24], limit[24];
	if (wood_api_begin(req, &state, error_rate, 502,
	                   "Simulated API error during order list by status"))
		return;
	const char *text = wd_http_param(req, "status");
	enum wood_status s;
	if (wood_status_parse(text, &s) || strcmp(text, wood_status_wire(s))) {
		wd_http_reply_error(req, 400, "Invalid status: %s", text);
		return;
	}
	if (page(req, skip, limit))
		return;
	const char *p[] = {wood_status_label(s), skip, limit};
	reply_rows(req,
	           "SELECT " COLUMNS " FROM orders WHERE order_status = $1 ORDER BY id "
	           "OFFSET $2 LIMIT $3",
	           3, p, "Unexpected error during order list by status");
}

/* The {id} of the path; the seed's framework answered 404 for a non-integer id. */
static int order_id(struct wd_http_req *req, char id[24])
{
	int64_t v;
	if (wd_http_param_int(req, "id", 1, INT32_MAX, &v)) {
		wd_http_reply_error(req, 404,
		                    "Order not found: order id must be a positive integer");
		return WD_EINVAL;
	}
	snprintf(id, 24, "%lld", (long long)v);
	return 0;
}

static void read_one(struct wd_http_req *req)
{
	char id[24];
	if (wood_api_begin(req, &state, error_rate, 502, "Simulated API error during order read") ||
	    order_id(req, id))
		return;
	const char *p[] = {id};
	struct wd_db_result *r = NULL;
	int rc = wd_db_query(state.db, "SELECT " COLUMNS " FROM orders WHERE id = $1", 1, p, &r);
	if (rc)
		wood_api_db_error(req, rc, "Unexpected error during order read");
	else if (!wd_db_nrows(r))
		wd_http_reply_error(req, 404, "Order not found");
	else
		wd_http_reply_json(req, 200, order_json(r, 0));
	wd_db_result_free(r);
}

static void update(struct wd_http_req *req)
{
	char id[24];
	if (wood_api_begin(req, &state, error_rate, 502,
	                   "Simulated API error during order status update") ||
	    order_id(req, id))
		return;
	json_t *body = wd_http_json(req);
	json_t *st = json_is_object(body) ? json_object_get(body, "order_status") : NULL;
	if (!st) {
		wd_http_reply_error(req, 400, "Missing 'order_status' in request body");
		return;
	}
	enum wood_status s;
	if (!json_is_string(st) || wood_status_parse(json_string_value(st), &s) ||
	    strcmp(json_string_value(st), wood_status_wire(s))) {
		wd_http_reply_error(
		    req, 400,
		    "Invalid order status: expected one of ready, shipped, blocked, "
		    "closed, unknown, registered");
		return;
	}
	/* Any status from any status, as in the seed (there are no transition rules). */
	const char *p[] = {id, wood_status_label(s)};
	struct wd_db_result *r = NULL;
	int rc = wd_db_query(state.db,
	                     "UPDATE orders SET order_status = $2 WHERE id = $1 RETURNING " COLUMNS,
	                     2, p, &r);
	if (rc)
		wood_api_db_error(req, rc, "Unexpected error during order status update");
	else if (!wd_db_nrows(r))
		wd_http_reply_error(req, 404, "Order not found");
	else
		wd_http_reply_json(req, 200, order_json(r, 0));
	wd_db_result_free(r);
}

static const struct wd_http_route routes[] = {
    /* More literal segments win, so /orders/batch is never taken for /orders/{id}; a
     * GET or PUT of /orders/batch stays with /orders/{id} (404: not an order id). */
    {"POST", "/orders", create, WD_HTTP_JSON},
    {"POST", "/orders/batch", create_batch, WD_HTTP_JSON_OBJECT},
    {"GET", "/orders", list, 0},
    {"GET", "/orders/status/{status}", by_status, 0},
    {"GET", "/orders/{id}", read_one, 0},
    {"PUT", "/orders/{id}", update, WD_HTTP_JSON},
    WD_HTTP_ROUTE_END,
};

int order_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	return wood_api_main(WOOD_SCHEMA_ORDER, wood_schema_order, wood_schema_order_len, (int)port,
	                     routes, &state);
}
