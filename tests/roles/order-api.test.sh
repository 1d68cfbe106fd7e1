# The order API's contract (seed-spec §4.5 with the [later] fixes), route by route, on a
# real PostgreSQL; every bad input gets its status and {"error": ...} body.
. tests/lib/assert.sh
. tests/lib/pg.sh
. tests/lib/role.sh
. tests/lib/api.sh
pg_start
role_up order PORT /ready DATABASE_URL="$PG_URL" ERROR_RATE=0 OTEL_SDK_DISABLED=true || fail "order not ready: $(cat "$WD_TEST_TMP/order.log")"
u=http://127.0.0.1:$ROLE_PORT
LAST="health"; call GET /health; want 200 '{"status":"healthy","service":"order"}'
LAST="create"; call POST /orders '{"wood_type": "oak", "quantity": 42}'
want 201 '{"id":1,"order_status":"registered","quantity":42,"wood_type":"oak"}'
LAST="create with slash"; call POST /orders/ '{"wood_type": "pine", "quantity": 1, "extra": true}'
want 201 '{"id":2,"order_status":"registered","quantity":1,"wood_type":"pine"}'
LAST="empty object"; call POST /orders '{}'; want 400 '{"error":"Missing request body"}'
LAST="null"; call POST /orders 'null'; want 400 '{"error":"Missing request body"}'
LAST="empty array"; call POST /orders '[]'; want 400 '{"error":"Missing request body"}'
LAST="unknown wood"; call POST /orders '{"wood_type": "teak", "quantity": 1}'
want 400 '{"error":"wood_type must be one of oak, maple, birch, elm, pine"}'
for q in 0 -5 1000001 '"5"' 5.5 5.0 true null; do
	LAST="quantity $q"; call POST /orders "{\"wood_type\": \"oak\", \"quantity\": $q}"
	want 400 '{"error":"quantity must be an integer between 1 and 1000000"}'
done
LAST="missing quantity"; call POST /orders '{"wood_type": "oak"}'
want 400 '{"error":"missing field '"'"'quantity'"'"'"}'
LAST="sql-looking"; call POST /orders '{"wood_type": "oak'"'"'); DROP TABLE orders;--", "quantity": 1}'
want 400 '{"error":"wood_type must be one of oak, maple, birch, elm, pine"}'
LAST="malformed"; call POST /orders '{"wood_type": "oak",'
[ "$STATUS" = 400 ] && grep -q '"error"' <<<"$OUT" || fail "malformed JSON: $STATUS $OUT"
LAST="wrong type"; call POST /orders 'wood_type=oak' 'application/x-www-form-urlencoded'
[ "$STATUS" = 415 ] && grep -q '"error"' <<<"$OUT" || fail "wrong content type: $STATUS $OUT"
LAST="list"; call GET /orders
want 200 '[{"id":1,"order_status":"registered","quantity":42,"wood_type":"oak"},{"id":2,"order_status":"registered","quantity":1,"wood_type":"pine"}]'
LAST="list slash skip"; call GET '/orders/?skip=1'
want 200 '[{"id":2,"order_status":"registered","quantity":1,"wood_type":"pine"}]'
LAST="limit"; call GET '/orders?limit=1'
want 200 '[{"id":1,"order_status":"registered","quantity":42,"wood_type":"oak"}]'
for bad in 'skip=x' 'limit=1.5' 'skip=-1' 'limit=%zz'; do
	LAST="list $bad"; call GET "/orders?$bad"
	[ "$STATUS" = 400 ] && grep -q '"error"' <<<"$OUT" || fail "$LAST: $STATUS $OUT"
done
LAST="by status"; call GET /orders/status/registered
[ "$STATUS" = 200 ] && [ "$(grep -o '"id"' <<<"$OUT" | wc -l)" = 2 ] || fail "$LAST: $STATUS $OUT"
LAST="bad status"; call GET /orders/status/nope; want 400 '{"error":"Invalid status: nope"}'
LAST="upper status"; call GET /orders/status/REGISTERED; want 400 '{"error":"Invalid status: REGISTERED"}'
LAST="read"; call GET /orders/1
want 200 '{"id":1,"order_status":"registered","quantity":42,"wood_type":"oak"}'
LAST="read missing"; call GET /orders/999; want 404 '{"error":"Order not found"}'
for id in abc 1.5 -1 0 99999999999999999999 '1%0d%0aX:1'; do
	LAST="read id $id"; call GET "/orders/$id"
	[ "$STATUS" = 404 ] || [ "$STATUS" = 400 ] || fail "$LAST: $STATUS $OUT"
	grep -q '"error"' <<<"$OUT" || fail "$LAST: no error body: $OUT"
done
LAST="update"; call PUT /orders/1 '{"order_status": "shipped"}'
want 200 '{"id":1,"order_status":"shipped","quantity":42,"wood_type":"oak"}'
LAST="update bad"; call PUT /orders/1 '{"order_status": "lost"}'
[ "$STATUS" = 400 ] && grep -q 'Invalid order status' <<<"$OUT" || fail "$LAST: $STATUS $OUT"
LAST="update missing"; call PUT /orders/1 '{"status": "ready"}'
want 400 '{"error":"Missing '"'"'order_status'"'"' in request body"}'
LAST="update unknown"; call PUT /orders/999 '{"order_status": "ready"}'; want 404 '{"error":"Order not found"}'
LAST="delete"; call DELETE /orders/1
[ "$STATUS" = 405 ] || fail "$LAST: $STATUS"
# The rows really are in PostgreSQL, with the seed's upper-case enum labels.
rows=$(pg_psql -At -c "SELECT id, wood_type, quantity, order_status FROM orders ORDER BY id")
[ "$rows" = $'1|OAK|42|SHIPPED\n2|PINE|1|REGISTERED' ] || fail "rows in the database: $rows"
# The server kept serving through all of it, and stops cleanly on SIGTERM.
LAST="health after"; call GET /health; want 200 '{"status":"healthy","service":"order"}'
role_stop order
[ "${ROLE_RC[order]}" = 0 ] || fail "order exited ${ROLE_RC[order]} on SIGTERM"
