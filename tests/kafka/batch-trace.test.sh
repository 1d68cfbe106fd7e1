# A batch's telemetry, decoded by the independent OTLP decoder: one CONSUMER span
# "process {topic}" per batch call with messaging.batch.message_count and a LINK to the
# "send {topic}" span of every message in it; a message the batch did not finish gets its
# own "process {topic}" span (linked to its send span) when it goes on alone.
set -eu
. tests/lib/broker.sh
. tests/lib/otel.sh
need_node
broker_start --topics bx --partitions 1
start_receiver 200
trap 'rc=$?; broker_stop; kill $RX_PID 2>/dev/null; exit $rc' EXIT
export OTEL_SDK_DISABLED=false OTEL_BSP_SCHEDULE_DELAY=100 OTEL_METRICS_EXPORTER=none \
	OTEL_LOGS_EXPORTER=none
out=$WD_TEST_TMP/out
OTEL_SERVICE_NAME=shop "$KDRV" produce bx -n 40 m >/dev/null
OTEL_SERVICE_NAME=checker timeout 90 "$KDRV" consume bx g -n 40 --batch 100 --fail-times 1 \
	--fail-match 'm-5' >"$out"
cat "$out"
grep -q '^batch n=' "$out"
decode_all traces >"$WD_TEST_TMP/decoded"
node - "$WD_TEST_TMP/decoded" <<'JS'
const fs = require('fs');
const docs = fs.readFileSync(process.argv[2], 'utf8').split(/\n(?=\{)/).filter(s => s.trim()).map(JSON.parse);
const spans = [];
for (const d of docs)
  for (const rs of d.resourceSpans || []) {
    const svc = rs.resource.attributes.find(a => a.key === 'service.name').value.stringValue;
    for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ svc, ...s });
  }
const attrs = s => Object.fromEntries((s.attributes || []).map(a => [a.key, Object.values(a.value)[0]]));
const fail = m => { console.error('FAIL: ' + m); process.exit(1); };
const sends = new Map(spans.filter(s => s.svc === 'shop' && s.name === 'send bx').map(s => [s.spanId, s]));
if (sends.size !== 40) fail(`expected 40 send spans, got ${sends.size}`);
const procs = spans.filter(s => s.svc === 'checker' && s.name === 'process bx');
const batches = procs.filter(s => attrs(s)['messaging.batch.message_count'] !== undefined);
const singles = procs.filter(s => attrs(s)['messaging.batch.message_count'] === undefined);
if (!batches.length) fail('no batch span');
const linked = new Set();
let inBatches = 0;
for (const b of batches) {
  const a = attrs(b), n = Number(a['messaging.batch.message_count']);
  if (b.kind !== 'SPAN_KIND_CONSUMER' || b.parentSpanId) fail('batch span kind/parent ' + b.kind);
  for (const [k, v] of Object.entries({ 'messaging.system': 'kafka', 'messaging.operation.name': 'process',
    'messaging.operation.type': 'process', 'messaging.destination.name': 'bx', 'messaging.consumer.group.name': 'g' }))
    if (a[k] !== v) fail(`batch ${k}=${a[k]}, want ${v}`);
  if (a['messaging.kafka.offset'] !== undefined) fail('a batch span names one offset');
  const links = b.links || [];
  if (links.length !== n) fail(`batch of ${n} has ${links.length} links`);
  for (const l of links) {
    const s = sends.get(l.spanId);
    if (!s || s.traceId !== l.traceId) fail('a batch link is not a send span');
    linked.add(l.spanId);
  }
  inBatches += n;
}
// Messages handled alone: the first one (before anything else was fetched, perhaps) and
// the retried m-5 (its batch attempt failed).
const m5 = [...sends.values()].find(s => attrs(s)['messaging.kafka.offset'] == 4);
const alone = singles.find(s => (s.links || []).some(l => l.spanId === m5.spanId));
if (!alone) fail('the retried message has no span of its own linked to its send span');
if (Number(attrs(alone)['woodctl.kafka.attempts']) !== 2) fail('retried message attempts ' + attrs(alone)['woodctl.kafka.attempts']);
const firstOnly = singles.filter(s => s !== alone).length;
if (inBatches + firstOnly !== 40) fail(`messages in batches ${inBatches} + alone ${firstOnly} != 40`);
console.log(`ok: ${batches.length} batch spans covering ${inBatches} messages (${linked.size} distinct links), ${singles.length} single spans`);
JS
