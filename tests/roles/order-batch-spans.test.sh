# The telemetry of POST /orders/batch, decoded by the independent OTLP decoder: one SERVER
# span "POST /orders/batch" with woodctl.batch.size, marked ERROR with an exception event per
# simulated item failure, and the batch's few database statements as its CLIENT children.
. tests/lib/assert.sh
. tests/lib/otel.sh
. tests/lib/pg.sh
. tests/lib/role.sh
. tests/lib/api.sh
command -v node >/dev/null || { echo "node is not installed"; exit 77; }
[ -d tests/lib/otlp-decode/node_modules/@opentelemetry/otlp-transformer ] ||
	{ echo "decoder not installed (deploy/deps.sh node)"; exit 77; }
start_receiver 200
pg_start
role_up order PORT /ready DATABASE_URL="$PG_URL" ERROR_RATE=0.5 OTEL_SDK_DISABLED=false \
	OTEL_BSP_SCHEDULE_DELAY=100 OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none ||
	fail "order not ready: $(cat "$WD_TEST_TMP/order.log")"
trap 'roles_cleanup; kill $RX_PID 2>/dev/null' EXIT
u=http://127.0.0.1:$ROLE_PORT
# 40 items: at ERROR_RATE 0.5 some fail and some land (all one way: 2 in 2^40).
LAST="batch"
call POST /orders/batch "$(jq -cn '{orders: [range(40) | {wood_type: "oak", quantity: 1, idempotency_key: "t-\(.)"}]}')"
[ "$STATUS" = 200 ] || fail "$LAST: $STATUS $OUT"
failed=$(jq '[.results[] | select(.status == 500)] | length' <<<"$OUT")
created=$(jq '[.results[] | select(.status == 201)] | length' <<<"$OUT")
[ "$failed" -gt 0 ] && [ "$created" -gt 0 ] || fail "$LAST: $failed failed, $created created"
for _ in $(seq 100); do
	decode_all traces >"$WD_TEST_TMP/traces.json"
	grep -q 'POST /orders/batch' "$WD_TEST_TMP/traces.json" && grep -q 'UPDATE idempotency_keys' "$WD_TEST_TMP/traces.json" && break
	sleep 0.1
done
python3 - "$WD_TEST_TMP/traces.json" "$failed" <<'PY' || fail "spans"
import json, sys
text, failed = open(sys.argv[1]).read(), int(sys.argv[2])
dec, docs, i = json.JSONDecoder(), [], 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    d, i = dec.raw_decode(text, i)
    docs.append(d)
spans = [s for d in docs for rs in d.get("resourceSpans", []) for ss in rs["scopeSpans"] for s in ss["spans"]]
attrs = lambda s: {a["key"]: list(a["value"].values())[0] for a in s.get("attributes", [])}
server = [s for s in spans if s["name"] == "POST /orders/batch"]
assert len(server) == 1, f"{len(server)} server spans"
srv = server[0]
a = attrs(srv)
assert srv["kind"] == "SPAN_KIND_SERVER", srv["kind"]
assert str(a.get("woodctl.batch.size")) == "40", a
assert a.get("http.route") == "/orders/batch" and str(a.get("http.response.status_code")) == "200", a
assert srv.get("status", {}).get("code") == "STATUS_CODE_ERROR", srv.get("status")
ev = [e for e in srv.get("events", []) if e["name"] == "exception"]
assert len(ev) == failed, f"{len(ev)} exception events, {failed} failed items"
kids = [s["name"] for s in spans if s.get("parentSpanId") == srv["spanId"]]
want = ["INSERT idempotency_keys", "SELECT generate_series", "INSERT orders", "UPDATE idempotency_keys"]
db = [k for k in kids if k not in ("BEGIN", "COMMIT")]
assert db == want, f"children of the server span: {kids}"
assert len(kids) <= 7, kids
print("ok:", len(kids), "children:", kids)
PY
