# The Kafka core's metrics, exported over OTLP and decoded independently: messages sent
# (with error.type only on failures), consumed, processed (duration histogram, error.type on
# the dead-lettered one), dead-lettered, and the consumer lag gauge per partition (0 when
# caught up, 2 when stuck on the first of three messages).
set -eu
. tests/lib/broker.sh
. tests/lib/otel.sh
need_node
broker_start --topics mt,mt2 --partitions 1
start_receiver 200
trap 'rc=$?; broker_stop; kill $RX_PID 2>/dev/null; exit $rc' EXIT
export OTEL_SDK_DISABLED=false OTEL_TRACES_EXPORTER=none OTEL_LOGS_EXPORTER=none \
	OTEL_METRIC_EXPORT_INTERVAL=250
"$KDRV" produce mt -n 3 m >/dev/null
"$KDRV" produce mt poison >/dev/null
timeout 90 "$KDRV" consume mt g -n 4 --reject-match poison --linger-ms 1500 >"$WD_TEST_TMP/out"
# A consumer stuck on its first message (BLOCK: dependency down) while two more wait:
# lag 2. SIGTERM stops it cleanly (the message stays uncommitted) and exports a last time.
"$KDRV" produce mt2 -n 3 b >/dev/null
"$KDRV" consume mt2 g2 --block-file "$WD_TEST_TMP/never" >"$WD_TEST_TMP/out2" 2>&1 &
pid=$!
wait_for "$WD_TEST_TMP/out2" '^block mt2 0 0' 60
sleep 3
kill -TERM $pid
wait $pid
for j in "$RX"/*.json; do
	n=$(basename "$j" .json)
	grep -q '"url":"/v1/metrics"' "$j" && decode metrics "$n"
done >"$WD_TEST_TMP/decoded"
node - "$WD_TEST_TMP/decoded" <<'JS'
const fs = require('fs');
const docs = fs.readFileSync(process.argv[2], 'utf8').split(/\n(?=\{)/).filter(s => s.trim()).map(JSON.parse);
const fail = m => { console.error('FAIL: ' + m); process.exit(1); };
const attrs = p => Object.fromEntries((p.attributes || []).map(a => [a.key, Object.values(a.value)[0]]));
// Cumulative temporality: the last export of each process holds its totals; keep, per
// metric and process (service.instance.id), the latest request's data points.
const last = {};
for (const d of docs)
  for (const rm of d.resourceMetrics || []) {
    const inst = rm.resource.attributes.find(a => a.key === 'service.instance.id').value.stringValue;
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) last[m.name + '|' + inst] = m;
  }
const all = name => Object.entries(last).filter(([k]) => k.startsWith(name + '|')).map(([, m]) => m);
const points = m => (m.sum || m.histogram || m.gauge).dataPoints;
const sumOf = (name, pred = () => true) => all(name).flatMap(points).filter(p => pred(attrs(p)))
  .reduce((t, p) => t + Number(p.asInt ?? p.asDouble ?? p.count), 0);
// Producers: two processes (3 and 1 messages) plus the dead-letter producer inside the consumer.
const sent = all('messaging.client.sent.messages');
if (!sent.length) fail('no messaging.client.sent.messages');
if (!sent[0].sum.isMonotonic) fail('sent.messages is not a monotonic sum');
const sentTl = sumOf('messaging.client.sent.messages', a => a['messaging.destination.name'] === 'mt');
const sentDlq = sumOf('messaging.client.sent.messages', a => a['messaging.destination.name'] === 'mt.dlq');
if (sentTl !== 4 || sentDlq !== 1) fail(`sent mt=${sentTl} mt.dlq=${sentDlq}, want 4 and 1`);
if (sumOf('messaging.client.sent.messages', a => 'error.type' in a) !== 0) fail('error.type on successful sends');
const consumed = sumOf('messaging.client.consumed.messages', a => a['messaging.consumer.group.name'] === 'g' && a['messaging.destination.name'] === 'mt');
if (consumed !== 4) fail(`consumed ${consumed}, want 4`);
const pd = all('messaging.process.duration');
if (!pd.length || !pd[0].histogram) fail('no messaging.process.duration histogram');
const pdc = sumOf('messaging.process.duration', a => a['messaging.destination.name'] === 'mt');
if (pdc !== 4) fail('process.duration count ' + pdc);
if (sumOf('messaging.process.duration', a => a['messaging.destination.name'] === 'mt2' && a['error.type'] === 'stopped') !== 1)
  fail('the message abandoned at stop has no error.type=stopped duration');
if (sumOf('messaging.process.duration', a => a['error.type'] === 'rejected') !== 1) fail('no rejected process.duration point');
if (pd[0].unit !== 's') fail('process.duration unit ' + pd[0].unit);
if (sumOf('woodctl.messaging.dead_lettered.messages', a => a['error.type'] === 'rejected') !== 1) fail('dead_lettered');
const lag = all('messaging.kafka.consumer.lag');
if (!lag.length || !lag[0].gauge) fail('no messaging.kafka.consumer.lag gauge');
const lp = lag.flatMap(points).map(attrs);
if (!lp.some(a => a['messaging.destination.partition.id'] === '0' && a['messaging.destination.name'] === 'mt')) fail('lag has no point for mt[0]');
if (!lp.some(a => a['messaging.destination.name'] === 'mt2')) fail('lag has no point for mt2[0]');
const lag2 = all('messaging.kafka.consumer.lag').flatMap(points).filter(p => attrs(p)['messaging.destination.name'] === 'mt2');
if (!lag2.length || lag2.some(p => Number(p.asInt) !== 2)) fail('mt2 lag ' + JSON.stringify(lag2.map(p => p.asInt)) + ', want 2');
console.log('ok: sent', sentTl, '+', sentDlq, 'consumed', consumed, 'lag', JSON.stringify(points(lag[0]).map(p => p.asInt)));
JS
