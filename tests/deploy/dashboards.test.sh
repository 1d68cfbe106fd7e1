# The provisioned dashboards are valid Grafana JSON (schemaVersion >= 39, unique uids and
# titles, panels on the grid), every query uses a provisioned datasource uid and defined
# variables, every metric name is listed in deploy/grafana/metric-names.txt (or made by
# Tempo's metrics generator) and every listed name is used.
. tests/lib/assert.sh
. tests/lib/deploy.sh
check . dashboards
expect_out '^ok dashboards: [0-9]+ assertions'
for f in deploy/grafana/dashboards/*.json; do
	"$PY" -m json.tool "$f" >/dev/null || fail "$f is not valid JSON"
done
D=deploy/grafana/dashboards
mutate dashboards $D/kafka.json 's.replace("\"uid\": \"woodctl-kafka\"", "\"uid\": \"woodctl-red\"", 1)' 'uid woodctl-red also used by'
mutate dashboards $D/logs.json 's[:-3]' 'logs.json: not valid JSON'
mutate dashboards $D/red.json 's.replace("\"uid\": \"mimir\"", "\"uid\": \"prometheus\"")' "uses unknown datasource uid prometheus"
mutate dashboards $D/business.json 's.replace("orders_created_total", "orders_made_total")' 'queries orders_made_total, which is not in metric-names.txt'
mutate dashboards deploy/grafana/metric-names.txt 's + "orders_shipped_total\n"' 'lists orders_shipped_total, which no dashboard queries'
mutate dashboards $D/red.json 's.replace("service_name=~\\\"$service\\\"", "service_name=~\\\"$svc\\\"", 1)' 'uses undefined variable \$svc'
mutate dashboards $D/red.json 's.replace("\"schemaVersion\": 39", "\"schemaVersion\": 16")' 'schemaVersion 16 < 39'
mutate dashboards deploy/grafana/provisioning/dashboards/woodctl.yaml 's.replace("path: /etc/grafana/dashboards/woodctl", "path: /var/lib/grafana/dashboards")' 'provider path /var/lib/grafana/dashboards is not where'
# The committed JSON is what deploy/grafana/dashboards.py writes (no hand edits that the
# next regeneration would lose).
mkdir -p "$WD_TEST_TMP/gen"
"$PY" deploy/grafana/dashboards.py "$WD_TEST_TMP/gen" || fail "dashboards.py failed"
diff -r "$WD_TEST_TMP/gen" deploy/grafana/dashboards >"$WD_TEST_TMP/diff" ||
	fail "deploy/grafana/dashboards differs from dashboards.py's output: $(head -20 "$WD_TEST_TMP/diff")"
