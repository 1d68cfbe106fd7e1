/* stock.c - the stock API: stock levels per wood type in PostgreSQL.
 *
 * Serves:   POST /stocks (accumulate), GET /stocks, GET /stocks/{wood_type},
 *           POST /stocks/decrease (atomic, never below zero), /health, /ready, /metrics.
 * Touches:  PostgreSQL table stocks (enum type woodtype) in DATABASE_URL.
 * Failures: with probability ERROR_RATE a request fails first thing (POST 500, GET 502).
 */
#include "woodctl/cfg.h"
#include "woodctl/role.h"
#include "woodctl/wood.h"

static double error_rate;
static int64_t port;

const struct wd_cfg_var stock_cfg[] = {
    WOOD_CFG_ERROR_RATE(error_rate),
    WD_CFG_I("PORT", WOOD_PORT_STOCK, 1, 65535, port, "TCP port the stock API listens on"),
    WD_CFG_END,
};

int stock_main(int argc, char **argv)
{
	WD_UNUSED(argc);
	WD_UNUSED(argv);
	return wd_role_not_implemented("stock");
}
