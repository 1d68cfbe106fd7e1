# POST /orders/batch on a real PostgreSQL: many orders in one request and one transaction,
# each item answered as POST /orders would answer it alone (validation, simulated failures,
# Idempotency-Keys shared with the single route), and a handful of statements per batch.
. tests/lib/assert.sh
. tests/lib/pg.sh
. tests/lib/role.sh
. tests/lib/api.sh
pg_start
role_up order PORT /ready DATABASE_URL="$PG_URL" ERROR_RATE=0 OTEL_SDK_DISABLED=true || fail "order not ready: $(cat "$WD_TEST_TMP/order.log")"
u=http://127.0.0.1:$ROLE_PORT
rows() { pg_psql -At -c "SELECT count(*) FROM orders"; }
# results as "status body" lines, for the per-item checks
lines() { jq -c '.results[] | [.status, .body]' <<<"$OUT"; }
# batch JSON: a POST /orders/batch with that body
batch() { call POST /orders/batch "$1"; }

# Happy path: three orders, with and without keys; ids in item order, rows as answered.
LAST="happy"
batch '{"orders": [{"wood_type": "oak", "quantity": 5, "idempotency_key": "orders-0-1"},
	{"wood_type": "pine", "quantity": 1}, {"wood_type": "elm", "quantity": 1000000, "extra": [1]}]}'
want 200 '{"results":[{"status":201,"body":{"id":1,"order_status":"registered","quantity":5,"wood_type":"oak"}},{"status":201,"body":{"id":2,"order_status":"registered","quantity":1,"wood_type":"pine"}},{"status":201,"body":{"id":3,"order_status":"registered","quantity":1000000,"wood_type":"elm"}}]}'
db=$(pg_psql -At -c "SELECT id, wood_type, quantity, order_status FROM orders ORDER BY id")
[ "$db" = $'1|OAK|5|REGISTERED\n2|PINE|1|REGISTERED\n3|ELM|1000000|REGISTERED' ] || fail "rows after the happy batch: $db"
LAST="read back"; call GET /orders/3
want 200 '{"id":3,"order_status":"registered","quantity":1000000,"wood_type":"elm"}'

# Invalid items get POST /orders's messages with their position; only the valid ones land.
LAST="mixed"
batch '{"orders": [{"wood_type": "birch", "quantity": 2}, {"wood_type": "oak", "quantity": 0},
	{"wood_type": "teak", "quantity": 1}, {"wood_type": "oak"}, 7, {},
	{"wood_type": "oak", "quantity": "5"}, {"wood_type": "maple", "quantity": 3},
	{"wood_type": "oak", "quantity": 1, "idempotency_key": "has space"},
	{"wood_type": "oak", "quantity": 1, "idempotency_key": 12},
	{"wood_type": "oak", "quantity": 1, "idempotency_key": ""},
	{"wood_type": "oak", "quantity": 1, "idempotency_key": null}]}'
[ "$STATUS" = 200 ] || fail "$LAST: $STATUS $OUT"
kerr='idempotency_key must be 1 to 200 printable characters without spaces'
expected='[201,{"id":4,"order_status":"registered","quantity":2,"wood_type":"birch"}]
[400,{"error":"orders[1]: quantity must be an integer between 1 and 1000000"}]
[400,{"error":"orders[2]: wood_type must be one of oak, maple, birch, elm, pine"}]
[400,{"error":"orders[3]: missing field '"'"'quantity'"'"'"}]
[400,{"error":"orders[4]: request body must be a JSON object"}]
[400,{"error":"orders[5]: missing field '"'"'wood_type'"'"'"}]
[400,{"error":"orders[6]: quantity must be an integer between 1 and 1000000"}]
[201,{"id":5,"order_status":"registered","quantity":3,"wood_type":"maple"}]
[400,{"error":"orders[8]: '"$kerr"'"}]
[400,{"error":"orders[9]: '"$kerr"'"}]
[400,{"error":"orders[10]: '"$kerr"'"}]
[400,{"error":"orders[11]: '"$kerr"'"}]'
[ "$(lines)" = "$expected" ] || fail "$LAST: $(lines)"
[ "$(rows)" = 5 ] || fail "$LAST: $(rows) rows, want 5"
long=$(printf 'k%.0s' $(seq 201))
LAST="key of 201"; batch '{"orders": [{"wood_type": "oak", "quantity": 1, "idempotency_key": "'"$long"'"}]}'
[ "$(lines)" = '[400,{"error":"orders[0]: '"$kerr"'"}]' ] || fail "$LAST: $OUT"
[ "$(rows)" = 5 ] || fail "$LAST: $(rows) rows"

