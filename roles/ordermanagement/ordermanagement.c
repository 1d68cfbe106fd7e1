/* ordermanagement.c - the worker that turns registered orders into ready or blocked ones.
 *
 * Calls:    every INTERVAL_SECONDS: GET API_URL_ORDERS/orders/status/registered (10 at most,
 *           the API's default page), then for each order POST API_URL_STOCKS/stocks/decrease
 *           with Idempotency-Key order-<id>, and PUT API_URL_ORDERS/orders/{id}
 *           {"order_status": "ready"|"blocked"}.
 * Outcome:  ready when stock was taken; blocked for insufficient or unknown stock, or a
 *           simulated failure (probability ERROR_RATE, stock untouched). When the stock API
 *           or the READY update fails, the order stays registered and the next cycle tries
 *           again: the decrease replays under its key, so stock is never taken twice.
 * Serves:   /health, /ready, /metrics on ADMIN_PORT.
 * Spans:    INTERNAL "process order" per order. Metrics: orders.managed{result}.
 */
#include <stdio.h>
#include <string.h>

#include "woodctl/cfg.h"
#include "woodctl/http_client.h"
#include "woodctl/log.h"
#include "woodctl/otel.h"
#include "woodctl/role.h"
#include "woodctl/run.h"
#include "woodctl/wood.h"
#include "woodctl/wood_loop.h"

static double error_rate;
static int64_t interval_us;
static const char *orders_url;
static const char *stocks_url;
static int64_t admin_port;

const struct wd_cfg_var ordermanagement_cfg[] = {
    WOOD_CFG_ERROR_RATE(error_rate),
    WOOD_CFG_INTERVAL(interval_us),
    WD_CFG_U("API_URL_ORDERS", "http://127.0.0.1:5000", "http,https", orders_url,
             "base URL of the order API"),
    WD_CFG_U("API_URL_STOCKS", "http://127.0.0.1:5001", "http,https", stocks_url,
             "base URL of the stock API"),
    WOOD_CFG_ADMIN_PORT(admin_port, "9105"),
    WD_CFG_END,
};

static struct wd_instrument *managed;

/* Calls the APIs with a JSON body; 0 with *status and the body in resp, or a transport error. */
static int call(const char *method, const char *url, const char *body, const char *key,
                struct wd_http_resp *resp)
{
	char header[96];
	const char *headers[] = {header, NULL};
	if (key)
		snprintf(header, sizeof(header), "Idempotency-Key: %s", key);
	struct wd_http_call c = {
	    .method = method,
	    .url = url,
	    .headers = key ? headers : NULL,
	    .body = body,
	    .body_len = body ? strlen(body) : 0,
	    .content_type = body ? "application/json" : NULL,
	    .timeout_ms = 5000,
	};
	return wd_http_call(&c, resp);
}

static const char *resp_text(const struct wd_http_resp *r)
{
	return r->status ? (r->body.ptr ? r->body.ptr : "") : r->error;
}

enum outcome { OUT_READY, OUT_BLOCKED, OUT_ERROR, OUT_RETRY };

static bool set_status(int64_t id, const char *status, const char *repr)
{
	char url[600], body[64];
	snprintf(url, sizeof(url), "%s/orders/%lld", orders_url, (long long)id);
	snprintf(body, sizeof(body), "{\"order_status\": \"%s\"}", status);
	struct wd_http_resp r = WD_HTTP_RESP_INIT;
	int rc = call("PUT", url, body, NULL, &r);
	bool ok = !rc && r.status == 200;
	if (ok && !strcmp(status, "ready"))
		wd_info("Order status updated to READY for order: %s", repr);
	else if (ok)
		wd_info("Order status updated to BLOCKED for order: %s", repr);
	else if (!strcmp(status, "ready"))
		wd_error("Failed to update order %lld status to {'order_status': '%s'}: %s; "
		         "response=%s",
		         (long long)id, status, rc ? wd_strerror(rc) : "HTTP error", resp_text(&r));
	else
		wd_error("Could not mark order %lld as BLOCKED: %s. Continuing.", (long long)id,
		         resp_text(&r));
	wd_http_resp_release(&r);
	return ok;
}

