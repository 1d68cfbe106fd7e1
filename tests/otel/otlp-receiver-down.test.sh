# otlp-receiver-down.test.sh - nobody listens: the application's own work finishes, the
# queue stays bounded (drops counted, a WARNING says so), and shutdown keeps its deadline.
source tests/lib/otel.sh
need_node
port=$(free_port)
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$port OTEL_METRICS_EXPORTER=none \
	OTEL_BSP_MAX_QUEUE_SIZE=1000 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=100 OTEL_BSP_SCHEDULE_DELAY=50 \
	OTEL_EXPORTER_OTLP_TIMEOUT=1500 EMIT_SHUTDOWN_MS=2000
start=$(date +%s%N)
"$EMIT" load 200000 >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed: $(tail "$WD_TEST_TMP/err")"
ms=$((($(date +%s%N) - start) / 1000000))
cat "$WD_TEST_TMP/out"
node - "$WD_TEST_TMP/out" <<'JS'
const fs = require('fs');
const assert = require('assert/strict');
const [emit, stats] = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map(JSON.parse);
assert.equal(emit.emitted, 200000);
assert.equal(stats.spans_exported, 0);
// Every span is accounted for: dropped at the full queue, or in a batch that failed.
assert.equal(stats.spans_dropped + stats.spans_failed, 200000);
// The queue is bounded: what got past it is at most a few queue-fulls (one per export
// attempt cycle while the app was emitting), the rest was dropped at once.
assert.ok(stats.spans_dropped > 0 && stats.spans_failed >= 100, JSON.stringify(stats));
assert.ok(stats.exports_failed >= 1);
assert.ok(stats.shutdown_ms < 2000 + 1500, `shutdown took ${stats.shutdown_ms} ms`);
JS
[ $? = 0 ] || fail "stats not as expected"
grep -q 'telemetry queue full: dropped' "$WD_TEST_TMP/err" || fail "no WARNING about drops"
grep -q 'OTLP traces export to http://127.0.0.1:'"$port"'/v1/traces' "$WD_TEST_TMP/err" ||
	fail "export failure not logged: $(tail -3 "$WD_TEST_TMP/err")"
echo "receiver down: process took ${ms} ms in all"

# Logs: the sink never blocks the logging thread; a full queue drops and counts.
OTEL_BLRP_MAX_QUEUE_SIZE=100 OTEL_BLRP_MAX_EXPORT_BATCH_SIZE=50 OTEL_TRACES_EXPORTER=none \
	"$EMIT" logs 5000 >"$WD_TEST_TMP/out" 2>/dev/null || fail "emit logs failed"
tail -n 1 "$WD_TEST_TMP/out"
node -e '
const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").pop());
if (!(s.logs_dropped + s.logs_failed === 5000 && s.logs_dropped > 0 && s.logs_exported === 0)) process.exit(1);' "$WD_TEST_TMP/out" ||
	fail "log drops not counted: $(tail -n 1 "$WD_TEST_TMP/out")"