# The same key twice in a batch: the repeat is a replay of the first, never a second order.
LAST="repeat in batch"
batch '{"orders": [{"wood_type": "oak", "quantity": 9, "idempotency_key": "dup-1"},
	{"wood_type": "oak", "quantity": 9, "idempotency_key": "dup-1"},
	{"wood_type": "pine", "quantity": 9, "idempotency_key": "dup-1"},
	{"wood_type": "elm", "quantity": 9, "idempotency_key": "dup-2"}]}'
expected='[201,{"id":6,"order_status":"registered","quantity":9,"wood_type":"oak"}]
[201,{"id":6,"order_status":"registered","quantity":9,"wood_type":"oak"}]
[422,{"error":"Idempotency-Key was already used for a different request: dup-1"}]
[201,{"id":7,"order_status":"registered","quantity":9,"wood_type":"elm"}]'
[ "$(lines)" = "$expected" ] || fail "$LAST: $(lines)"
[ "$(rows)" = 7 ] || fail "$LAST: $(rows) rows, want 7"

# A whole batch sent again (keys that need quoting in an array literal included): the same
# answers, no new rows.
body=$(jq -cn '{orders: [$ARGS.positional[] | {wood_type: "maple", quantity: 4, idempotency_key: .}]}' \
	--args re-1 'a,b' '{c}' 'q"uote' 'back\slash' NULL "';DROP-TABLE-orders;--")
LAST="keyed batch"; batch "$body"
first=$OUT
[ "$STATUS" = 200 ] && [ "$(jq '[.results[] | select(.status == 201) | .body.id] | unique | length' <<<"$OUT")" = 7 ] ||
	fail "$LAST: $STATUS $OUT"
[ "$(rows)" = 14 ] || fail "$LAST: $(rows) rows, want 14"
LAST="keyed batch again"; batch "$body"
[ "$STATUS" = 200 ] && [ "$OUT" = "$first" ] || fail "$LAST: $STATUS $OUT, first $first"
[ "$(rows)" = 14 ] || fail "$LAST: $(rows) rows, want 14"
stored=$(pg_psql -At -c "SELECT key FROM idempotency_keys WHERE scope = 'order' AND key NOT LIKE 'dup-%' AND key <> 'orders-0-1' ORDER BY key" | md5sum)
[ "$stored" = "$(jq -r '.orders[].idempotency_key' <<<"$body" | LC_ALL=C sort | md5sum)" ] ||
	fail "stored keys differ from the sent ones: $(pg_psql -At -c "SELECT key FROM idempotency_keys")"

# Batch then single, single then batch: one key, one order, the same answer.
LAST="batch key to single"
call POST /orders '{"wood_type": "oak", "quantity": 5}' application/json 'Idempotency-Key: orders-0-1'
want 201 '{"id":1,"order_status":"registered","quantity":5,"wood_type":"oak"}'
LAST="quoted key to single"
call POST /orders '{"wood_type": "maple", "quantity": 4}' application/json 'Idempotency-Key: back\slash'
want 201 "$(jq -c '.results[4].body' <<<"$first")"
LAST="single"
call POST /orders '{"wood_type": "birch", "quantity": 8}' application/json 'Idempotency-Key: single-1'
want 201 '{"id":15,"order_status":"registered","quantity":8,"wood_type":"birch"}'
LAST="single key to batch"
batch '{"orders": [{"wood_type": "birch", "quantity": 8, "idempotency_key": "single-1"},
	{"wood_type": "birch", "quantity": 9, "idempotency_key": "single-1"},
	{"wood_type": "oak", "quantity": 5, "idempotency_key": "orders-0-1"},
	{"wood_type": "oak", "quantity": 6, "idempotency_key": "orders-0-1"}]}'
