# otlp-showcase.test.sh - spans and logs on the wire, decoded by the independent decoder
# and checked field by field: resource, scope, parent/child, remote parent, links, kinds,
# status, events, every attribute type, log severity, fields and trace correlation.
source tests/lib/otel.sh
need_node
start_receiver 200
export OTEL_METRICS_EXPORTER=none OTEL_RESOURCE_ATTRIBUTES='service.namespace=wood,deployment.environment=test%20env'
"$EMIT" showcase >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed: $(cat "$WD_TEST_TMP/err")"
wait_requests 2 || fail "expected 2 requests, got $(ls "$RX" | grep -c json)"
for n in 1 2; do
	url=$(node -p "require('$RX/$n.json').url")
	case $url in
	/v1/traces) decode traces $n >"$WD_TEST_TMP/traces.json" ;;
	/v1/logs) decode logs $n >"$WD_TEST_TMP/logs.json" ;;
	*) fail "unexpected path $url" ;;
	esac
done
head -n 1 "$WD_TEST_TMP/out" >"$WD_TEST_TMP/ids.json"
node - "$WD_TEST_TMP" "$RX" <<'JS'
const fs = require('fs');
const assert = require('assert/strict');
const [dir, rx] = process.argv.slice(2);
const ids = JSON.parse(fs.readFileSync(`${dir}/ids.json`));
const tr = JSON.parse(fs.readFileSync(`${dir}/traces.json`));
const lg = JSON.parse(fs.readFileSync(`${dir}/logs.json`));
for (const n of [1, 2]) {
  const m = JSON.parse(fs.readFileSync(`${rx}/${n}.json`));
  assert.equal(m.method, 'POST');
  assert.equal(m.headers['content-type'], 'application/x-protobuf');
}
const attrs = (list) => Object.fromEntries((list || []).map((a) => [a.key, a.value]));
const res = attrs(tr.resourceSpans[0].resource.attributes);
assert.deepEqual(res['service.name'], { stringValue: 'emit-test' });
assert.deepEqual(res['service.namespace'], { stringValue: 'wood' });
assert.deepEqual(res['deployment.environment'], { stringValue: 'test env' });
assert.deepEqual(res['telemetry.sdk.name'], { stringValue: 'woodctl' });
assert.deepEqual(res['telemetry.sdk.language'], { stringValue: 'c' });
assert.ok(res['telemetry.sdk.version'].stringValue.length > 0);
assert.match(res['service.instance.id'].stringValue, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
assert.ok(res['host.name'].stringValue.length > 0);
assert.equal(res['process.pid'].intValue, String(Number(res['process.pid'].intValue)));
assert.deepEqual(res['process.executable.name'], { stringValue: 'emit' });
const ss = tr.resourceSpans[0].scopeSpans;
assert.equal(ss.length, 1);
assert.equal(ss[0].scope.name, 'woodctl');
const spans = Object.fromEntries(ss[0].spans.map((s) => [s.name, s]));
assert.equal(ss[0].spans.length, 5);

const server = spans['GET /orders/{id}'];
assert.equal(server.kind, 'SPAN_KIND_SERVER');
assert.equal(server.traceId, '0af7651916cd43dd8448eb211c80319c'); // the remote parent's trace
assert.equal(server.parentSpanId, 'b7ad6b7169203331');
assert.equal(server.spanId, ids.server.span);
assert.equal(server.traceState, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
assert.equal(server.flags, 0x301); // sampled, parent known remote
const sa = attrs(server.attributes);
assert.deepEqual(sa['http.request.method'], { stringValue: 'GET' });
assert.deepEqual(sa['http.response.status_code'], { intValue: '200' });
assert.ok(BigInt(server.endTimeUnixNano) >= BigInt(server.startTimeUnixNano));
assert.ok(!server.status || !server.status.code || server.status.code === 'STATUS_CODE_UNSET');

const client = spans['SELECT orders'];
assert.equal(client.kind, 'SPAN_KIND_CLIENT');
assert.equal(client.traceId, server.traceId);
assert.equal(client.parentSpanId, server.spanId);
assert.equal(client.spanId, ids.client.span);
assert.equal(client.flags, 0x101); // parent local
const ca = attrs(client.attributes);
assert.deepEqual(ca.s, { stringValue: 'text' });
assert.deepEqual(ca.b, { boolValue: true });
assert.deepEqual(ca.i, { intValue: '-42' });
assert.deepEqual(ca.d, { doubleValue: 3.5 });
assert.deepEqual(ca.sa, { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }, { stringValue: 'c' }] } });
assert.deepEqual(ca.ia, { arrayValue: { values: [{ intValue: '1' }, { intValue: '-2' }, { intValue: '3000000000' }] } });
assert.deepEqual(ca.da, { arrayValue: { values: [{ doubleValue: 0.5 }, { doubleValue: -1.25 }] } });
assert.deepEqual(ca.ba, { arrayValue: { values: [{ boolValue: true }, { boolValue: false }] } });
assert.deepEqual(ca['error.type'], { stringValue: 'timeout' });
assert.equal(client.status.code, 'STATUS_CODE_ERROR');
assert.equal(client.status.message, 'query took too long');
assert.equal(client.events.length, 2);
assert.equal(client.events[0].name, 'cache.miss');
assert.deepEqual(attrs(client.events[0].attributes), { 'db.note': { stringValue: 'cache miss' }, rows: { intValue: '0' } });
assert.equal(client.events[1].name, 'exception');
assert.deepEqual(attrs(client.events[1].attributes), {
  'exception.type': { stringValue: 'timeout' },
  'exception.message': { stringValue: 'query took too long' },
});
assert.ok(BigInt(client.events[0].timeUnixNano) >= BigInt(client.startTimeUnixNano));

