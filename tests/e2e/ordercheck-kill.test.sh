# kill -9 of ordercheck in the middle of a burst, then a new ordercheck: every produced
# order exists exactly once in the database (at-least-once delivery + Idempotency-Key). One
# call per message here (BATCH_MAX=1); tests/e2e/batch.test.sh does the same with batches.
. tests/lib/assert.sh
. tests/lib/pg.sh
. tests/lib/broker.sh
. tests/lib/role.sh
pg_start
broker_start --topics orders --partitions 4
role_up order PORT /ready DATABASE_URL="$PG_URL" ERROR_RATE=0 || fail "order not ready"
api=http://127.0.0.1:$ROLE_PORT
n=400
for i in $(seq $n); do
	printf '{"wood_type": "%s", "quantity": %d}\n' \
		"$(echo oak maple birch elm pine | cut -d' ' -f$((i % 5 + 1)))" $((i % 100 + 1))
done | kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t orders || fail "kcat could not produce"
q() { pg_psql -At -c "$1"; }
role_start ordercheck API_URL="$api" ERROR_RATE=0 ADMIN_PORT=0 BATCH_MAX=1
# Kill it hard once it is part-way through the burst.
pg_wait_count "SELECT count(*) FROM orders" 40 30 ||
	fail "ordercheck registered only $PG_COUNT orders in 30 s: $(tail -5 "$WD_TEST_TMP/ordercheck.log")"
role_kill ordercheck
at_kill=$(q "SELECT count(*) FROM orders")
[ "$at_kill" -lt $n ] || fail "the burst was over before the kill ($at_kill); nothing tested"
role_start ordercheck API_URL="$api" ERROR_RATE=0 ADMIN_PORT=0 BATCH_MAX=1
pg_wait_count "SELECT count(*) FROM orders" $n 60 || true
sleep 2 # anything redelivered late would show up now
got=$(q "SELECT count(*) FROM orders")
[ "$got" = $n ] || fail "orders in the database: $got, produced: $n (killed at $at_kill)"
keys=$(q "SELECT count(DISTINCT key) FROM idempotency_keys WHERE scope = 'order' AND status = 201")
[ "$keys" = $n ] || fail "distinct message keys: $keys, expected $n"
replays=$(grep -c '"message":"HTTP 201 success for POST /orders"' "$WD_TEST_TMP/order.log")
echo "killed at $at_kill of $n; POST /orders answered 201 $replays times (replays included)"