expected='[201,{"id":15,"order_status":"registered","quantity":8,"wood_type":"birch"}]
[422,{"error":"Idempotency-Key was already used for a different request: single-1"}]
[201,{"id":1,"order_status":"registered","quantity":5,"wood_type":"oak"}]
[422,{"error":"Idempotency-Key was already used for a different request: orders-0-1"}]'
[ "$(lines)" = "$expected" ] || fail "$LAST: $(lines)"
LAST="batch key, other item, single"
call POST /orders '{"wood_type": "elm", "quantity": 10}' application/json 'Idempotency-Key: dup-2'
want 422 '{"error":"Idempotency-Key was already used for a different request: dup-2"}'
[ "$(rows)" = 15 ] || fail "after the cross replays: $(rows) rows, want 15"

# A key whose first request has no reply stored yet: 409, for the owner and its repeat.
pg_psql -c "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ('order', 'busy', 'create:oak:1')"
LAST="in progress"
batch '{"orders": [{"wood_type": "oak", "quantity": 1, "idempotency_key": "busy"},
	{"wood_type": "oak", "quantity": 2, "idempotency_key": "busy"}, {"wood_type": "oak", "quantity": 1, "idempotency_key": "busy"}]}'
expected='[409,{"error":"a request with this Idempotency-Key is still in progress"}]
[422,{"error":"Idempotency-Key was already used for a different request: busy"}]
[409,{"error":"a request with this Idempotency-Key is still in progress"}]'
[ "$(lines)" = "$expected" ] || fail "$LAST: $(lines)"
[ "$(rows)" = 15 ] || fail "$LAST: $(rows) rows, want 15"

# Whole-request errors.
many() { jq -cn --argjson n "$1" '{orders: [range($n) | {wood_type: "pine", quantity: (. + 1)}]}'; }
LAST="1001 items"; batch "$(many 1001)"; want 400 '{"error":"orders must be an array of 1 to 1000 orders"}'
for b in '{}' '{"orders": []}' '{"orders": {}}' '{"orders": "oak"}' '{"order": [{"wood_type": "oak", "quantity": 1}]}'; do
	LAST="shape $b"; batch "$b"; want 400 '{"error":"orders must be an array of 1 to 1000 orders"}'
done
for b in '[{"wood_type": "oak", "quantity": 1}]' 'null' '"orders"'; do
	LAST="not an object $b"; batch "$b"
	[ "$STATUS" = 400 ] && grep -q 'must be a JSON object' <<<"$OUT" || fail "$LAST: $STATUS $OUT"
done
LAST="malformed"; batch '{"orders": [{"wood_type": "oak",'
[ "$STATUS" = 400 ] && grep -q '"error"' <<<"$OUT" || fail "$LAST: $STATUS $OUT"
LAST="wrong type"; call POST /orders/batch '{"orders": [{"wood_type": "oak", "quantity": 1}]}' text/plain
[ "$STATUS" = 415 ] && grep -q '"error"' <<<"$OUT" || fail "$LAST: $STATUS $OUT"
# GET and PUT of /orders/batch stay with /orders/{id}: "batch" is no order id.
LAST="get batch"; call GET /orders/batch
want 404 '{"error":"Order not found: order id must be a positive integer"}'
[ "$(rows)" = 15 ] || fail "after the refused requests: $(rows) rows, want 15"

