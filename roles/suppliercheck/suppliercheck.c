/* suppliercheck.c - records the stock deliveries suppliers send, through the stock API.
 *
 * Consumes: Kafka topic "stocks" in group "stock-check-group" (earliest, at-least-once).
 * Calls:    POST API_URL/stocks with the message, an Idempotency-Key from topic/partition/offset.
 * Failures: poison messages go to "stocks.dlq" with the reason; API down means retry.
 * Spans:    CONSUMER "process stocks", linked to the producer span.
 */
#include "woodctl/cfg.h"
#include "woodctl/role.h"
#include "woodctl/wood.h"
#include "woodctl/wood_loop.h"

static double error_rate;
static const char *api_url;
static int64_t admin_port;

const struct wd_cfg_var suppliercheck_cfg[] = {
    WOOD_CFG_ERROR_RATE(error_rate),
    WD_CFG_U("API_URL", "http://127.0.0.1:5001", "http,https", api_url,
             "base URL of the stock API; deliveries are posted to API_URL/stocks"),
    WOOD_CFG_ADMIN_PORT(admin_port, "9104"),
    WD_CFG_END,
};

int suppliercheck_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	struct wood_check c = {
	    .topic = WOOD_TOPIC_STOCKS,
	    .group = WOOD_GROUP_SUPPLIERCHECK,
	    .noun = "stock",
	    .starting = "SupplierCheck service starting",
	    .metric = "stock_deliveries",
	    .api_url = api_url,
	    .path = "/stocks",
	    .error_rate = error_rate,
	    .admin_port = (int)admin_port,
	};
	return wood_check_run(&c);
}
