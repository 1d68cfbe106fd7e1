# otlp-no-retry.test.sh - a 400 is dropped with an error log and never retried; a partial
# success is logged as a warning and never retried; an answer over 4 MiB is a failure.
source tests/lib/otel.sh
need_node
export OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none
start_receiver 400
"$EMIT" load 4 >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed"
wait_requests 1 || fail "nothing sent"
sleep 1.6 # longer than the largest first backoff
[ ! -e "$RX/2.json" ] || fail "400 was retried"
grep -q 'rejected with HTTP 400; dropped' "$WD_TEST_TMP/err" || fail "no error log: $(cat "$WD_TEST_TMP/err")"
grep -q '"spans_exported":0,' "$WD_TEST_TMP/out" || fail "400 counted as exported"
grep -q '"exports_failed":1,' "$WD_TEST_TMP/out" || fail "failure not counted"
kill $RX_PID
wait $RX_PID 2>/dev/null

rm -rf "$WD_TEST_TMP/rx" "$WD_TEST_TMP/rx.port"
start_receiver partial
"$EMIT" load 4 >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed"
wait_requests 1 || fail "nothing sent"
sleep 1.6
[ ! -e "$RX/2.json" ] || fail "partial success was retried"
grep -q 'partially accepted: 3 rejected (3 items rejected); not retried' "$WD_TEST_TMP/err" ||
	fail "partial success not logged: $(cat "$WD_TEST_TMP/err")"
grep -q '"spans_exported":4,' "$WD_TEST_TMP/out" || fail "stats: $(tail -1 "$WD_TEST_TMP/out")"
kill $RX_PID
wait $RX_PID 2>/dev/null

# An answer over 4 MiB is not parsed, counts as a failure, and is not retried.
rm -rf "$WD_TEST_TMP/rx" "$WD_TEST_TMP/rx.port"
start_receiver huge
"$EMIT" load 4 >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed"
wait_requests 1 || fail "nothing sent"
sleep 1.6
[ ! -e "$RX/2.json" ] || fail "an oversized answer was retried"
grep -q 'response over 4 MiB; dropped' "$WD_TEST_TMP/err" || fail "oversized answer not logged: $(cat "$WD_TEST_TMP/err")"
grep -q '"exports_failed":1,' "$WD_TEST_TMP/out" || fail "stats: $(tail -1 "$WD_TEST_TMP/out")"
echo "400, partial success and an oversized answer: one request each"
