#!/usr/bin/env bash
# http-instr.sh - CPU instructions per request of the small JSON route (GET /orders/{id}),
# counted by valgrind's callgrind over every thread of the bench server (workers and the
# telemetry exporter), for the same three set-ups as http-wrk.sh:
#   off    OTEL_SDK_DISABLED=true
#   on     every request sampled, spans, logs and metrics exported over OTLP/HTTP to
#          bench/otlp-sink.js (queue large enough that nothing is dropped)
#   noexp  the same instrumentation with every exporter set to none
# Instruction counts barely move between runs, unlike requests/s on a shared machine, so
# this is the figure to compare changes with; http-wrk.sh gives the throughput.
#
# Each server gets WARMUP requests, then the counters are zeroed, then N requests over one
# keep-alive connection (curl), then SIGTERM: the final dump holds the N requests, the
# export of what they queued (the shutdown flush included) and the fixed cost of stopping.
# LOG_LEVEL (default WARNING, as http-wrk.sh) decides whether the access log line is
# written and exported: LOG_LEVEL=INFO counts it too.
#
# Usage: bench/http-instr.sh            (N=20000 WARMUP=500; KEEP=DIR keeps the dumps,
#                                        ANNOTATE=1 prints the top functions of each)
. "$(dirname "$0")/http-lib.sh"
build_server
N=${N:-20000}
WARMUP=${WARMUP:-500}
LEVEL=${LOG_LEVEL:-WARNING}
command -v valgrind >/dev/null || { echo "valgrind is needed"; exit 1; }
start_sink

# requests PORT FROM COUNT: GET /orders/FROM..FROM+COUNT-1 in order on one connection;
# fails unless every one answered 200 with the order.
requests() {
	local got
	got=$(curl -s "http://127.0.0.1:$1/orders/[$2-$(($2 + $3 - 1))]" | grep -o '"id":' | wc -l)
	[[ $got -eq $3 ]] || { echo "only $got of $3 requests answered with an order"; exit 1; }
}

# measure NAME ENV...: prints "NAME instructions/request" and sets IPR_NAME.
measure() {
	local name=$1 out=$BT/cg.$1
	shift
	env "$@" HTTP_THREADS=4 LOG_LEVEL="$LEVEL" valgrind --tool=callgrind \
		--callgrind-out-file="$out" "$BT/http-server" > "$BT/$name.port" 2> "$BT/$name.log" &
	local pid=$!
	PIDS+=("$pid")
	for _ in $(seq 300); do [[ -s $BT/$name.port ]] && break; sleep 0.1; done
	[[ -s $BT/$name.port ]] || { echo "server $name did not start:"; cat "$BT/$name.log"; exit 1; }
	local port
	port=$(cat "$BT/$name.port")
	requests "$port" 1 "$WARMUP"
	sleep 1 # let the exporter send the warm-up's telemetry before the counters are zeroed
	callgrind_control -z "$pid" >/dev/null
	requests "$port" 1000 "$N"
	kill "$pid"
	wait "$pid" || true
	local ir
	ir=$(awk '/^summary:/ {print $2}' "$out")
	[[ -n $ir ]] || { echo "no callgrind summary for $name:"; tail "$BT/$name.log"; exit 1; }
	printf '%-6s %8.0f instructions/request\n' "$name" "$(awk -v i="$ir" -v n="$N" 'BEGIN {print i / n}')"
	printf -v "IPR_$name" '%s' "$(awk -v i="$ir" -v n="$N" 'BEGIN {print i / n}')"
	if [[ -n ${ANNOTATE:-} ]]; then
		callgrind_annotate --inclusive=no "$out" 2>/dev/null | sed -n '/^Ir/,$p' | head -n 30
	fi
	grep -E 'WARN|ERROR' "$BT/$name.log" | sed 's/^/  /' | head -n 5 || true
	if [[ -n ${KEEP:-} ]]; then
		mkdir -p "$KEEP"
		cp "$out" "$KEEP/"
	fi
}

echo "callgrind, $N x GET /orders/{id} on one keep-alive connection after $WARMUP warm-up," \
	"LOG_LEVEL=$LEVEL"
measure off OTEL_SDK_DISABLED=true
measure on OTEL_TRACES_SAMPLER=always_on OTEL_EXPORTER_OTLP_ENDPOINT="$RX" \
	OTEL_BSP_SCHEDULE_DELAY=200 OTEL_BSP_MAX_QUEUE_SIZE=200000 \
	OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048 OTEL_BLRP_MAX_QUEUE_SIZE=200000 \
	OTEL_BLRP_MAX_EXPORT_BATCH_SIZE=2048 OTEL_METRIC_EXPORT_INTERVAL=1000
measure noexp OTEL_TRACES_SAMPLER=always_on OTEL_TRACES_EXPORTER=none \
	OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none
awk -v off="$IPR_off" -v on="$IPR_on" -v ne="$IPR_noexp" 'BEGIN {
	printf "telemetry on: +%.0f instructions/request (+%.1f %%); instrumented without " \
		"export: +%.0f (+%.1f %%)\n", on - off, 100 * (on - off) / off, ne - off,
		100 * (ne - off) / off
}'
kill "$SINK"
wait "$SINK" 2>/dev/null || true
echo "received by the sink: $(cat "$BT/rx.stats" 2>/dev/null)"
