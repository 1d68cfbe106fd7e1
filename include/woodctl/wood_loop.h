/* wood_loop.h - the loops of the business roles that are not APIs: the producers
 * (customer, supplier), the checks (ordercheck, suppliercheck), and their admin server.
 * Each role file is then a settings table and one call. */
#ifndef WOODCTL_WOOD_LOOP_H
#define WOODCTL_WOOD_LOOP_H

#include <jansson.h>

#include "woodctl/buf.h"
#include "woodctl/cfg.h"
#include "woodctl/otel.h"

/* ADMIN_PORT: where a loop role serves /health, /ready and /metrics (0: nowhere). */
#define WOOD_CFG_ADMIN_PORT(var, def)              \
	WD_CFG_I("ADMIN_PORT", def, 0, 65535, var, \
	         "TCP port of /health, /ready and /metrics (0: no admin server)")

/* Starts the admin server of a loop role (nothing when port is 0). ready NULL: ready as
 * soon as it runs. Returns 0 or the server's start error (logged). */
int wood_admin_start(int port);

/* Starts an INTERNAL root span for one unit of work and makes it current. */
struct wood_work {
	struct wd_span *span;
	struct wd_span *prev;
};
void wood_work_begin(struct wood_work *w, const char *name);
void wood_work_end(struct wood_work *w);

/* Python's repr of a JSON object, as the seed's log lines show dicts:
 * {'id': 7, 'order_status': 'registered'}. */
void wood_json_repr(const json_t *j, struct wd_buf *out);

/* A producer role: one random item every interval to topic. */
struct wood_producer {
	const char *topic;    /* "orders" */
	const char *noun;     /* "order", "stock": in the seed's log texts */
	const char *starting; /* "Customer service starting" */
	const char *metric;   /* "orders" -> orders.created, orders.failed */
	double error_rate;
	int64_t interval_us; /* one item per interval, on average */
	int admin_port;
};
int wood_producer_run(const struct wood_producer *p);

/* A check role: consumes topic in group and posts each item to api_url + path. */
struct wood_check {
	const char *topic;    /* "orders" */
	const char *group;    /* "order-check-group" */
	const char *noun;     /* "order", "stock" */
	const char *starting; /* "OrderCheck service starting" */
	const char *metric;   /* "orders" -> orders.processed, orders.processing_errors */
	const char *api_url;  /* "http://order:5000" */
	const char *path;     /* "/orders" */
	/* The API's batch route ("/orders/batch"; NULL: none): when several messages are
	 * waiting, up to batch_max of them go in one call. An API without the route (404 or
	 * 405) is then called one message at a time, as the seed did. */
	const char *batch_path;
	int batch_max;
	double error_rate;
	int admin_port;
};
int wood_check_run(const struct wood_check *c);

#endif
