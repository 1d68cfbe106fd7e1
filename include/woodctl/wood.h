/* wood.h - the wood business's shared contracts: topics, groups, ports, common settings. */
#ifndef WOODCTL_WOOD_H
#define WOODCTL_WOOD_H

#include "woodctl/cfg.h"

/* Kafka topics and consumer groups (seed-spec §5). */
#define WOOD_TOPIC_ORDERS "orders"
#define WOOD_TOPIC_STOCKS "stocks"
#define WOOD_GROUP_ORDERCHECK "order-check-group"
#define WOOD_GROUP_SUPPLIERCHECK "stock-check-group"

/* Default ports (seed-spec Appendix A). */
#define WOOD_PORT_ORDER "5000"
#define WOOD_PORT_STOCK "5001"

/* ERROR_RATE: every business role draws once per operation against it (seed-spec §3.3). */
#define WOOD_CFG_ERROR_RATE(var)                 \
	WD_CFG_F("ERROR_RATE", "0.1", 0, 1, var, \
	         "probability of a simulated failure per operation (0 = never, 1 = always)")

/* INTERVAL_SECONDS: the producers' and the worker's pace; fractions make load generators. */
#define WOOD_CFG_INTERVAL(var)                                       \
	WD_CFG_D("INTERVAL_SECONDS", "60", 1000, 0.1, 86400000, var, \
	         "pause between iterations, in seconds (fractions allowed)")

#endif
