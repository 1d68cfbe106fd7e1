#!/usr/bin/env bash
# http-wrk.sh - requests/s and p50/p99 latency of a small JSON route (GET /orders/{id})
# over loopback with wrk, side by side in one run:
#   woodctl server core, telemetry on: every request sampled (always_on), spans, logs and
#     metrics exported over OTLP/HTTP to a local receiver (bench/otlp-sink.js, which only
#     counts what it gets: the cheapest honest receiver on a shared machine)
#   woodctl server core, OTEL_SDK_DISABLED=true
#   FastAPI 0.92 + uvicorn 0.17.6 (Debian packages, /usr/bin/python3, 1 worker): reference
# The woodctl servers run side by side and are measured alternately, ROUNDS times (default
# 3; the order rotates each round so that neither set-up always runs first), and compared
# two ways, to spread the noise of a shared machine: the medians of each set-up, and the
# median of the per-round ratios (each "on" run against the "off" run next to it, which
# cancels the slow swings of a shared machine's load).
# Each wrk run is short (WRK_ARGS, default "-t2 -c32 -d5s").
# PIN=1 gives the servers CPU 0 and wrk and the receiver CPU 1 (see http-lib.sh): each
# set-up then runs on the same single core, which takes the scheduler's mixing out of
# the ratio; the receiver's own cost is then not charged to the telemetry set-up.
#
# Usage: bench/http-wrk.sh   (ROUNDS=N, PIN=1, WRK_ARGS=...)
. "$(dirname "$0")/http-lib.sh"
build_server
THREADS=${HTTP_THREADS:-64}
start_sink

start_server off HTTP_THREADS="$THREADS" OTEL_SDK_DISABLED=true
# A queue large enough that nothing is dropped at full speed: every span is exported.
start_server on HTTP_THREADS="$THREADS" OTEL_TRACES_SAMPLER=always_on \
	OTEL_EXPORTER_OTLP_ENDPOINT="$RX" OTEL_BSP_SCHEDULE_DELAY=200 \
	OTEL_BSP_MAX_QUEUE_SIZE=200000 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048 \
	OTEL_METRIC_EXPORT_INTERVAL=1000
# Attribution: the same instrumentation with nothing exported (spans made and dropped at
# the end of the pipeline), so that the cost splits into "instrument" and "export".
start_server noexp HTTP_THREADS="$THREADS" OTEL_TRACES_SAMPLER=always_on \
	OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none
start_fastapi
ROUNDS=${ROUNDS:-3}
if [[ ${PIN:-0} == 1 ]]; then
	where="servers on CPU 0, wrk and the receiver on CPU 1"
else
	where="$(nproc) cores shared with wrk"
fi
echo "wrk $WRK_ARGS, GET /orders/42, server threads $THREADS, $where"
for p in "$PORT_off" "$PORT_on"; do curl -sf "http://127.0.0.1:$p/orders/42" >/dev/null; done
off=() on=() noexp=() coff=() con=() cnoexp=()
kinds=(off on noexp)
exp_ticks=0 sink_ticks=0 on_reqs=0
for r in $(seq "$ROUNDS"); do
	for i in 0 1 2; do
		k=${kinds[(i + r) % 3]}
		p=PORT_$k pid=PID_$k
		if [[ $k == on ]]; then
			e0=$(thread_ticks "$PID_on" wd-otel-export) s0=$(cpu_ticks "$SINK")
		fi
		run_wrk "$k$r" "http://127.0.0.1:${!p}/orders/42" "${!pid}"
		if [[ $k == on ]]; then
			n=REQS_on$r
			exp_ticks=$((exp_ticks + $(thread_ticks "$PID_on" wd-otel-export) - e0))
			sink_ticks=$((sink_ticks + $(cpu_ticks "$SINK") - s0))
			on_reqs=$((on_reqs + ${!n}))
		fi
		v=RPS_$k$r c=CPU_$k$r
		eval "$k+=(${!v}); c$k+=(${!c})"
	done
done
run_wrk fastapi "http://127.0.0.1:$PORT_fastapi/orders/42"
# Stop the telemetry server so that it flushes (and logs any drop), then the sink.
kill "$PID_on"
wait "$PID_on" 2>/dev/null || true
kill "$SINK"
wait "$SINK" 2>/dev/null || true
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# Per round: % of the "off" throughput lost with telemetry on, and without export.
lost_on=() lost_ne=()
for i in "${!off[@]}"; do
	lost_on+=("$(awk -v o="${off[i]}" -v n="${on[i]}" 'BEGIN {printf "%.1f", 100 * (o - n) / o}')")
	lost_ne+=("$(awk -v o="${off[i]}" -v n="${noexp[i]}" 'BEGIN {printf "%.1f", 100 * (o - n) / o}')")
done
awk -v off="$(median "${off[@]}")" -v on="$(median "${on[@]}")" \
	-v ne="$(median "${noexp[@]}")" -v f="$RPS_fastapi" -v coff="$(median "${coff[@]}")" \
	-v con="$(median "${con[@]}")" -v cne="$(median "${cnoexp[@]}")" 'BEGIN {
	printf "telemetry off (median) %10.0f req/s\n", off
	printf "telemetry on  (median) %10.0f req/s   cost of tracing: %.1f %%\n", on,
		100 * (off - on) / off
	printf "instrumented, export off (median) %10.0f req/s   cost: %.1f %%\n", ne,
		100 * (off - ne) / off
	printf "server CPU per request (median): off %.1f us, on %.1f us (+%.1f %%), " \
		"instrumented without export %.1f us (+%.1f %%)\n", coff, con,
		100 * (con - coff) / coff, cne, 100 * (cne - coff) / coff
	printf "woodctl (telemetry on) / fastapi: %.1fx\n", on / f
}'
echo "cost of tracing, median of the per-round ratios: $(median "${lost_on[@]}") % with export" \
	"(rounds: ${lost_on[*]}), $(median "${lost_ne[@]}") % without (rounds: ${lost_ne[*]})"
awk -v e="$exp_ticks" -v s="$sink_ticks" -v n="$on_reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {
	printf "telemetry on, CPU per request: the exporter thread %.2f us (part of the server " \
		"CPU above); the OTLP receiver (node, on the same cores, not part of it) %.2f us\n",
		1e6 * e / hz / n, 1e6 * s / hz / n
}'
echo "received by the sink: $(cat "$BT/rx.stats" 2>/dev/null)"
echo "telemetry server's warnings (a drop would show here):"
sed 's/^/  /' "$BT/on.log" | tail -n 5