# The largest batch: 1000 orders, in item order, every row as answered.
LAST="1000 items"; batch "$(many 1000)"
[ "$STATUS" = 200 ] || fail "$LAST: $STATUS $(head -c 300 <<<"$OUT")"
[ "$(jq '[.results[] | select(.status == 201 and .body.quantity == .body.id - 15)] | length' <<<"$OUT")" = 1000 ] ||
	fail "$LAST: not 1000 orders with ids in item order: $(head -c 300 <<<"$OUT")"
[ "$(rows)" = 1015 ] || fail "$LAST: $(rows) rows, want 1015"
[ "$(pg_psql -At -c "SELECT count(*) FROM orders WHERE id > 15 AND quantity = id - 15 AND wood_type = 'PINE'")" = 1000 ] ||
	fail "$LAST: the rows differ from the answers"

# Concurrent batches sharing keys in different orders: one order per key, no deadlock.
keyed() { jq -cn --argjson s "$1" '{orders: [range(200) | ((. * $s) % 200) | {wood_type: "oak", quantity: (. + 1), idempotency_key: "c-\(.)"}]}'; }
pids=()
for s in 1 3 7 199; do keyed "$s" >"$WD_TEST_TMP/c$s.json"; done
for s in 1 3 7 199; do
	curl -s -o "$WD_TEST_TMP/c$s.out" -w '%{http_code}\n' -H 'Content-Type: application/json' \
		--data-binary @"$WD_TEST_TMP/c$s.json" "$u/orders/batch" >"$WD_TEST_TMP/c$s.status" &
	pids+=($!)
done
wait "${pids[@]}" # not a bare wait: the order role is a child too
for s in 1 3 7 199; do
	[ "$(cat "$WD_TEST_TMP/c$s.status")" = 200 ] || fail "concurrent batch $s: $(cat "$WD_TEST_TMP/c$s.status") $(cat "$WD_TEST_TMP/c$s.out")"
	jq -r '.results[] | select(.status == 201) | "\(.body.quantity) \(.body.id)"' "$WD_TEST_TMP/c$s.out" | sort -n >"$WD_TEST_TMP/c$s.ids"
	[ "$(wc -l <"$WD_TEST_TMP/c$s.ids")" = 200 ] || fail "concurrent batch $s: not 200 orders: $(head -c 300 "$WD_TEST_TMP/c$s.out")"
	cmp -s "$WD_TEST_TMP/c$s.ids" "$WD_TEST_TMP/c1.ids" || fail "concurrent batches answered different ids"
done
[ "$(rows)" = 1215 ] || fail "concurrent batches: $(rows) rows, want 1215"

# A handful of statements per batch, whatever its size: count what the server executes.
pg_psql -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
statements() {
	local before after
	before=$(grep -cE 'LOG:  (statement|execute)' "$PG_DIR/server.log")
	batch "$1"
	[ "$STATUS" = 200 ] || fail "counted batch: $STATUS $OUT"
	after=$(grep -cE 'LOG:  (statement|execute)' "$PG_DIR/server.log")
	echo $((after - before))
}
sk() { jq -cn --argjson n "$1" --arg p "$2" '{orders: [range($n) | {wood_type: "elm", quantity: 1, idempotency_key: "\($p)-\(.)"}]}'; }
small=$(statements "$(sk 2 s)")
big=$(statements "$(sk 500 b)")
mixed=$(statements "$(jq -cn '{orders: ([range(300) | {wood_type: "elm", quantity: 1, idempotency_key: "b-\(.)"}] + [range(300) | {wood_type: "elm", quantity: 1, idempotency_key: "m-\(.)"}])}')")
pg_psql -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null
# BEGIN, claim, ids, insert, store, COMMIT; plus one SELECT when some keys were used before.
echo "statements per batch: 2 items $small, 500 items $big, 600 items (300 replays) $mixed"
[ "$small" = 6 ] && [ "$big" = 6 ] && [ "$mixed" = 7 ] ||
	fail "statements per batch: 2 items $small, 500 items $big, 600 with replays $mixed; want 6, 6, 7"

