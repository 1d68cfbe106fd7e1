#!/usr/bin/env bash
# e2e.sh - orders/s end to end and the RSS of each role under that load:
#   customer(s) -> Kafka (`woodctl broker`) -> ordercheck(s) -> order API -> PostgreSQL.
#
#   bench/e2e.sh [SECONDS] [CUSTOMERS] [CHECKS] [PARTITIONS]   (defaults: 20, 4, 4, 16)
#
# Each variant gets a fresh broker (topic "orders" pre-created with PARTITIONS partitions),
# an emptied throwaway PostgreSQL (tests/lib/pg.sh), a fresh order API and CHECKS ordercheck
# processes in one group; after the group has joined, the customers run for SECONDS, then
# everything is stopped. All with ERROR_RATE=0.
#   off    OTEL_SDK_DISABLED=true, LOG_LEVEL=WARNING, CUSTOMERS customers at
#          INTERVAL_SECONDS=INTERVAL (default 0.0002: 5k/s each, a pace): offered load above
#          what the pipeline takes, so inserted/s is its capacity. ordercheck sends what is
#          waiting in batches (BATCH_MAX, default 200)
#   single as off with BATCH_MAX=1: one POST /orders per message, as before batches
#   on     the same with traces, metrics and logs exported to a running `woodctl otlp-sink`
#   info   the same as off with LOG_LEVEL=INFO (every role logs per message; to a file)
#   paced  as off with ONE customer (5k/s at the default INTERVAL): a load below capacity, so
#          the latency is not a backlog
#   paced-fw10  paced with the ordercheck consumers at KAFKA_PROP_FETCH_WAIT_MAX_MS=10: the
#          embedded broker (librdkafka's mock cluster) holds a fetch that found nothing for
#          the whole fetch.wait.max.ms (500 ms by default) even when messages arrive meanwhile,
#          which a real broker does not; this shows the latency without that artefact
#   paced-on    paced-fw10 with telemetry exported as in "on"
#   flat   as off with one customer at INTERVAL_SECONDS=0.00001 (100k/s: flat out); when that
#          is more than the 5 MiB per partition the broker keeps, old messages vanish before
#          they are consumed and there is no latency figure ("-")
# Figures per variant:
#   produced/s   messages in the topic (sum of the partitions' high watermarks) / SECONDS
#   inserted/s   orders accepted (idempotency_keys rows of scope 'order', by created_at) in
#                the steady window (load start + 5 s .. load end) / its length
#   p50/p99/max  produce-to-row latency over that window's rows: Kafka message timestamp
#                (the producer's create time, ms; read back with kcat) to
#                idempotency_keys.created_at (now() of the INSERT's transaction)
#   per role     VmRSS, VmHWM (peak), RssAnon (VmRSS without file pages such as shared
#                libraries or the static binary's code) and Pss (file pages shared by N
#                processes counted 1/N each) at the end of the load; CPU (% of one CPU) over the
#                steady window from /proc/PID/stat, and the same summed over our
#                PostgreSQL server's processes
# Bounded: each variant takes SECONDS + ~10 s; every process and temp dir is removed on exit.
# Environment: VARIANTS (default "off single on info paced paced-fw10 flat"), INTERVAL;
# HTTP_THREADS, DB_POOL_SIZE, BATCH_MAX and KAFKA_PROP_* pass through to the roles. Needs kcat.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
ncust=${2:-4}
nchk=${3:-4}
parts=${4:-16}
pace=${INTERVAL:-0.0002}
variants=${VARIANTS:-off single on info paced paced-fw10 flat}
((secs >= 8)) || { echo "e2e: SECONDS must be at least 8" >&2; exit 2; }
# WOODCTL=build/static/woodctl (after `make static`) measures the static binary.
if [[ -n ${WOODCTL:-} ]]; then
	W=$(realpath "$WOODCTL")
else
	make -s -j2 build/woodctl >/dev/null
	W=$PWD/build/woodctl
fi
command -v kcat >/dev/null || { echo "e2e: kcat is needed (Debian package kcat)" >&2; exit 2; }

. tests/lib/pg.sh
pg_start >/dev/null
tmp=$(mktemp -d /tmp/wd-e2e-bench.XXXXXX)
pids=()
stop_all() { # SIGTERM what we started, last started first (the broker last), 5 s each
	local i p
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		p=${pids[i]}
		kill -TERM "$p" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	pids=()
}
trap 'stop_all; [[ -n ${PGLOG_COPY:-} ]] && cp "$PG_DIR/server.log" "$PGLOG_COPY"; pg_cleanup; [[ -n ${KEEP:-} ]] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
trap 'exit 143' TERM INT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_file() { for _ in $(seq 100); do [[ -s $1 ]] && return 0; sleep 0.1; done; return 1; }
wait_ready() { # URL: until it answers 200 (10 s)
	for _ in $(seq 100); do "$W" probe "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "e2e: $1 never became ready" >&2
	return 1
}
q() { pg_psql -At -c "$1"; }
# "name pid" lines of the roles of the current variant, for the RSS table
roles_file=$tmp/roles
# VmRSS and VmHWM of PID in kB
# VmRSS, VmHWM and RssAnon of PID in kB, then Pss (file pages shared by N processes, such
# as the one binary's code, count 1/N each)
mem() {
	local m
	m=$(awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} /^RssAnon/{a=$2} END{print r+0, h+0, a+0}' "/proc/$1/status" 2>/dev/null) || m="0 0 0"
	echo "$m $(awk '/^Pss:/{print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0)"
}

