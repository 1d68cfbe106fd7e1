# Concurrent decreases of the same stock never take it below zero and conserve the total;
# a delivery or decrease repeated with its Idempotency-Key counts once.
. tests/lib/assert.sh
. tests/lib/pg.sh
. tests/lib/role.sh
. tests/lib/api.sh
pg_start
role_up stock PORT /ready DATABASE_URL="$PG_URL" ERROR_RATE=0 OTEL_SDK_DISABLED=true || fail "stock not ready"
u=http://127.0.0.1:$ROLE_PORT
LAST="seed"; call POST /stocks '{"wood_type": "oak", "quantity": 37}'; want 201 '{"quantity":37,"wood_type":"oak"}'
# 100 concurrent decreases (60 of 1, 40 of 2) against 37: exactly 37 units leave.
pids=()
for i in $(seq 100); do
	q=$((i % 5 < 3 ? 1 : 2))
	curl -s -o /dev/null -w "%{http_code} $q\n" -H 'Content-Type: application/json' \
		-d "{\"wood_type\": \"oak\", \"quantity\": $q}" "$u/stocks/decrease" \
		>"$WD_TEST_TMP/code.$i" &
	pids+=($!)
done
wait "${pids[@]}"
cat "$WD_TEST_TMP"/code.* >"$WD_TEST_TMP/codes"
taken=$(awk '$1 == 200 { s += $2 } END { print s + 0 }' "$WD_TEST_TMP/codes")
others=$(awk '$1 != 200 && $1 != 400 { n++ } END { print n + 0 }' "$WD_TEST_TMP/codes")
lines=$(wc -l <"$WD_TEST_TMP/codes")
[ "$lines" = 100 ] || fail "expected 100 answers, got $lines"
[ "$others" = 0 ] || fail "unexpected statuses: $(sort "$WD_TEST_TMP/codes" | uniq -c)"
left=$(pg_psql -At -c "SELECT quantity FROM stocks WHERE wood_type = 'OAK'")
[ "$left" -ge 0 ] || fail "stock went below zero: $left"
[ $((taken + left)) = 37 ] || fail "not conserved: taken $taken + left $left != 37"
[ "$left" -le 1 ] || fail "decreases were refused while stock remained: left $left"
# Idempotency: the same delivery and the same decrease, each sent three times at once.
pids=()
for i in 1 2 3; do
	curl -s -o /dev/null -H 'Content-Type: application/json' -H 'Idempotency-Key: stocks-0-7' \
		-d '{"wood_type": "elm", "quantity": 50}' "$u/stocks" &
	pids+=($!)
done
wait "${pids[@]}"
LAST="one delivery"; call GET /stocks/elm; want 200 '{"quantity":50,"wood_type":"elm"}'
for i in 1 2 3; do
	call POST /stocks/decrease '{"wood_type": "elm", "quantity": 20}' application/json 'Idempotency-Key: order-9'
	LAST="decrease replay $i"; want 200 '{"quantity":30,"wood_type":"elm"}'
done
LAST="key reuse"; call POST /stocks/decrease '{"wood_type": "elm", "quantity": 21}' application/json 'Idempotency-Key: order-9'
[ "$STATUS" = 422 ] || fail "$LAST: $STATUS $OUT"
LAST="final"; call GET /stocks/elm; want 200 '{"quantity":30,"wood_type":"elm"}'
