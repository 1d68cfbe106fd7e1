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
// exports_failed is 1 only if the exporter thread itself gave up (aborted the transfer)
// before shutdown returned; a thread still stuck in curl would leave it at 0.
if (!(s.shutdown_ms < 2500 && s.spans_exported === 0 && s.exports_failed === 1)) process.exit(1);' \
	"$WD_TEST_TMP/out" || fail "shutdown did not keep its 1000 ms deadline"
grep -q 'timed out' "$WD_TEST_TMP/err" || fail "time-out not logged: $(cat "$WD_TEST_TMP/err")"

# Without a shutdown, OTEL_EXPORTER_OTLP_TIMEOUT alone ends the hung export.
kill $RX_PID
wait $RX_PID 2>/dev/null
rm -rf "$WD_TEST_TMP/rx" "$WD_TEST_TMP/rx.port"
start_receiver hang
OTEL_EXPORTER_OTLP_TIMEOUT=800 OTEL_BSP_SCHEDULE_DELAY=100 EMIT_LINGER_MS=2500 \
	"$EMIT" load 5 >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed"
cat "$WD_TEST_TMP/out"
node -e '
const [e, s] = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
if (!(s.exports_failed === 1 && s.shutdown_ms < 500)) process.exit(1);' "$WD_TEST_TMP/out" ||
	fail "the export was not ended by OTEL_EXPORTER_OTLP_TIMEOUT before shutdown"
grep -q 'timed out after 1 attempt' "$WD_TEST_TMP/err" || fail "time-out not logged"
