# Batches end to end, with everything going wrong at once: a burst of orders already
# waiting (so ordercheck sends them in POST /orders/batch calls), poison messages among
# them, the order API failing a fifth of the orders (ERROR_RATE=0.2, drawn per order), and
# a kill -9 of ordercheck part-way, then a new one. Afterwards: every valid message is
# exactly one order, every poison message one dead letter, no order twice; both the batch
# route and the single route (for what failed in a batch) were used.
. tests/lib/assert.sh
. tests/lib/pg.sh
. tests/lib/broker.sh
. tests/lib/role.sh
pg_start
broker_start --topics orders --partitions 4
role_up order PORT /ready DATABASE_URL="$PG_URL" ERROR_RATE=0.2 || fail "order not ready"
api=http://127.0.0.1:$ROLE_PORT
n=3000
for i in $(seq $n); do
	if ((i % 500 == 0)); then
		echo '{"wood_type": "teak", "quantity": 1}'
	else
		printf '{"wood_type": "%s", "quantity": %d}\n' \
			"$(echo oak maple birch elm pine | cut -d' ' -f$((i % 5 + 1)))" $((i % 100 + 1))
	fi
done | kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t orders || fail "kcat could not produce"
poison=$((n / 500))
valid=$((n - poison))
q() { pg_psql -At -c "$1"; }
# Retries never run out here (KAFKA_MAX_RETRIES), and back off briefly.
check_env=(API_URL="$api" ERROR_RATE=0 ADMIN_PORT=0 BATCH_MAX=50 KAFKA_MAX_RETRIES=30
	KAFKA_RETRY_BACKOFF=10ms KAFKA_RETRY_BACKOFF_MAX=100ms)
role_start ordercheck "${check_env[@]}"
pg_wait_count "SELECT count(*) FROM orders" 300 30 ||
	fail "ordercheck registered only $PG_COUNT orders in 30 s: $(tail -5 "$WD_TEST_TMP/ordercheck.log")"
role_kill ordercheck
at_kill=$(q "SELECT count(*) FROM orders")
[ "$at_kill" -lt $valid ] || fail "the burst was over before the kill ($at_kill); nothing tested"
role_start ordercheck "${check_env[@]}"
pg_wait_count "SELECT count(*) FROM orders" $valid 90 || true
sleep 2 # anything redelivered late would show up now
got=$(q "SELECT count(*) FROM orders")
[ "$got" = $valid ] || fail "orders in the database: $got, valid messages: $valid (killed at $at_kill)"
keys=$(q "SELECT count(DISTINCT key) FROM idempotency_keys WHERE scope = 'order' AND status = 201")
[ "$keys" = $valid ] || fail "distinct message keys with an order: $keys, expected $valid"
dups=$(q "SELECT count(*) FROM (SELECT body FROM idempotency_keys WHERE scope = 'order' AND status = 201 GROUP BY body HAVING count(*) > 1) d")
[ "$dups" = 0 ] || fail "$dups orders answered for two keys"
kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t orders.dlq -o beginning -e -q -f '%s %h\n' >"$WD_TEST_TMP/dlq" 2>/dev/null
# A dead letter written just before the kill, whose offset was not committed yet, is
# written again after it (at-least-once): count the distinct source messages.
dl=$(grep -o 'dlq.source.partition=[0-9]*,dlq.source.offset=[0-9]*' "$WD_TEST_TMP/dlq" | sort -u | wc -l)
[ "$dl" = $poison ] || fail "dead-lettered messages: $dl, expected $poison: $(head -3 "$WD_TEST_TMP/dlq")"
! grep -v 'dlq.reason=malformed message: wood_type must be one of' "$WD_TEST_TMP/dlq" ||
	fail "dead letters that are not the poison messages"
batches=$(grep -c '"message":"HTTP 200 success for POST /orders/batch"' "$WD_TEST_TMP/order.log")
singles=$(grep -c '"message":"HTTP 201 success for POST /orders"' "$WD_TEST_TMP/order.log")
[ "$batches" -gt 0 ] || fail "no batch call"
[ "$singles" -gt 0 ] || fail "nothing went on alone although a fifth of the orders failed in batches"
echo "killed at $at_kill of $valid; $batches batch calls, $singles single POST /orders accepted"
