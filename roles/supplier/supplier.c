/* supplier.c - the supplier: delivers wood by producing stock messages to Kafka.
 *
 * Produces: Kafka topic "stocks", value {"wood_type": "...", "quantity": N} (1-100), no key,
 *           W3C traceparent/tracestate headers; one message every INTERVAL_SECONDS.
 * Failures: with probability ERROR_RATE an iteration fails (ERROR log and span), nothing sent.
 * Serves:   /health, /ready, /metrics on ADMIN_PORT.
 * Spans:    INTERNAL "create delivery" per iteration, with the core's PRODUCER "send stocks"
 *          inside it. Metrics: stock_deliveries.created{wood_type}, .failed.
 */
#include "woodctl/cfg.h"
#include "woodctl/role.h"
#include "woodctl/wood.h"
#include "woodctl/wood_loop.h"

static double error_rate;
static int64_t interval_us;
static int64_t admin_port;

const struct wd_cfg_var supplier_cfg[] = {
    WOOD_CFG_ERROR_RATE(error_rate),
    WOOD_CFG_INTERVAL(interval_us),
    WOOD_CFG_ADMIN_PORT(admin_port, "9102"),
    WD_CFG_END,
};

int supplier_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	struct wood_producer p = {
	    .topic = WOOD_TOPIC_STOCKS,
	    .noun = "stock",
	    .starting = "Supplier service starting",
	    .metric = "stock_deliveries",
	    .error_rate = error_rate,
	    .interval_us = interval_us,
	    .admin_port = (int)admin_port,
	};
	return wood_producer_run(&p);
}
