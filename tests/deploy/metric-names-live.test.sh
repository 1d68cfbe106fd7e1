# The dashboards query what the roles really emit: `woodctl up` runs the whole system
# (PostgreSQL, broker, all seven roles) with errors on, one poison message goes to each
# topic, and then every name in deploy/grafana/metric-names.txt must be a series in some
# role's GET /metrics, every label a Mimir panel uses on it must be on those series (or
# come from the resource as Mimir's OTLP ingestion makes it), and every fixed label
# matcher must select a real series (tests/lib/metric_check.py).
. tests/lib/assert.sh
command -v kcat >/dev/null || { echo "skip: kcat is not installed"; exit 77; }
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "skip: no $PY"; exit 77; }
CHECK=tests/lib/metric_check.py
. tests/lib/pg.sh
pg_start

keep=$WD_TEST_TMP/keep
log=$WD_TEST_TMP/up.log
DATABASE_URL=$PG_URL UP_STATUS_INTERVAL=5 "$WOODCTL" up --interval 0.2 --error-rate 0.2 --keep "$keep" >"$log" 2>&1 &
up=$!
trap 'kill -TERM $up 2>/dev/null; wait $up; pg_cleanup' EXIT
for _ in $(seq 1200); do
	grep -q 'all started' "$log" && break
	kill -0 $up 2>/dev/null || fail "up exited early: $(tail -20 "$log")"
	sleep 0.1
done
grep -q 'all started' "$log" || fail "up did not start everything in 120 s: $(tail -20 "$log")"

# Each role's port is in its environment (PORT for the APIs, ADMIN_PORT for the others);
# up chose them.
declare -A PORTS
for pid in $(pgrep -P $up); do
	role=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | sed -n 2p)
	case $role in broker | otlp-sink | '') continue ;; esac
	port=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^\(ADMIN_\)\{0,1\}PORT=//p' | head -n 1)
	[ -n "$port" ] || fail "no PORT/ADMIN_PORT in the environment of $role ($pid)"
	PORTS[$role]=$port
done
[ "${#PORTS[@]}" = 7 ] || fail "expected 7 roles under up, found ${#PORTS[@]}: ${!PORTS[*]}"

# Dead letters need a message the consumers cannot parse.
broker=$(cat "$keep/broker.address")
for t in orders stocks; do
	printf 'not json\n' | kcat -b "$broker" -P -t "$t" || fail "kcat could not produce to $t"
done

# Counters appear with their first increment, so some names take a while (a blocked
# order needs the stock to run short): scrape until the check passes, 120 s at most.
scrape() {
	local r
	rm -f "$WD_TEST_TMP"/metrics.*
	for r in "${!PORTS[@]}"; do
		curl -sf --max-time 5 "http://127.0.0.1:${PORTS[$r]}/metrics" >"$WD_TEST_TMP/metrics.$r" ||
			fail "GET /metrics on $r (port ${PORTS[$r]}) failed"
	done
}
sleep 10
ok=
for _ in $(seq 40); do
	kill -0 $up 2>/dev/null || fail "up exited: $(tail -20 "$log")"
	scrape
	if "$PY" $CHECK . "$WD_TEST_TMP"/metrics.* >"$WD_TEST_TMP/check.out" 2>&1; then
		ok=1
		break
	fi
	sleep 3
done
cat "$WD_TEST_TMP/check.out"
[ -n "$ok" ] || fail "the dashboards query what the roles do not emit: $(cat "$WD_TEST_TMP/check.out")"

kill -TERM $up
wait $up
trap pg_cleanup EXIT

# The check can fail: a name no role emits, a label a series does not have, a
# resource label Mimir would not promote, a matcher value nobody writes.
grep -vh '^orders_created_total' "$WD_TEST_TMP"/metrics.* >"$WD_TEST_TMP/cut"
expect_rc 1 "$PY" $CHECK . "$WD_TEST_TMP/cut"
expect_out '^missing orders_created_total'
root=$WD_TEST_TMP/root
mkdir -p "$root/deploy" "$root/src/kafka"
cp -r deploy/grafana deploy/mimir.yaml "$root/deploy/"
cp src/kafka/kafka.c "$root/src/kafka/"
sed -i 's/sum by (wood_type) (rate(orders_created_total/sum by (woodtype) (rate(orders_created_total/' \
	"$root/deploy/grafana/dashboards/business.json"
sed -i 's/result=\\"blocked\\"/result=\\"stuck\\"/' "$root/deploy/grafana/dashboards/business.json"
sed -i 's/promote_otel_resource_attributes: "service.name,/promote_otel_resource_attributes: "/' \
	"$root/deploy/mimir.yaml"
expect_rc 1 "$PY" $CHECK "$root" "$WD_TEST_TMP"/metrics.*
expect_out '^orders_created_total has no label woodtype'
expect_out 'orders_managed_total\{result="stuck"\} matches no series'
expect_out 'http_server_request_duration_seconds_count has no label service_name in Mimir'
# error.type on sent messages is only seen on failed sends, so the code is checked for it.
cp -r deploy/grafana deploy/mimir.yaml "$root/deploy/"
sed -i 's/WD_A_STR("error.type", rd_kafka_err2name(err))/WD_A_STR("error.kind", rd_kafka_err2name(err))/' \
	"$root/src/kafka/kafka.c"
expect_rc 1 "$PY" $CHECK "$root" "$WD_TEST_TMP"/metrics.*
expect_out '^messaging_client_sent_messages_total has no label error_type'