# A database error answers the whole request as POST /orders would, and commits nothing.
pg_stop_server
LAST="database down"; batch '{"orders": [{"wood_type": "oak", "quantity": 1, "idempotency_key": "down-1"}]}'
[ "$STATUS" = 503 ] && grep -q 'database' <<<"$OUT" || fail "$LAST: $STATUS $OUT"
# Refused items alone need no database, as POST /orders refuses them without one.
LAST="database down, all invalid"; batch '{"orders": [{"wood_type": "oak", "quantity": 0}]}'
want 200 '{"results":[{"status":400,"body":{"error":"orders[0]: quantity must be an integer between 1 and 1000000"}}]}'
pg_start_server
before=$(rows)

# ERROR_RATE is drawn per item: at 1 every item fails and nothing is written.
role_stop order
[ "${ROLE_RC[order]}" = 0 ] || fail "order exited ${ROLE_RC[order]} on SIGTERM: $(tail -n 20 "$WD_TEST_TMP/order.log")"
role_up order PORT /ready DATABASE_URL="$PG_URL" ERROR_RATE=1 OTEL_SDK_DISABLED=true || fail "order not ready: $(tail "$WD_TEST_TMP/order.log")"
u=http://127.0.0.1:$ROLE_PORT
errors_before=$(grep -c 'Simulated DB insertion error' "$WD_TEST_TMP/order.log")
LAST="error rate 1"; batch "$(jq -cn '{orders: [range(20) | {wood_type: "oak", quantity: 1, idempotency_key: "e-\(.)"}]}')"
[ "$STATUS" = 200 ] || fail "$LAST: $STATUS $OUT"
[ "$(jq -c '[.results[] | select(. == {"status": 500, "body": {"error": "Simulated DB insertion error"}})] | length' <<<"$OUT")" = 20 ] ||
	fail "$LAST: $OUT"
[ "$(rows)" = "$before" ] || fail "$LAST: rows went from $before to $(rows)"
[ "$(pg_psql -At -c "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'e-%'")" = 0 ] || fail "$LAST: keys were claimed"
sleep 0.2
[ $(($(grep -c '"level":"ERROR".*Simulated DB insertion error\|Simulated DB insertion error.*"level":"ERROR"' "$WD_TEST_TMP/order.log") - errors_before)) -ge 20 ] ||
	fail "$LAST: not one ERROR line per failed item: $(tail -n 5 "$WD_TEST_TMP/order.log")"

# At 0.5 the answers and the rows add up.
role_stop order
[ "${ROLE_RC[order]}" = 0 ] || fail "order exited ${ROLE_RC[order]} on SIGTERM: $(tail -n 20 "$WD_TEST_TMP/order.log")"
role_up order PORT /ready DATABASE_URL="$PG_URL" ERROR_RATE=0.5 OTEL_SDK_DISABLED=true || fail "order not ready: $(tail "$WD_TEST_TMP/order.log")"
u=http://127.0.0.1:$ROLE_PORT
LAST="error rate 0.5"; batch "$(many 400)"
[ "$STATUS" = 200 ] || fail "$LAST: $STATUS $OUT"
ok=$(jq '[.results[] | select(.status == 201)] | length' <<<"$OUT")
failed=$(jq '[.results[] | select(.status == 500)] | length' <<<"$OUT")
[ $((ok + failed)) = 400 ] && [ "$ok" -gt 100 ] && [ "$failed" -gt 100 ] || fail "$LAST: $ok created, $failed failed of 400"
[ "$(rows)" = $((before + ok)) ] || fail "$LAST: $(rows) rows, want $((before + ok))"
role_stop order
[ "${ROLE_RC[order]}" = 0 ] || fail "order exited ${ROLE_RC[order]} on SIGTERM"
