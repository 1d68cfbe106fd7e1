/* wood_schema.c - the order and stock schema as migration lists (seed-spec §4.9). */
#include "woodctl/wood_schema.h"

const char *const wood_types[] = {"OAK", "MAPLE", "BIRCH", "ELM", "PINE", NULL};
const char *const wood_order_statuses[] = {"READY",   "SHIPPED",    "BLOCKED", "CLOSED",
                                           "UNKNOWN", "REGISTERED", NULL};

/* CREATE TYPE has no IF NOT EXISTS; a type created by the seed, or by the other list in
 * a shared database, is adopted as it is. */
#define CREATE_WOODTYPE                                                           \
	"DO $$ BEGIN"                                                             \
	" CREATE TYPE woodtype AS ENUM ('OAK', 'MAPLE', 'BIRCH', 'ELM', 'PINE');" \
	" EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n"

#define CREATE_IDEMPOTENCY                                \
	"CREATE TABLE IF NOT EXISTS idempotency_keys ("   \
	" scope text NOT NULL,"                           \
	" key text NOT NULL,"                             \
	" request_hash text NOT NULL,"                    \
	" status integer,"                                \
	" body text,"                                     \
	" created_at timestamptz NOT NULL DEFAULT now()," \
	" PRIMARY KEY (scope, key));\n"

const struct wd_db_migration wood_schema_order[] = {
    {1, "types woodtype and orderstatus, table orders",
     CREATE_WOODTYPE "DO $$ BEGIN"
                     " CREATE TYPE orderstatus AS ENUM ('READY', 'SHIPPED', 'BLOCKED',"
                     " 'CLOSED', 'UNKNOWN', 'REGISTERED');"
                     " EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n"
                     "CREATE TABLE IF NOT EXISTS orders ("
                     " id SERIAL PRIMARY KEY,"
                     " wood_type woodtype NOT NULL,"
                     " quantity INTEGER NOT NULL,"
                     " order_status orderstatus NOT NULL);\n"
                     "CREATE INDEX IF NOT EXISTS ix_orders_id ON orders (id);\n"},
    {2, "table idempotency_keys", CREATE_IDEMPOTENCY},
};
const size_t wood_schema_order_len = WD_ARRAY_LEN(wood_schema_order);

const struct wd_db_migration wood_schema_stock[] = {
    {1, "type woodtype, table stocks",
     CREATE_WOODTYPE "CREATE TABLE IF NOT EXISTS stocks ("
                     " wood_type woodtype PRIMARY KEY,"
                     " quantity INTEGER NOT NULL);\n"
                     "CREATE UNIQUE INDEX IF NOT EXISTS ix_stocks_wood_type ON stocks "
                     "(wood_type);\n"},
    {2, "table idempotency_keys", CREATE_IDEMPOTENCY},
};
const size_t wood_schema_stock_len = WD_ARRAY_LEN(wood_schema_stock);
