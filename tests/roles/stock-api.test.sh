# The stock API's contract (seed-spec §4.6 with the [later] fixes) on a real PostgreSQL.
. tests/lib/assert.sh
. tests/lib/pg.sh
. tests/lib/role.sh
. tests/lib/api.sh
pg_start
role_up stock PORT /ready DATABASE_URL="$PG_URL" ERROR_RATE=0 OTEL_SDK_DISABLED=true || fail "stock not ready: $(cat "$WD_TEST_TMP/stock.log")"
u=http://127.0.0.1:$ROLE_PORT
LAST="health"; call GET /health; want 200 '{"status":"healthy","service":"stock"}'
LAST="create"; call POST /stocks '{"wood_type": "maple", "quantity": 10}'
want 201 '{"quantity":10,"wood_type":"maple"}'
LAST="accumulate"; call POST /stocks/ '{"wood_type": "maple", "quantity": 5}'
want 201 '{"quantity":15,"wood_type":"maple"}'
LAST="read"; call GET /stocks/maple; want 200 '{"quantity":15,"wood_type":"maple"}'
LAST="read upper"; call GET /stocks/MAPLE; want 200 '{"quantity":15,"wood_type":"maple"}'
LAST="read none"; call GET /stocks/pine; want 404 '{"error":"Stock not found"}'
LAST="read unknown"; call GET /stocks/teak
want 400 '{"error":"Invalid wood type: teak (expected oak, maple, birch, elm or pine)"}'
LAST="create empty"; call POST /stocks '{}'; want 400 '{"error":"Missing request body"}'
LAST="create bad"; call POST /stocks '{"wood_type": "maple", "quantity": -2}'
want 400 '{"error":"quantity must be an integer between 1 and 1000000"}'
LAST="list"; call POST /stocks '{"wood_type": "birch", "quantity": 3}'
call GET /stocks; want 200 '[{"quantity":15,"wood_type":"maple"},{"quantity":3,"wood_type":"birch"}]'
LAST="list bad"; call GET '/stocks?limit=ten'
[ "$STATUS" = 400 ] && grep -q 'skip and limit must be integers' <<<"$OUT" || fail "$LAST: $STATUS $OUT"
LAST="decrease"; call POST /stocks/decrease '{"wood_type": "maple", "quantity": 10}'
want 200 '{"quantity":5,"wood_type":"maple"}'
LAST="decrease to zero"; call POST /stocks/decrease '{"wood_type": "maple", "quantity": 5}'
want 200 '{"quantity":0,"wood_type":"maple"}'
LAST="insufficient"; call POST /stocks/decrease '{"wood_type": "maple", "quantity": 1}'
want 400 '{"error":"Insufficient stock"}'
LAST="decrease none"; call POST /stocks/decrease '{"wood_type": "pine", "quantity": 1}'
want 404 '{"error":"Stock not found"}'
LAST="decrease invalid"; call POST /stocks/decrease '{"wood_type": "maple", "quantity": 0}'
want 400 '{"error":"Invalid input: quantity must be an integer between 1 and 1000000"}'
LAST="decrease unknown wood"; call POST /stocks/decrease '{"wood_type": "teak", "quantity": 1}'
want 400 '{"error":"Invalid input: wood_type must be one of oak, maple, birch, elm, pine"}'
LAST="decrease empty"; call POST /stocks/decrease 'null'; want 400 '{"error":"Missing request body"}'
LAST="GET decrease"; call GET /stocks/decrease
[ "$STATUS" = 400 ] || [ "$STATUS" = 405 ] || fail "$LAST: $STATUS $OUT"
rows=$(pg_psql -At -c "SELECT wood_type, quantity FROM stocks ORDER BY wood_type")
[ "$rows" = $'MAPLE|0\nBIRCH|3' ] || fail "rows in the database: $rows"
role_stop stock
[ "${ROLE_RC[stock]}" = 0 ] || fail "stock exited ${ROLE_RC[stock]} on SIGTERM"
