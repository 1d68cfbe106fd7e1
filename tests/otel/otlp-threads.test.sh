# otlp-threads.test.sh - eight threads end spans at once: every span is either delivered
# or counted as dropped, none twice, children keep their parents, and the request count
# shows full batches were sent before the schedule delay (eager export).
source tests/lib/otel.sh
need_node
start_receiver 200
export OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none OTEL_BSP_MAX_QUEUE_SIZE=40000 \
	OTEL_BSP_MAX_EXPORT_BATCH_SIZE=256 OTEL_BSP_SCHEDULE_DELAY=60000
"$EMIT" threads 8 2000 >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed: $(tail "$WD_TEST_TMP/err")"
cat "$WD_TEST_TMP/out"
node "$LIB/otlp-count.js" "$RX" >"$WD_TEST_TMP/count.json" || fail "decoding failed"
cat "$WD_TEST_TMP/count.json"
node - "$WD_TEST_TMP/out" "$WD_TEST_TMP/count.json" <<'JS'
const fs = require('fs');
const assert = require('assert/strict');
const [emit, stats] = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map(JSON.parse);
const c = JSON.parse(fs.readFileSync(process.argv[3]));
assert.equal(emit.emitted, 32000);
assert.equal(c.spans, stats.spans_exported, 'received = counted as exported');
assert.equal(stats.spans_exported + stats.spans_dropped, 32000, 'every span delivered or counted');
assert.equal(c.byName.threaded + c.byName['threaded.child'], c.spans);
assert.ok(c.spans > 0);
// A child is ended before its parent, so a child can only be orphaned if its parent
// was dropped afterwards; with no drops there must be no orphans.
// The queue holds every span, so none may be dropped and no child orphaned.
assert.equal(stats.spans_dropped, 0);
assert.equal(c.orphans, 0);
assert.equal(c.traceIds, 16000);
assert.ok(c.requests >= Math.floor(c.spans / 256), `${c.requests} requests for ${c.spans} spans`);
JS
[ $? = 0 ] || fail "counts do not add up"
