#!/usr/bin/env bash
# http-rss.sh - resident memory of an idle HTTP server (the server core with its default
# settings: 32 worker threads) that has answered /health and /metrics a few times, next to
# an idle FastAPI/uvicorn process serving the same small app, in one run.
#
# Usage: bench/http-rss.sh
. "$(dirname "$0")/http-lib.sh"
build_server
start_server idle
start_fastapi
for _ in $(seq 20); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT_idle/health"
	curl -s -o /dev/null "http://127.0.0.1:$PORT_idle/metrics"
done
sleep 1
rss() { awk '/^VmRSS:/ {printf "%.1f MiB", $2 / 1024}' "/proc/$1/status"; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
fpid=$(pgrep -f "uvicorn app:app --host 127.0.0.1 --port $PORT_fastapi" | head -n 1)
printf '%-40s %s (%s threads)\n' "woodctl server core, idle" "$(rss "$PID_idle")" \
	"$(threads "$PID_idle")"
printf '%-40s %s (%s threads)\n' "fastapi/uvicorn, idle" "$(rss "$fpid")" "$(threads "$fpid")"
