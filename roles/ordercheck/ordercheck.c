/* ordercheck.c - registers the orders customers send, through the order API.
 *
 * Consumes: Kafka topic "orders" in group "order-check-group" (earliest, at-least-once:
 *           offsets committed only once the API accepted the order).
 * Calls:    POST API_URL/orders with the message, an Idempotency-Key from topic/partition/offset.
 * Failures: poison messages go to "orders.dlq" with the reason; API down means retry.
 * Spans:    CONSUMER "process orders", linked to the producer span.
 */
#include "woodctl/cfg.h"
#include "woodctl/role.h"
#include "woodctl/wood.h"

static double error_rate;
static const char *api_url;

const struct wd_cfg_var ordercheck_cfg[] = {
    WOOD_CFG_ERROR_RATE(error_rate),
    WD_CFG_U("API_URL", "http://127.0.0.1:5000", "http,https", api_url,
             "base URL of the order API; orders are posted to API_URL/orders"),
    WD_CFG_END,
};

int ordercheck_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	return wd_role_not_implemented("ordercheck");
}
