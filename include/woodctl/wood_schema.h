/* wood_schema.h - the wood business's PostgreSQL schema, as migration lists for the order
 * and stock roles (seed-spec §4.9), plus the idempotency table both APIs use.
 *
 * Both lists are written so that they can share one database (as the seed does) or use
 * separate ones: each creates the shared enum type woodtype only when it is missing, and
 * each adopts tables a seed deployment already created. wd_db_migrate's advisory lock
 * makes two roles starting together take turns.
 */
#ifndef WOODCTL_WOOD_SCHEMA_H
#define WOODCTL_WOOD_SCHEMA_H

#include "woodctl/db.h"

/* Migration components, as recorded in wd_migrations. */
#define WOOD_SCHEMA_ORDER "order"
#define WOOD_SCHEMA_STOCK "stock"

/* Enum labels in the database are the upper-case names; the APIs speak lower case. */
extern const char *const wood_types[];          /* "OAK", "MAPLE", "BIRCH", "ELM", "PINE", NULL */
extern const char *const wood_order_statuses[]; /* "READY" ... "REGISTERED", NULL */

/*
 * Order: types woodtype and orderstatus, table orders (id serial, wood_type, quantity,
 * order_status) with index ix_orders_id, and table idempotency_keys.
 */
extern const struct wd_db_migration wood_schema_order[];
extern const size_t wood_schema_order_len;

/* Stock: type woodtype, table stocks (wood_type primary key, quantity) with unique index
 * ix_stocks_wood_type, and table idempotency_keys. */
extern const struct wd_db_migration wood_schema_stock[];
extern const size_t wood_schema_stock_len;

/*
 * idempotency_keys: one row per (scope, key): scope is the API ("order", "stock"), key the
 * client's Idempotency-Key header, request_hash a digest of the request (a reused key with
 * a different request is a 422/409 for the role to decide), status and body the stored
 * response, created_at for expiry. Insert the row first (INSERT ... ON CONFLICT DO
 * NOTHING) in the transaction that does the work, so a concurrent retry waits for it.
 */

#endif
