# migrate.test.sh - migrations: applied once, idempotent, serialised across processes,
# adopting a database the seed created, refusing a list out of order.
. "$(dirname "$0")/common.sh"
set -u
pg_start || fail "cannot start PostgreSQL"
base=${PG_URL%/postgres}
log=$WD_TEST_TMP/m.log

# Twice in a row: the second run applies nothing.
export DATABASE_URL=$base/postgres
"$DB_DRIVER" migrate order >"$log" 2>&1 || { cat "$log"; fail "first run"; }
expect_eq "applied on first run" "$(grep -c 'applied migration order/' "$log")" 2
"$DB_DRIVER" migrate order >"$log" 2>&1 || { cat "$log"; fail "second run"; }
expect_eq "applied on second run" "$(grep -c 'applied migration' "$log")" 0
expect_eq "recorded" "$(pg_psql -At -c "SELECT string_agg(component || '/' || version, ',' ORDER BY version) FROM wd_migrations")" "order/1,order/2"
expect_eq "orderstatus labels" "$(pg_psql -At -c "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE typname = 'orderstatus'")" "READY,SHIPPED,BLOCKED,CLOSED,UNKNOWN,REGISTERED"
# stock shares the database and its woodtype.
"$DB_DRIVER" migrate stock >"$log" 2>&1 || { cat "$log"; fail "stock after order"; }
expect_eq "one woodtype" "$(pg_psql -At -c "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE typname = 'woodtype'")" "OAK,MAPLE,BIRCH,ELM,PINE"

# Two processes at once, a list whose first step sleeps with CREATE TYPE after it: both
# succeed, everything is applied exactly once.
pg_psql -c "CREATE DATABASE race1" -c "CREATE DATABASE race2" || fail "createdb"
export DATABASE_URL=$base/race1
"$DB_DRIVER" migrate slow >"$log.a" 2>&1 &
a=$!
"$DB_DRIVER" migrate slow >"$log.b" 2>&1 &
b=$!
wait $a || { cat "$log.a"; fail "process a"; }
wait $b || { cat "$log.b"; fail "process b"; }
expect_eq "applied once in all" "$(cat "$log.a" "$log.b" | grep -c 'applied migration slow/')" 3
expect_eq "one row" "$(pg_psql -d "$base/race1" -At -c "SELECT count(*) FROM slow_t")" 1
expect_eq "recorded once" "$(pg_psql -d "$base/race1" -At -c "SELECT count(*) FROM wd_migrations WHERE component = 'slow'")" 3

# order and stock starting together on one fresh database (the seed's CREATE TYPE race).
export DATABASE_URL=$base/race2
"$DB_DRIVER" migrate order >"$log.a" 2>&1 &
a=$!
"$DB_DRIVER" migrate stock >"$log.b" 2>&1 &
b=$!
wait $a || { cat "$log.a"; fail "order"; }
wait $b || { cat "$log.b"; fail "stock"; }
expect_eq "tables" "$(pg_psql -d "$base/race2" -At -c "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")" "idempotency_keys,orders,stocks,wd_migrations"

# A database the seed created ("create if missing", no wd_migrations) is adopted.
pg_psql -c "CREATE DATABASE seed" || fail "createdb seed"
pg_psql -d "$base/seed" -c "CREATE TYPE woodtype AS ENUM ('OAK','MAPLE','BIRCH','ELM','PINE');
CREATE TYPE orderstatus AS ENUM ('READY','SHIPPED','BLOCKED','CLOSED','UNKNOWN','REGISTERED');
CREATE TABLE orders (id SERIAL PRIMARY KEY, wood_type woodtype NOT NULL, quantity INTEGER NOT NULL, order_status orderstatus NOT NULL);
INSERT INTO orders (wood_type, quantity, order_status) VALUES ('OAK', 3, 'REGISTERED');" >/dev/null || fail "seed schema"
DATABASE_URL=$base/seed "$DB_DRIVER" migrate order >"$log" 2>&1 || { cat "$log"; fail "adopt seed"; }
expect_eq "seed rows kept" "$(pg_psql -d "$base/seed" -At -c "SELECT count(*) FROM orders")" 1

# A malformed list is refused before touching anything.
out=$("$DB_DRIVER" migrate bad-order 2>&1) && fail "list out of order accepted"
case $out in *"must have a version above the previous one"*) ;; *) fail "message: $out" ;; esac
echo "migrate ok"
