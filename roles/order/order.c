/* order.c - the order API: a REST service over the "orders" table in PostgreSQL.
 *
 * Serves:   POST /orders, GET /orders, GET /orders/status/{status}, GET /orders/{id},
 *           PUT /orders/{id} (both /orders and /orders/ forms), /health, /ready, /metrics.
 * Touches:  PostgreSQL table orders (enum types woodtype, orderstatus) in DATABASE_URL.
 * Failures: with probability ERROR_RATE a request fails first thing (POST 500, others 502).
 */
#include "woodctl/cfg.h"
#include "woodctl/role.h"
#include "woodctl/wood.h"

static double error_rate;
static int64_t port;

const struct wd_cfg_var order_cfg[] = {
    WOOD_CFG_ERROR_RATE(error_rate),
    WD_CFG_I("PORT", WOOD_PORT_ORDER, 1, 65535, port, "TCP port the order API listens on"),
    WD_CFG_END,
};

int order_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	return wd_role_not_implemented("order");
}