const producer = spans['orders publish'];
assert.equal(producer.kind, 'SPAN_KIND_PRODUCER');
assert.equal(producer.status.code, 'STATUS_CODE_OK');
assert.ok(!producer.status.message); // a description only belongs to ERROR

const consumer = spans['orders process'];
assert.equal(consumer.kind, 'SPAN_KIND_CONSUMER');
assert.equal(consumer.traceId, ids.consumer.trace);
assert.notEqual(consumer.traceId, server.traceId); // a new root
assert.ok(!consumer.parentSpanId || consumer.parentSpanId.length === 0);
assert.equal(consumer.links.length, 1);
assert.equal(consumer.links[0].traceId, server.traceId);
assert.equal(consumer.links[0].spanId, server.spanId);
assert.equal(consumer.links[0].traceState, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
assert.deepEqual(attrs(consumer.links[0].attributes), { 'link.reason': { stringValue: 'batch' } });
assert.equal(consumer.links[0].flags, 0x101);

const internal = spans.compute;
assert.equal(internal.kind, 'SPAN_KIND_INTERNAL');
assert.equal(internal.parentSpanId, server.spanId);

// Logs: same resource, severity, body, fields as attributes, trace correlation.
const lres = attrs(lg.resourceLogs[0].resource.attributes);
assert.deepEqual(lres['service.instance.id'], res['service.instance.id']);
const recs = lg.resourceLogs[0].scopeLogs[0].logRecords;
assert.equal(recs.length, 3);
assert.equal(recs[0].severityNumber, 'SEVERITY_NUMBER_INFO');
assert.equal(recs[0].severityText, 'INFO');
assert.deepEqual(recs[0].body, { stringValue: 'handling order' });
assert.equal(recs[0].traceId, server.traceId);
assert.equal(recs[0].spanId, server.spanId);
assert.equal(recs[0].flags, 1);
assert.ok(BigInt(recs[0].observedTimeUnixNano) >= BigInt(recs[0].timeUnixNano));
assert.equal(recs[1].severityNumber, 'SEVERITY_NUMBER_WARN');
assert.deepEqual(recs[1].body, { stringValue: 'stock low for oak' });
assert.equal(recs[1].traceId, consumer.traceId);
assert.deepEqual(attrs(recs[1].attributes), {
  order_id: { stringValue: '7' }, qty: { intValue: '3' }, price: { doubleValue: 9.5 },
  rush: { boolValue: true }, 'logger.name': { stringValue: 'orders.worker' },
});
assert.equal(recs[2].severityNumber, 'SEVERITY_NUMBER_ERROR');
assert.ok(!recs[2].traceId || recs[2].traceId.length === 0);
console.log('showcase: all fields as expected');
JS
