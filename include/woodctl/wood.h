/* wood.h - the wood business's shared contracts: topics, groups, ports, common settings. */
#ifndef WOODCTL_WOOD_H
#define WOODCTL_WOOD_H

#include <jansson.h>

#include "woodctl/buf.h"
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
#define WOOD_CFG_INTERVAL(var)                                                               \
	WD_CFG_DUS("INTERVAL_SECONDS", "60", 1000, 0.01, 86400000, var,                      \
	           "time between iterations, in seconds (fractions allowed, down to 10 us; " \
	           "customer and supplier keep it as an average pace)")

/* Wood types and order statuses: lower-case on the wire, upper-case labels in PostgreSQL's
 * enum types (seed-spec §2.1, §4.9). The order of each list is the seed's declaration order. */
enum wood_type { WOOD_OAK, WOOD_MAPLE, WOOD_BIRCH, WOOD_ELM, WOOD_PINE, WOOD_TYPES };
enum wood_status {
	WOOD_READY,
	WOOD_SHIPPED,
	WOOD_BLOCKED,
	WOOD_CLOSED,
	WOOD_UNKNOWN,
	WOOD_REGISTERED,
	WOOD_STATUSES
};

const char *wood_type_wire(enum wood_type t);     /* "oak" */
const char *wood_type_label(enum wood_type t);    /* "OAK" */
const char *wood_status_wire(enum wood_status s); /* "registered" */
const char *wood_status_label(enum wood_status s);
/* Parses a wire value (exact, lower-case) or a database label (exact, upper-case);
 * WD_EINVAL for anything else. */
int wood_type_parse(const char *s, enum wood_type *out);
int wood_status_parse(const char *s, enum wood_status *out);

/* The bounds of a quantity; anything else is rejected, not coerced (the seed accepted
 * "5", 5.0 and negative numbers). */
#define WOOD_QUANTITY_MIN 1
#define WOOD_QUANTITY_MAX 1000000

/* An order or a stock delivery: the message on Kafka and the body of the create calls. */
struct wood_item {
	enum wood_type type;
	int64_t quantity;
};

/*
 * Validates a JSON body {"wood_type": ..., "quantity": ...} (other keys ignored). On
 * failure returns WD_EINVAL and writes a message naming the field into err, e.g.
 * "quantity must be an integer between 1 and 1000000".
 */
int wood_item_from_json(const json_t *body, struct wood_item *out, char *err, size_t errsz);
/* Parses and validates a Kafka message value (UTF-8 JSON, at most WOOD_MESSAGE_MAX bytes). */
#define WOOD_MESSAGE_MAX 4096
int wood_item_parse(const char *data, size_t len, struct wood_item *out, char *err, size_t errsz);
/* The message value, as the seed wrote it: {"wood_type": "oak", "quantity": 42}. */
void wood_item_json(const struct wood_item *it, struct wd_buf *out);
/* The seed's log form of an item, a Python dict: {'wood_type': 'oak', 'quantity': 42};
 * with enum_member, the producers' form {'wood_type': <WoodType.OAK: 'oak'>, ...}. */
void wood_item_repr(const struct wood_item *it, bool enum_member, struct wd_buf *out);

/* A random item as customers and suppliers make them: any type, quantity 1..100. */
void wood_item_random(struct wood_item *out);

/* One ERROR_RATE draw: true when this operation must fail (uniform [0,1) < rate). */
bool wood_draw_failure(double rate);
/*
 * Reports a simulated failure the way every role does: an ERROR log line with message
 * (carrying the current trace id) and the current span marked ERROR with error.type
 * "SimulatedError" and an exception event (seed-spec §3.3 [later]).
 */
void wood_simulated_failure(const char *message);
/* Uniform double in [0,1) from a per-thread generator seeded from the kernel. */
double wood_random(void);

/* The Idempotency-Key for a Kafka message: "<topic>-<partition>-<offset>". */
void wood_idempotency_key(const char *topic, int32_t partition, int64_t offset, char *out,
                          size_t outsz);

#endif
