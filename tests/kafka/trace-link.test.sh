# Telemetry across a Kafka hop, decoded by the independent OTLP decoder: the PRODUCER span
# "send {topic}" with the semconv attributes, its context in the message's traceparent
# header, and the CONSUMER span "process {topic}" in a new trace that LINKS to it (not a
# child), with the consumer's attributes; what the handler does runs inside the process span
# (here: the dead-letter send, a child of it).
set -eu
. tests/lib/broker.sh
. tests/lib/otel.sh
need_node
broker_start --topics tl --partitions 1
start_receiver 200
trap 'rc=$?; broker_stop; kill $RX_PID 2>/dev/null; exit $rc' EXIT
export OTEL_SDK_DISABLED=false OTEL_BSP_SCHEDULE_DELAY=100 OTEL_METRICS_EXPORTER=none \
	OTEL_LOGS_EXPORTER=none
out=$WD_TEST_TMP/out
OTEL_SERVICE_NAME=shop "$KDRV" produce tl -k order-1 '{"n": 1}' >/dev/null
OTEL_SERVICE_NAME=shop "$KDRV" produce tl poison >/dev/null
OTEL_SERVICE_NAME=checker timeout 90 "$KDRV" consume tl g -n 2 --reject-match poison >"$out"
cat "$out"
tp=$(grep -o 'h:traceparent=[^ ]*' "$out" | head -1 | cut -d= -f2)
[[ $tp =~ ^00-[0-9a-f]{32}-[0-9a-f]{16}-01$ ]]
# Every trace request, decoded, into one list of spans with their service names.
decode_all traces >"$WD_TEST_TMP/decoded"
node - "$WD_TEST_TMP/decoded" "$tp" <<'JS'
const fs = require('fs');
const [file, tp] = process.argv.slice(2);
// The decoder prints one JSON document per request; split them.
const docs = fs.readFileSync(file, 'utf8').split(/\n(?=\{)/).filter(s => s.trim()).map(JSON.parse);
const spans = [];
for (const d of docs)
  for (const rs of d.resourceSpans || []) {
    const svc = rs.resource.attributes.find(a => a.key === 'service.name').value.stringValue;
    for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ svc, ...s });
  }
const attrs = s => Object.fromEntries((s.attributes || []).map(a => [a.key, Object.values(a.value)[0]]));
const fail = m => { console.error('FAIL: ' + m); console.error(JSON.stringify(spans, null, 1)); process.exit(1); };
const find = (name, pred = () => true) => spans.filter(s => s.name === name && pred(s));
const sends = find('send tl', s => s.svc === 'shop');
if (sends.length !== 2) fail(`expected 2 "send tl" spans, got ${sends.length}`);
const send = sends.find(s => attrs(s)['messaging.kafka.message.key'] === 'order-1');
if (!send) fail('no send span with the message key');
const sa = attrs(send);
const want = { 'messaging.system': 'kafka', 'messaging.operation.name': 'send',
  'messaging.operation.type': 'send', 'messaging.destination.name': 'tl',
  'server.address': '127.0.0.1', 'messaging.destination.partition.id': '0' };
for (const [k, v] of Object.entries(want)) if (sa[k] !== v) fail(`send ${k}=${sa[k]}, want ${v}`);
if (String(sa['messaging.kafka.offset']) !== '0') fail('send offset ' + sa['messaging.kafka.offset']);
if (send.kind !== 'SPAN_KIND_PRODUCER') fail('send kind ' + send.kind);
if (tp !== `00-${send.traceId}-${send.spanId}-01`) fail(`header ${tp} is not the send span's context`);
const procs = find('process tl', s => s.svc === 'checker');
if (procs.length !== 2) fail(`expected 2 "process tl" spans, got ${procs.length}`);
const proc = procs.find(s => attrs(s)['messaging.kafka.offset'] == 0);
const pa = attrs(proc);
const pwant = { 'messaging.system': 'kafka', 'messaging.operation.name': 'process',
  'messaging.operation.type': 'process', 'messaging.destination.name': 'tl',
  'messaging.consumer.group.name': 'g', 'messaging.destination.partition.id': '0',
  'messaging.kafka.message.key': 'order-1' };
for (const [k, v] of Object.entries(pwant)) if (pa[k] !== v) fail(`process ${k}=${pa[k]}, want ${v}`);
if (proc.kind !== 'SPAN_KIND_CONSUMER') fail('process kind ' + proc.kind);
if (proc.traceId === send.traceId) fail('process span is in the producer trace (should be linked, not a child)');
if (proc.parentSpanId) fail('process span has a parent');
const links = proc.links || [];
if (links.length !== 1 || links[0].traceId !== send.traceId || links[0].spanId !== send.spanId)
  fail('process span does not link to the send span: ' + JSON.stringify(links));
if (proc.status && proc.status.code === 'STATUS_CODE_ERROR') fail('a DONE message marked ERROR');
// The poison one: ERROR with the reason, and its dead-letter send is a child of it.
const bad = procs.find(s => attrs(s)['messaging.kafka.offset'] == 1);
if (!bad.status || bad.status.code !== 'STATUS_CODE_ERROR') fail('rejected message not ERROR');
if (attrs(bad)['error.type'] !== 'rejected') fail('error.type ' + attrs(bad)['error.type']);
const dlq = find('send tl.dlq');
if (dlq.length !== 1 || dlq[0].traceId !== bad.traceId || dlq[0].parentSpanId !== bad.spanId)
  fail('dead-letter send is not a child of the process span');
console.log('ok: send', send.spanId, '-> link from process', proc.spanId, '(trace', proc.traceId + ')');
JS
