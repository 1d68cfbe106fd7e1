# otel-exporters.test.sh - console exporters print one line per item on stderr; the
# always_off sampler sends no spans but logs still flow; OTEL_SDK_DISABLED sends nothing
# yet still propagates the incoming trace.
source tests/lib/otel.sh
need_node
start_receiver 200
OTEL_TRACES_EXPORTER=console OTEL_LOGS_EXPORTER=none OTEL_METRICS_EXPORTER=none \
	"$EMIT" showcase >/dev/null 2>"$WD_TEST_TMP/err" || fail "emit failed"
[ "$(grep -c '^{"span":' "$WD_TEST_TMP/err")" = 5 ] || fail "console: $(cat "$WD_TEST_TMP/err")"
grep '^{"span":"SELECT orders"' "$WD_TEST_TMP/err" | grep -q '"status":"error"' || fail "console status"
grep '^{"span":' "$WD_TEST_TMP/err" | node -e '
const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
const c = lines.find((l) => l.span === "SELECT orders");
if (c.kind !== "client" || c.attributes.ia[2] !== 3000000000 || c.events[1].name !== "exception")
  process.exit(1);' || fail "console lines are not the expected JSON"

OTEL_TRACES_SAMPLER=always_off OTEL_METRICS_EXPORTER=none "$EMIT" showcase >/dev/null 2>&1 ||
	fail "emit failed"
wait_requests 1 || fail "logs were not sent"
sleep 0.3
[ ! -e "$RX/2.json" ] || fail "more than the logs request was sent"
[ "$(node -p "require('$RX/1.json').url")" = /v1/logs ] || fail "always_off still sent spans"

OTEL_SDK_DISABLED=true "$EMIT" showcase >"$WD_TEST_TMP/out" 2>/dev/null || fail "emit failed"
grep -q '"server":{"trace":"0af7651916cd43dd8448eb211c80319c","span":"b7ad6b7169203331"}' \
	"$WD_TEST_TMP/out" || fail "disabled SDK did not pass the incoming context on: $(head -1 "$WD_TEST_TMP/out")"
sleep 0.3
[ ! -e "$RX/2.json" ] || fail "disabled SDK sent something"
echo "exporters ok"
