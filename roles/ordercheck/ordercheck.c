/* ordercheck.c - registers the orders customers send, through the order API.
 *
 * Consumes: Kafka topic "orders" in group "order-check-group" (earliest, at-least-once:
 *           offsets committed only once the API accepted the order).
 * Calls:    POST API_URL/orders with the message, an Idempotency-Key from topic/partition/offset;
 *           when several messages are waiting, up to BATCH_MAX of them in one
 *           POST API_URL/orders/batch (each with its key; one call per message again if the
 *           API has no such route).
 * Failures: poison messages go to "orders.dlq" with the reason; API down means retry.
 * Spans:    CONSUMER "process orders", linked to the producer span.
 */
#include "woodctl/cfg.h"
#include "woodctl/role.h"
#include "woodctl/wood.h"
#include "woodctl/wood_loop.h"

static double error_rate;
static const char *api_url;
static int64_t admin_port;
static int64_t batch_max;

const struct wd_cfg_var ordercheck_cfg[] = {
    WOOD_CFG_ERROR_RATE(error_rate),
    WD_CFG_U("API_URL", "http://127.0.0.1:5000", "http,https", api_url,
             "base URL of the order API; orders are posted to API_URL/orders"),
    WOOD_CFG_ADMIN_PORT(admin_port, "9103"),
    WD_CFG_I("BATCH_MAX", "200", 1, 1000, batch_max,
             "most orders sent in one API call when several are waiting (1: one call per "
             "order, as the seed)"),
    WD_CFG_END,
};

int ordercheck_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	struct wood_check c = {
	    .topic = WOOD_TOPIC_ORDERS,
	    .group = WOOD_GROUP_ORDERCHECK,
	    .noun = "order",
	    .starting = "OrderCheck service starting",
	    .metric = "orders",
	    .api_url = api_url,
	    .path = "/orders",
	    .batch_path = batch_max > 1 ? "/orders/batch" : NULL,
	    .batch_max = (int)batch_max,
	    .error_rate = error_rate,
	    .admin_port = (int)admin_port,
	};
	return wood_check_run(&c);
}