export LOG_FORMAT=json ERROR_RATE=0
export KAFKA_PROP_SESSION_TIMEOUT_MS=3000 KAFKA_PROP_HEARTBEAT_INTERVAL_MS=500
export KAFKA_PROP_MAX_POLL_INTERVAL_MS=15000

echo "e2e: $secs s of load per variant, $ncust customers, $nchk ordercheck, $parts partitions," \
	"$(nproc) CPUs (shared machine: compare within one run)"
echo "command: VARIANTS='$variants' INTERVAL=$pace bench/e2e.sh $secs $ncust $nchk $parts"
printf '%-10s %11s %11s %9s %9s %9s\n' variant produced/s inserted/s p50_ms p99_ms max_ms
results=$tmp/results
: >"$results"
rss_rows=$tmp/rss

# "name ticks" for each role and the sum over our PostgreSQL server's processes
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_snap() {
	local name pid pm t=0 c
	while read -r name pid; do echo "$name $(ticks "$pid")"; done <"$roles_file"
	pm=$(head -1 "$PG_DIR/data/postmaster.pid")
	for c in $pm $(pgrep -P "$pm"); do t=$((t + $(ticks "$c"))); done
	echo "postgres $t"
}
cpu_pct() { # DIR NAME SECONDS: % of one CPU between the two snapshots
	awk -v n="$2" -v s="$3" -v hz="$(getconf CLK_TCK)" '$1 == n {v[FILENAME] = $2}
		END {printf "%.0f", (v[ARGV[2]] - v[ARGV[1]]) / hz / s * 100}' "$1/cpu0" "$1/cpu1"
}
ms() { [[ -n $1 ]] && printf '%.1f' "$1" || echo -; }

