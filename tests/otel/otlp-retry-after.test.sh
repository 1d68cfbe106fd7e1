# otlp-retry-after.test.sh - 429 with Retry-After in seconds, then 503 with Retry-After as
# an HTTP date: each delay is honoured (measured at the receiver), then delivery succeeds.
source tests/lib/otel.sh
need_node
start_receiver '429:Retry-After=2,503:Retry-After=date+2,200'
export OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none
"$EMIT" load 3 >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed"
wait_requests 3 || fail "expected 3 requests: $(ls "$RX")"
g1=$(node -p "require('$RX/2.json').time_ms - require('$RX/1.json').time_ms")
g2=$(node -p "require('$RX/3.json').time_ms - require('$RX/2.json').time_ms")
echo "waited ${g1} ms after 429 (Retry-After: 2) and ${g2} ms after 503 (HTTP date +2 s)"
((g1 >= 1950)) || fail "Retry-After: 2 not honoured (${g1} ms)"
((g2 >= 950)) || fail "Retry-After date not honoured (${g2} ms)"
grep -q '"spans_exported":3,' "$WD_TEST_TMP/out" || fail "stats: $(tail -1 "$WD_TEST_TMP/out")"
