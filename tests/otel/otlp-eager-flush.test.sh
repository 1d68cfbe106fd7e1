# otlp-eager-flush.test.sh - full batches go out at once although the schedule delay is a
# minute; wd_otel_flush sends the partial rest before shutdown.
source tests/lib/otel.sh
need_node
start_receiver 200
export OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none OTEL_BSP_MAX_EXPORT_BATCH_SIZE=10 \
	OTEL_BSP_SCHEDULE_DELAY=60000 EMIT_LINGER_MS=2000 EMIT_FLUSH=1
"$EMIT" load 25 >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed"
cat "$WD_TEST_TMP/out"
wait_requests 3 || fail "expected 3 requests"
node - "$WD_TEST_TMP/out" "$RX" <<'JS'
const fs = require('fs');
const assert = require('assert/strict');
const [emit, flush, stats] = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map(JSON.parse);
const rx = process.argv[3];
const m = [1, 2, 3].map((n) => JSON.parse(fs.readFileSync(`${rx}/${n}.json`)));
assert.equal(flush.flush_rc, 0);
// The two full batches arrived during the linger, before the flush was even asked for;
// the partial rest only with the flush.
const asked = flush.flushed_unix_ms - flush.flush_ms;
assert.ok(m[0].time_ms < asked, `batch 1 at +${m[0].time_ms - emit.done_unix_ms} ms`);
assert.ok(m[1].time_ms < asked, `batch 2 at +${m[1].time_ms - emit.done_unix_ms} ms`);
assert.ok(m[2].time_ms >= asked - 5, `rest at +${m[2].time_ms - emit.done_unix_ms} ms, flush asked at +${asked - emit.done_unix_ms}`);
assert.ok(m[2].time_ms <= flush.flushed_unix_ms + 5);
assert.equal(stats.spans_exported, 25);
assert.ok(!fs.existsSync(`${rx}/4.json`));
JS
[ $? = 0 ] || fail "eager export / flush not as expected"
for n in 1 2 3; do decode traces $n | grep -c '"name": "load"'; done | tr '\n' ' ' | grep -qx '10 10 5 ' ||
	fail "batch sizes not 10, 10, 5"
