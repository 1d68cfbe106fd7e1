/* customer.c - the customer: orders wood by producing to Kafka.
 *
 * Produces: Kafka topic "orders", value {"wood_type": "...", "quantity": N} (1-100), no key,
 *           W3C traceparent/tracestate headers; one message every INTERVAL_SECONDS.
 * Failures: with probability ERROR_RATE an iteration fails (ERROR log and span), nothing sent.
 * Serves:   /health, /ready, /metrics on ADMIN_PORT.
 * Spans:    INTERNAL "create order" per iteration, with the core's PRODUCER "send orders"
 *          inside it. Metrics: orders.created{wood_type}, orders.failed.
 */
#include "woodctl/cfg.h"
#include "woodctl/role.h"
#include "woodctl/wood.h"
#include "woodctl/wood_loop.h"

static double error_rate;
static int64_t interval_us;
static int64_t admin_port;

const struct wd_cfg_var customer_cfg[] = {
    WOOD_CFG_ERROR_RATE(error_rate),
    WOOD_CFG_INTERVAL(interval_us),
    WOOD_CFG_ADMIN_PORT(admin_port, "9101"),
    WD_CFG_END,
};

int customer_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	struct wood_producer p = {
	    .topic = WOOD_TOPIC_ORDERS,
	    .noun = "order",
	    .starting = "Customer service starting",
	    .metric = "orders",
	    .error_rate = error_rate,
	    .interval_us = interval_us,
	    .admin_port = (int)admin_port,
	};
	return wood_producer_run(&p);
}
