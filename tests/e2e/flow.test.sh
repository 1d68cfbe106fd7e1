# End to end: `woodctl up` runs the broker, the sink and all seven roles as separate
# processes on a real PostgreSQL, fast, with ERROR_RATE=0 (E2E_ERROR_RATE to change it).
# Then, from the database alone: every order exists once per Kafka message, stock was
# taken exactly once for each ready order and never for an order that does not match, and
# the stock left equals deliveries minus decreases per wood type.
# The sink's files hold spans, metrics and logs from all seven services, with the
# consumer's span linked to the producer's and the API's server span in its trace.
. tests/lib/assert.sh
. tests/lib/pg.sh
pg_start
keep=$WD_TEST_TMP/keep
DATABASE_URL=$PG_URL UP_STATUS_INTERVAL=2 OTEL_BSP_SCHEDULE_DELAY=500 \
	"$WOODCTL" up --interval 0.05 --error-rate "${E2E_ERROR_RATE:-0}" --keep "$keep" >"$WD_TEST_TMP/up.log" 2>&1 &
up=$!
trap 'kill -TERM $up 2>/dev/null; wait $up; pg_cleanup' EXIT
q() { pg_psql -At -c "$1"; }
# Let orders flow until at least 60 have been decided.
for i in $(seq 240); do
	sleep 0.5
	decided=$(q "SELECT count(*) FROM orders WHERE order_status IN ('READY','BLOCKED')" 2>/dev/null)
	[ "${decided:-0}" -ge 60 ] && break
	kill -0 $up 2>/dev/null || fail "up exited early: $(tail -20 "$WD_TEST_TMP/up.log")"
done
[ "${decided:-0}" -ge 60 ] || fail "only ${decided:-0} orders decided in 120 s: $(grep status "$WD_TEST_TMP/up.log" | tail -3)"
kill -TERM $up
wait $up
rc=$?
trap pg_cleanup EXIT
[ $rc = 0 ] || fail "up exited $rc on SIGTERM"
grep -q 'stopping: producers, consumers, worker, APIs, sink, broker, database' "$WD_TEST_TMP/up.log" ||
	fail "no ordered stop"
# No role crashed or restarted.
! grep -E '\*\*\* (crashed|exited)' "$WD_TEST_TMP/up.log" || fail "a role crashed"

# Exactly once: one order per order message key, and no key without its order.
orders=$(q "SELECT count(*) FROM orders")
keys=$(q "SELECT count(*) FROM idempotency_keys WHERE scope = 'order' AND status = 201")
[ "$orders" = "$keys" ] || fail "orders $orders != accepted order messages $keys"
dups=$(q "SELECT count(*) FROM (SELECT body FROM idempotency_keys WHERE scope = 'order' GROUP BY body HAVING count(*) > 1) d")
[ "$dups" = 0 ] || fail "$dups orders were created twice"
# Every ready order took its stock, and every decrease belongs to an order of that type
# and quantity (a key per order: never twice).
bad=$(q "SELECT count(*) FROM orders o WHERE o.order_status = 'READY' AND NOT EXISTS
	(SELECT 1 FROM idempotency_keys k WHERE k.scope = 'stock' AND k.key = 'order-' || o.id
	 AND k.status = 200)")
[ "$bad" = 0 ] || fail "$bad ready orders without their stock decrease"
bad=$(q "SELECT count(*) FROM idempotency_keys k LEFT JOIN orders o ON k.key = 'order-' || o.id
	WHERE k.scope = 'stock' AND k.request_hash LIKE 'take:%' AND (o.id IS NULL OR
	k.request_hash <> 'take:' || lower(o.wood_type::text) || ':' || o.quantity)")
[ "$bad" = 0 ] || fail "$bad stock decreases that match no order"
# Stock left = deliveries - decreases, per wood type (nothing negative).
mismatch=$(q "WITH d AS (SELECT split_part(request_hash, ':', 2) AS t,
	sum(split_part(request_hash, ':', 3)::int) AS n FROM idempotency_keys
	WHERE scope = 'stock' AND request_hash LIKE 'add:%' AND status = 201 GROUP BY 1),
	r AS (SELECT split_part(request_hash, ':', 2) AS t,
	sum(split_part(request_hash, ':', 3)::int) AS n FROM idempotency_keys
	WHERE scope = 'stock' AND request_hash LIKE 'take:%' AND status = 200 GROUP BY 1)
	SELECT count(*) FROM d LEFT JOIN r USING (t)
	FULL JOIN (SELECT lower(wood_type::text) AS t, quantity FROM stocks) s USING (t)
	WHERE coalesce(d.n, 0) - coalesce(r.n, 0) <> coalesce(s.quantity, 0) OR s.quantity < 0")
[ "$mismatch" = 0 ] || fail "stock does not add up for $mismatch wood types: $(q 'SELECT * FROM stocks')"
ready=$(q "SELECT count(*) FROM orders WHERE order_status = 'READY'")
[ "$ready" -gt 0 ] || fail "no order became ready"
echo "orders $orders, ready $ready, decided $decided"

# Telemetry: every service in every signal.
tel=$keep/telemetry
for f in traces metrics logs; do
	[ -s "$tel/$f.jsonl" ] || fail "no $f.jsonl"
	for s in customer supplier ordercheck suppliercheck order stock ordermanagement; do
		grep -q "\"stringValue\":\"$s\"" "$tel/$f.jsonl" || fail "no $f from $s"
	done
done
# One trace: process orders (CONSUMER, linked to customer's send orders) -> POST /orders
# (SERVER, in order) -> INSERT orders (CLIENT, in order). When several orders were waiting,
# ordercheck sent them as one batch: the same shape with POST /orders/batch, and the batch's
# span links to every message's send span.
node - "$tel/traces.jsonl" <<'JS' || fail "trace shape not as expected"
const fs = require('fs');
const spans = [];
for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
  if (!line) continue;
  for (const rs of JSON.parse(line).resourceSpans || []) {
    const svc = rs.resource.attributes.find((a) => a.key === 'service.name').value.stringValue;
    for (const ss of rs.scopeSpans || []) for (const s of ss.spans || []) spans.push({ ...s, svc });
  }
}
const byId = new Map(spans.map((s) => [s.spanId, s]));
const send = spans.filter((s) => s.svc === 'customer' && s.name === 'send orders');
const proc = spans.filter((s) => s.svc === 'ordercheck' && s.name === 'process orders');
if (!send.length || !proc.length) throw new Error(`send ${send.length}, process ${proc.length}`);
let good = 0;
for (const p of proc) {
  const link = (p.links || []).find((l) => byId.get(l.spanId)?.name === 'send orders');
  if (!link || link.traceId === p.traceId) continue;
  const server = spans.find((s) => s.svc === 'order' &&
    (s.name === 'POST /orders' || s.name === 'POST /orders/batch') &&
    s.traceId === p.traceId && byId.get(s.parentSpanId)?.traceId === p.traceId);
  if (!server) continue;
  const insert = spans.find((s) => s.svc === 'order' && s.parentSpanId === server.spanId &&
    s.name.startsWith('INSERT orders'));
  if (insert) good++;
}
if (!good) throw new Error('no complete trace');
console.log(`complete traces: ${good} of ${proc.length}`);
JS
