/* ordermanagement.c - the worker that turns registered orders into ready or blocked ones.
 *
 * Calls:    every INTERVAL_SECONDS: GET API_URL_ORDERS/orders/status/registered, then per order
 *           POST API_URL_STOCKS/stocks/decrease and PUT API_URL_ORDERS/orders/{id}
 *           {"order_status": "ready"|"blocked"}.
 * Failures: with probability ERROR_RATE an order is blocked without touching stock.
 * Spans:    INTERNAL "process order" per order. Metrics: orders.managed{result}.
 */
#include "woodctl/cfg.h"
#include "woodctl/role.h"
#include "woodctl/wood.h"

static double error_rate;
static int64_t interval_ms;
static const char *orders_url;
static const char *stocks_url;

const struct wd_cfg_var ordermanagement_cfg[] = {
    WOOD_CFG_ERROR_RATE(error_rate),
    WOOD_CFG_INTERVAL(interval_ms),
    WD_CFG_U("API_URL_ORDERS", "http://127.0.0.1:5000", "http,https", orders_url,
             "base URL of the order API"),
    WD_CFG_U("API_URL_STOCKS", "http://127.0.0.1:5001", "http,https", stocks_url,
             "base URL of the stock API"),
    WD_CFG_END,
};

int ordermanagement_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	return wd_role_not_implemented("ordermanagement");
}
