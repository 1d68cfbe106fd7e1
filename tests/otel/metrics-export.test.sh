# metrics-export: metrics leave through the real pipeline as POST /v1/metrics with a
# protobuf body that the independent decoder reads back: resource, process metrics, our
# counter and histogram, cumulative by default and delta on request, gzip when asked.
set -u
LIB=tests/lib
[ -f "$LIB/otel.sh" ] || { echo "the telemetry pipeline's test helpers are not in this tree"; exit 77; }
EMIT=$(dirname "$WOODCTL")/tests/otel/metrics-driver
. "$LIB/otel.sh"
need_node

# check N TEMPORALITY COUNTER_VALUE BUCKETS: request N decoded, asserted field by field.
check() {
	decode metrics "$1" > "$WD_TEST_TMP/m$1.json" || fail "request $1 does not decode"
	node - "$WD_TEST_TMP/m$1.json" "$2" "$3" "$4" <<'JS' || fail "request $1: see above"
const [file, temporality, counter, buckets] = process.argv.slice(2);
const req = JSON.parse(require('fs').readFileSync(file, 'utf8'));
const bad = [];
const rm = req.resourceMetrics[0];
const res = Object.fromEntries(rm.resource.attributes.map((a) => [a.key, a.value.stringValue]));
if (res['service.name'] !== 'metrics-test') bad.push('service.name ' + res['service.name']);
const ms = Object.fromEntries(rm.scopeMetrics[0].metrics.map((m) => [m.name, m]));
if (rm.scopeMetrics[0].scope.name !== 'woodctl') bad.push('scope ' + rm.scopeMetrics[0].scope.name);
const c = ms['test.orders'];
if (!c) bad.push('no test.orders');
else {
  const dp = c.sum.dataPoints[0];
  if (c.sum.aggregationTemporality !== 'AGGREGATION_TEMPORALITY_' + temporality) bad.push('temporality ' + c.sum.aggregationTemporality);
  if (!c.sum.isMonotonic) bad.push('not monotonic');
  if (dp.asInt !== counter) bad.push('counter ' + dp.asInt + ' want ' + counter);
  const keys = dp.attributes.map((a) => a.key).join(',');
  if (keys !== 'region,supplier') bad.push('attributes ' + keys);
  if (c.unit !== '{order}') bad.push('unit ' + c.unit);
}
const h = ms['test.latency'];
if (!h) bad.push('no test.latency');
else {
  const dp = h.histogram.dataPoints[0];
  if (dp.bucketCounts.join(',') !== buckets) bad.push('buckets ' + dp.bucketCounts.join(',') + ' want ' + buckets);
  if (dp.explicitBounds.join(',') !== '0.1,1,10') bad.push('bounds ' + dp.explicitBounds);
}
const cpu = ms['process.cpu.time'];
if (!cpu || cpu.sum.dataPoints.length !== 2) bad.push('process.cpu.time');
if (!ms['process.memory.usage'] || !(Number(ms['process.memory.usage'].sum.dataPoints[0].asInt) > 0)) bad.push('process.memory.usage');
for (const n of ['process.thread.count', 'process.open_file_descriptor.count', 'process.uptime', 'otel.sdk.span.dropped'])
  if (!ms[n]) bad.push('no ' + n);
if (bad.length) { console.log(bad.join('\n')); process.exit(1); }
JS
	grep -q '"method":"POST","url":"/v1/metrics"' "$RX/$1.json" || fail "request $1 was not POST /v1/metrics: $(cat "$RX/$1.json")"
	grep -qi '"content-type":"application/x-protobuf"' "$RX/$1.json" || fail "request $1 content type"
}

export OTEL_TRACES_EXPORTER=none OTEL_LOGS_EXPORTER=none OTEL_METRIC_EXPORT_INTERVAL=3600000

# Cumulative (default): the second request repeats the first plus what came after.
start_receiver 200
"$EMIT" export || fail "driver failed"
wait_requests 2 || fail "fewer than 2 requests"
check 1 CUMULATIVE 5 "1,0,1,0"
check 2 CUMULATIVE 8 "1,0,1,1"
kill "$RX_PID"; wait "$RX_PID" 2>/dev/null

# Delta, gzip: the second request carries only what came after the first.
rm -rf "$WD_TEST_TMP/rx" "$WD_TEST_TMP/rx.port"
start_receiver 200
OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta OTEL_EXPORTER_OTLP_COMPRESSION=gzip \
	"$EMIT" export || fail "driver failed"
wait_requests 2 || fail "fewer than 2 requests"
grep -q '"content-encoding":"gzip"' "$RX/1.json" || fail "not gzip"
check 1 DELTA 5 "1,0,1,0"
check 2 DELTA 3 "0,0,0,1"
kill "$RX_PID"; wait "$RX_PID" 2>/dev/null

# Console: one OTLP/JSON document per export on stdout, nothing on the network.
OTEL_METRICS_EXPORTER=console "$EMIT" export >"$WD_TEST_TMP/console" || fail "driver failed"
node - "$WD_TEST_TMP/console" <<'JS' || fail "console output: $(head -c 600 "$WD_TEST_TMP/console")"
const lines = require('fs').readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.startsWith('{'));
if (lines.length < 2) throw new Error('want 2 exports, got ' + lines.length);
const req = JSON.parse(lines[1]);
const m = req.resourceMetrics[0].scopeMetrics[0].metrics.find((x) => x.name === 'test.orders');
if (!m || m.sum.dataPoints[0].asInt !== '8' || m.sum.aggregationTemporality !== 2) throw new Error(JSON.stringify(m));
JS

# Prometheus text after start-up: target_info carries the resource; promtool parses it all.
OTEL_METRICS_EXPORTER=none "$EMIT" prometheus >"$WD_TEST_TMP/prom" || fail "driver failed"
grep -q '^target_info{.*service_name="metrics-test".*} 1$' "$WD_TEST_TMP/prom" ||
	fail "no target_info: $(head -5 "$WD_TEST_TMP/prom")"
grep -q '^test_orders_total{region="7",supplier="acme"} 5$' "$WD_TEST_TMP/prom" || fail "counter line"
grep -q '^test_latency_seconds_bucket{region="7",supplier="acme",le="+Inf"} 2$' "$WD_TEST_TMP/prom" ||
	fail "histogram line"
if command -v promtool >/dev/null; then
	promtool check metrics <"$WD_TEST_TMP/prom" >"$WD_TEST_TMP/lint" 2>&1
	rc=$?
	# 3 = lint findings only; the semconv *_count gauges are the known ones.
	[ $rc = 0 ] || { [ $rc = 3 ] && ! grep -v 'should not have "_count" suffix' "$WD_TEST_TMP/lint" | grep -q .; } ||
		fail "promtool ($rc): $(cat "$WD_TEST_TMP/lint")"
fi
echo ok
