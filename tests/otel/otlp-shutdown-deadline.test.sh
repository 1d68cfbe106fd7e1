# otlp-shutdown-deadline.test.sh - a collector that accepts the request but never answers:
# shutdown still returns within its deadline (the transfer is aborted), and says so.
source tests/lib/otel.sh
need_node
start_receiver hang
export OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none OTEL_EXPORTER_OTLP_TIMEOUT=30000 \
	EMIT_SHUTDOWN_MS=1000
"$EMIT" load 5 >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed"
cat "$WD_TEST_TMP/out"
wait_requests 1 || fail "nothing sent"
node -e '
const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").pop());
if (!(s.shutdown_ms < 1900 && s.spans_exported === 0 && s.exports_failed === 1)) process.exit(1);' \
	"$WD_TEST_TMP/out" || fail "shutdown did not keep its 1000 ms deadline"
grep -q 'timed out' "$WD_TEST_TMP/err" || fail "time-out not logged: $(cat "$WD_TEST_TMP/err")"