run_variant() {
	local v=$1 d=$tmp/$v
	mkdir -p "$d"
	local interval=$pace level=WARNING otel=true n=$ncust fw=() batch=${BATCH_MAX:-200}
	case $v in
	on) otel=false ;;
	single) batch=1 ;;
	paced) n=1 ;;
	paced-fw10) n=1 fw=(KAFKA_PROP_FETCH_WAIT_MAX_MS=10) ;;
	paced-on) n=1 fw=(KAFKA_PROP_FETCH_WAIT_MAX_MS=10) otel=false ;;
	flat) interval=0.00001 n=1 ;;
	info) level=INFO ;;
	esac
	# The database starts empty each time (the order API migrates it at start).
	q "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null 2>&1
	"$W" broker --address-file "$d/addr" --topics orders --partitions "$parts" >"$d/broker.log" 2>&1 &
	pids+=($!)
	echo "broker $!" >"$roles_file"
	wait_file "$d/addr" || { echo "e2e: broker did not start" >&2; cat "$d/broker.log"; exit 1; }
	local addr
	addr=$(cat "$d/addr")
	local common=(KAFKA_BOOTSTRAP_SERVERS="$addr" LOG_LEVEL=$level OTEL_SDK_DISABLED=$otel)
	if [[ $otel == false ]]; then
		local sp
		sp=$(free_port)
		env PORT="$sp" SINK_DIR="$d/sink" LOG_LEVEL=WARNING "$W" otlp-sink >"$d/sink.log" 2>&1 &
		pids+=($!)
		echo "otlp-sink $!" >>"$roles_file"
		wait_ready "http://127.0.0.1:$sp/ready"
		common+=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sp" OTEL_METRIC_EXPORT_INTERVAL=5000)
	fi
	local op
	op=$(free_port)
	env "${common[@]}" PORT="$op" DATABASE_URL="$PG_URL" "$W" order >"$d/order.log" 2>&1 &
	pids+=($!)
	echo "order $!" >>"$roles_file"
	wait_ready "http://127.0.0.1:$op/ready"
	local i
	for i in $(seq "$nchk"); do
		env "${common[@]}" "${fw[@]}" ADMIN_PORT="$(free_port)" API_URL="http://127.0.0.1:$op" \
			BATCH_MAX="$batch" "$W" ordercheck >"$d/ordercheck$i.log" 2>&1 &
		pids+=($!)
		echo "ordercheck$i $!" >>"$roles_file"
	done
	# The group's first join takes ~3 s on the embedded broker: let it settle before the
	# load starts, so the figures are not a join delay.
	sleep 4
	local t0
	t0=$(date +%s.%N)
	for i in $(seq "$n"); do
		env "${common[@]}" ADMIN_PORT="$(free_port)" INTERVAL_SECONDS="$interval" \
			"$W" customer >"$d/customer$i.log" 2>&1 &
		pids+=($!)
		echo "customer$i $!" >>"$roles_file"
	done
	# CPU of each role and of our PostgreSQL's processes over the steady window.
	sleep 5
	cpu_snap >"$d/cpu0"
	local x0 x1
	x0=$(q "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
	sleep $((secs - 5))
	cpu_snap >"$d/cpu1"
	x1=$(q "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
	# Memory at steady state, under load.
	local name pid
	while read -r name pid; do
		echo "$v $name $(mem "$pid") $(cpu_pct "$d" "$name" $((secs - 5)))" >>"$rss_rows"
	done <"$roles_file"
	echo "$v postgres - - - - $(cpu_pct "$d" postgres $((secs - 5)))" >>"$rss_rows"
	# Stop producing; what was produced is the topic's content.
	local t1
	t1=$(date +%s.%N)
	for pid in $(awk '/^customer/{print $2}' "$roles_file"); do kill -TERM "$pid" 2>/dev/null || true; done
	sleep 1
	kcat -b "$addr" -C -t orders -o beginning -e -q -f '%p\t%o\t%T\n' >"$d/msgs.tsv" 2>"$d/kcat.err" || true
	stop_all
	# Figures, from the database and the messages still in the topic (5 MiB per partition).
	local produced
	produced=$(awk 'END{print NR}' "$d/msgs.tsv")
	local hw
	hw=$(awk -F'\t' '{if ($2 + 1 > m[$1]) m[$1] = $2 + 1} END{s=0; for (p in m) s += m[p]; print s}' "$d/msgs.tsv")
	local w0 w1
	w0=$(awk -v a="$t0" 'BEGIN{printf "%.3f", a + 5}')
	w1=$(awk -v a="$t0" -v s="$secs" 'BEGIN{printf "%.3f", a + s}')
	pg_psql -At -F '|' >"$d/fig" <<SQL
CREATE TEMP TABLE m (p int, o bigint, ts bigint);
\\copy m FROM '$d/msgs.tsv'
CREATE TEMP TABLE r AS SELECT extract(epoch FROM k.created_at) AS at,
	extract(epoch FROM k.created_at) * 1000 - m.ts AS lat_ms
	FROM idempotency_keys k LEFT JOIN m ON k.key = 'orders-' || m.p || '-' || m.o
	WHERE k.scope = 'order' AND extract(epoch FROM k.created_at) BETWEEN $w0 AND $w1;
SELECT count(*) / ($w1 - $w0), percentile_cont(0.5) WITHIN GROUP (ORDER BY lat_ms),
	percentile_cont(0.99) WITHIN GROUP (ORDER BY lat_ms), max(lat_ms),
	count(*) FILTER (WHERE lat_ms IS NULL), (SELECT count(*) FROM orders)
	FROM r;
SQL
	local ins p50 p99 mx unmatched total
	IFS='|' read -r ins p50 p99 mx unmatched total <"$d/fig"
	# No latency when the window's messages were already dropped (retention): "-".
	printf '%-10s %11.0f %11.0f %9s %9s %9s\n' "$v" "$(awk -v n="$hw" -v s="$secs" 'BEGIN{print n / s}')" \
		"$ins" "$(ms "$p50")" "$(ms "$p99")" "$(ms "$mx")"
	echo "$v produced=$hw (in topic now: $produced) orders_rows=$total window=$w0..$w1 unmatched_latency=$unmatched" \
		"commits/s=$(((x1 - x0) / (secs - 5))) (PostgreSQL transactions: one per batch or per single order)" >>"$results"
	# Errors other than the start-up readiness probes (none expected).
	grep -h '"level":"ERROR"' "$d"/*.log | grep -v '/ready 503' | head -3 >>"$results" || true
}

for v in $variants; do run_variant "$v"; done
echo
echo "per role at the end of the load: VmRSS, VmHWM (peak), RssAnon (heap+stacks, no file pages), Pss (shared pages split among their users) in kB;"
echo "CPU over the steady window in % of one CPU ($W)"
printf '  %-10s %-12s %8s %8s %8s %8s %5s\n' variant role VmRSS VmHWM RssAnon Pss CPU
awk '{printf "  %-10s %-12s %8s %8s %8s %8s %4s%%\n", $1, $2, $3, $4, $5, $6, $7}' "$rss_rows"
echo
echo "details:"
sed 's/^/  /' "$results"
