#!/usr/bin/env bash
# http-rss.sh - resident memory of an idle HTTP server (the server core with its default
# settings: 32 worker threads) after it answered /health and /metrics 20 times each:
# with telemetry on (exporting to a local counting sink) and with OTEL_SDK_DISABLED=true,
# next to an idle FastAPI/uvicorn process serving the same small app, in one run.
#
# Usage: bench/http-rss.sh
. "$(dirname "$0")/http-lib.sh"
build_server
node bench/otlp-sink.js --port-file "$BT/rx.port" --stats "$BT/rx.stats" &
PIDS+=("$!")
for _ in $(seq 100); do [[ -s $BT/rx.port ]] && break; sleep 0.05; done
start_server on OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$(cat "$BT/rx.port")" \
	OTEL_METRIC_EXPORT_INTERVAL=1000
start_server off OTEL_SDK_DISABLED=true
start_fastapi
for p in "$PORT_on" "$PORT_off"; do
	for _ in $(seq 20); do
		curl -s -o /dev/null "http://127.0.0.1:$p/health"
		curl -s -o /dev/null "http://127.0.0.1:$p/metrics"
	done
done
sleep 2
rss() { awk '/^VmRSS:/ {printf "%.1f MiB", $2 / 1024}' "/proc/$1/status"; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
fpid=$(pgrep -f "uvicorn app:app --host 127.0.0.1 --port $PORT_fastapi" | head -n 1)
show() { printf '%-44s %s (%s threads)\n' "$1" "$(rss "$2")" "$(threads "$2")"; }
show "woodctl server core, idle, telemetry on" "$PID_on"
show "woodctl server core, idle, OTEL_SDK_DISABLED" "$PID_off"
show "fastapi/uvicorn, idle" "$fpid"
