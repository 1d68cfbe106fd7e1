# otlp-retry-503.test.sh - a 503 is retried (with backoff) and the same body is delivered
# by the next attempt; the spans count as exported.
source tests/lib/otel.sh
need_node
start_receiver 503,200
export OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none
"$EMIT" load 10 >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed"
wait_requests 2 || fail "no retry after 503"
cmp -s "$RX/1.body" "$RX/2.body" || fail "the retry sent a different body"
grep -q '"spans_exported":10,' "$WD_TEST_TMP/out" || fail "stats: $(tail -1 "$WD_TEST_TMP/out")"
sleep 0.5
[ ! -e "$RX/3.json" ] || fail "sent again after a 200"
gap=$(node -p "require('$RX/2.json').time_ms - require('$RX/1.json').time_ms")
echo "retried after ${gap} ms"
# The first backoff is 1 s with jitter in [0.5, 1.5).
((gap >= 450)) || fail "retried too soon (${gap} ms): no backoff"
decode traces 2 | grep -c '"name": "load"' | grep -qx 10 || fail "retried body lacks the 10 spans"