static enum outcome process(const json_t *order, const char *repr)
{
	int64_t id = json_integer_value(json_object_get(order, "id"));
	const char *why = NULL, *type = NULL;
	if (wood_draw_failure(error_rate)) {
		why = "external API or DB failure during order processing";
		wood_simulated_failure(why);
	} else {
		wd_info("Processing order: %s", repr);
		char url[600], body[128], key[48];
		snprintf(url, sizeof(url), "%s/stocks/decrease", stocks_url);
		snprintf(body, sizeof(body), "{\"wood_type\": \"%s\", \"quantity\": %lld}",
		         json_string_value(json_object_get(order, "wood_type")),
		         (long long)json_integer_value(json_object_get(order, "quantity")));
		snprintf(key, sizeof(key), "order-%lld", (long long)id);
		struct wd_http_resp r = WD_HTTP_RESP_INIT;
		int rc = call("POST", url, body, key, &r);
		int st = rc ? 0 : r.status;
		if (st == 400) {
			why = "Insufficient stock";
			type = "InsufficientStockError";
		} else if (st == 404) {
			why = "Stock not found";
			type = "StockNotFoundError";
		} else if (st != 200) {
			/* Not the order's fault: leave it registered for the next cycle. */
			wd_error("Failed to process order %lld: %s", (long long)id, resp_text(&r));
			struct wd_span *s = wd_span_current();
			if (s)
				wd_span_record_error(s, rc ? "TransportError" : "HTTPError",
				                     resp_text(&r));
			wd_http_resp_release(&r);
			return OUT_RETRY;
		}
		wd_http_resp_release(&r);
		if (!why) {
			wd_info("Stock decreased for order: %s", repr);
			if (set_status(id, "ready", repr))
				return OUT_READY;
			struct wd_span *s = wd_span_current();
			if (s)
				wd_span_record_error(s, "HTTPError", "order status update failed");
			return OUT_RETRY;
		}
		wd_error("Failed to process order %lld: %s", (long long)id, why);
		struct wd_span *s = wd_span_current();
		if (s)
			wd_span_record_error(s, type, why);
	}
	set_status(id, "blocked", repr);
	return type ? OUT_BLOCKED : OUT_ERROR;
}

static void cycle(void)
{
	char url[600];
	snprintf(url, sizeof(url), "%s/orders/status/registered", orders_url);
	struct wd_http_resp r = WD_HTTP_RESP_INIT;
	int rc = call("GET", url, NULL, NULL, &r);
	json_t *orders = !rc && r.status == 200 ? wd_http_resp_json(&r) : NULL;
	if (!json_is_array(orders)) {
		wd_error("Failed to fetch orders: %s", rc                ? r.error
		                                       : r.status == 200 ? "not a JSON array"
		                                                         : resp_text(&r));
		json_decref(orders);
		wd_http_resp_release(&r);
		return;
	}
	wd_http_resp_release(&r);
	if (json_array_size(orders))
		wd_info("Found %zu registered orders to process", json_array_size(orders));
	static const char *const results[] = {"ready", "blocked", "error", "retry"};
	size_t i;
	json_t *o;
	json_array_foreach(orders, i, o)
	{
		if (wd_run_stopping())
			break;
		if (!json_is_integer(json_object_get(o, "id")))
			continue;
		struct wd_buf repr = WD_BUF_INIT;
		wood_json_repr(o, &repr);
		struct wood_work w;
		wood_work_begin(&w, "process order");
		enum outcome out = process(o, repr.ptr);
		wood_work_end(&w);
		struct wd_attr a = WD_A_STR("result", results[out]);
		wd_metric_add(managed, 1, &a, 1);
		wd_buf_release(&repr);
	}
	json_decref(orders);
}

int ordermanagement_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	if (wood_admin_start((int)admin_port))
		return 1;
	managed = wd_instrument_new(WD_COUNTER, "orders.managed", "{order}",
	                            "orders processed by the worker, by result", true, NULL, 0);
	wd_info("Starting order management service with %g seconds interval",
	        (double)interval_us / 1e6);
	while (!wd_run_stopping()) {
		cycle();
		wd_run_sleep_us(interval_us);
	}
	return 0;
}
