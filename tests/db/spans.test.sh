# spans.test.sh - every statement is a CLIENT span, child of the caller's current span,
# with the database semantic conventions' attributes (never a parameter's value), a call
# refused without reaching the server included, and one db.client.operation.duration
# measurement per call; decoded by the independent OTLP decoder.
. "$(dirname "$0")/common.sh"
. tests/lib/otel.sh
set -u
command -v node >/dev/null || { echo "node is not installed"; exit 77; }
[ -d tests/lib/otlp-decode/node_modules/@opentelemetry/otlp-transformer ] ||
	{ echo "decoder not installed (deploy/deps.sh node)"; exit 77; }
start_receiver 200
pg_start || fail "cannot start PostgreSQL"
trap 'kill $RX_PID 2>/dev/null; pg_cleanup' EXIT
export DATABASE_URL=$PG_URL OTEL_SDK_DISABLED=false OTEL_LOGS_EXPORTER=none \
	OTEL_TRACES_EXPORTER=otlp OTEL_METRICS_EXPORTER=otlp
out=$("$DB_DRIVER" spans 2>"$WD_TEST_TMP/err") || { cat "$WD_TEST_TMP/err"; fail "driver: $out"; }
read -r _ trace root <<<"$(grep '^root ' <<<"$out")"
: >"$WD_TEST_TMP/traces.json"
: >"$WD_TEST_TMP/metrics.json"
for m in "$RX"/*.json; do
	n=$(basename "$m" .json)
	case $(node -p "require('$m').url") in
	/v1/traces) decode traces "$n" >>"$WD_TEST_TMP/traces.json" || fail "decode $n" ;;
	/v1/metrics) decode metrics "$n" >>"$WD_TEST_TMP/metrics.json" || fail "decode $n" ;;
	esac
done
python3 - "$WD_TEST_TMP/traces.json" "$WD_TEST_TMP/metrics.json" "$trace" "$root" "$PG_PORT" <<'PY' || fail "spans"
import json, sys
tf, mf, trace, root, port = sys.argv[1:6]

def docs(path):
    text, dec, i, out = open(path).read(), json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)

def val(v):
    for k in ("stringValue", "intValue", "boolValue", "doubleValue"):
        if k in v:
            return str(v[k])
    return None

def attrs(x):
    return {a["key"]: val(a["value"]) for a in x.get("attributes", [])}

bad = []
def check(cond, what):
    if not cond:
        bad.append(what)

spans = [s for d in docs(tf) for rs in d.get("resourceSpans", []) for ss in rs.get("scopeSpans", [])
         for s in ss.get("spans", [])]
db = [s for s in spans if s.get("kind") == "SPAN_KIND_CLIENT"]
names = [s["name"] for s in db]
want = ["CREATE", "INSERT spans_t", "SELECT public.spans_t", "INSERT spans_t", "UPDATE spans_t",
        "DELETE spans_t", "SELECT nowhere_t"]
refused = db.pop() if db and db[-1]["name"] == "SELECT nowhere_t" else None
check(names == want, f"span names {names}, want {want}")
for s in db:
    a = attrs(s)
    check(s["traceId"] == trace, f"{s['name']}: trace {s['traceId']}, want {trace}")
    check(s.get("parentSpanId") == root, f"{s['name']}: parent {s.get('parentSpanId')}, want {root}")
    check(a.get("db.system.name") == "postgresql", f"{s['name']}: db.system.name {a}")
    check(a.get("db.namespace") == "postgres", f"{s['name']}: db.namespace {a}")
    check(a.get("server.address") == "127.0.0.1", f"{s['name']}: server.address {a}")
    check(a.get("server.port") == port, f"{s['name']}: server.port {a}")
    check(a.get("db.operation.name") == s["name"].split(" ")[0], f"{s['name']}: operation {a}")
    check("s3cret" not in json.dumps(s), f"{s['name']}: a parameter value was recorded")
    if " " in s["name"]:
        check(a.get("db.collection.name") == s["name"].split(" ")[1], f"{s['name']}: collection {a}")
if refused:
    a = attrs(refused)
    check(a.get("error.type") == "unavailable" and "db.response.status_code" not in a,
          f"refused call: {a}")
    check(refused.get("status", {}).get("code") == "STATUS_CODE_ERROR", "refused call: status")
    check(refused.get("parentSpanId") == root, "refused call: parent")
    check(a.get("db.query.text") == "SELECT id FROM nowhere_t", f"refused call: text {a}")
ins = [s for s in db if s["name"] == "INSERT spans_t"]
if len(ins) == 2:
    ok, dup = ins
    check(attrs(ok).get("db.query.text") == "INSERT INTO spans_t (name) VALUES ($1)",
          f"query text {attrs(ok).get('db.query.text')}")
    check(ok.get("status", {}).get("code", "STATUS_CODE_UNSET") != "STATUS_CODE_ERROR", "ok insert has error status")
    check("db.response.status_code" not in attrs(ok), "ok insert has a status code")
    a = attrs(dup)
    check(a.get("db.response.status_code") == "23505", f"duplicate: status code {a}")
    check(a.get("error.type") == "23505", f"duplicate: error.type {a}")
    check(dup.get("status", {}).get("code") == "STATUS_CODE_ERROR", f"duplicate: status {dup.get('status')}")

points = [p for d in docs(mf) for rm in d.get("resourceMetrics", []) for sm in rm.get("scopeMetrics", [])
          for m in sm.get("metrics", []) if m["name"] == "db.client.operation.duration"
          for p in m["histogram"]["dataPoints"]]
check(points, "no db.client.operation.duration points")
total = sum(int(p["count"]) for p in points)
check(total == 7, f"duration count {total}, want 7")
for p in points:
    check(p.get("explicitBounds") == [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
          f"bounds {p.get('explicitBounds')}")
    a = attrs(p)
    check(a.get("db.system.name") == "postgresql" and "db.query.text" not in a, f"point attrs {a}")
for t, code in (("23505", "23505"), ("unavailable", None)):
    e = [p for p in points if attrs(p).get("error.type") == t]
    check(len(e) == 1 and int(e[0]["count"]) == 1, f"one failed measurement with error.type {t}")
    if e:
        check(attrs(e[0]).get("db.response.status_code") == code, f"{t}: status code {attrs(e[0])}")
sel = [p for p in points if attrs(p).get("db.collection.name") == "public.spans_t"]
check(len(sel) == 1 and attrs(sel[0]).get("db.operation.name") == "SELECT"
      and attrs(sel[0]).get("server.port") == port, f"SELECT point {sel and attrs(sel[0])}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(f"{len(db) + 1} client spans, {total} measurements")
PY
echo "spans ok"
