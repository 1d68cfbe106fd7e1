#!/usr/bin/env bash
# http-wrk.sh - requests/s and p50/p99 latency of a small JSON route (GET /orders/{id})
# over loopback with wrk, side by side in one run:
#   woodctl server core, telemetry on (every span sampled and exported to a local receiver)
#   woodctl server core, OTEL_SDK_DISABLED=true
#   FastAPI 0.92 + uvicorn 0.17.6 (Debian packages, /usr/bin/python3, 1 worker): reference
# Each wrk run is short (WRK_ARGS, default "-t2 -c32 -d5s"); the machine is shared.
#
# Usage: bench/http-wrk.sh
. "$(dirname "$0")/http-lib.sh"
build_server
THREADS=${HTTP_THREADS:-64}
start_server off HTTP_THREADS="$THREADS" OTEL_SDK_DISABLED=true
start_fastapi
echo "wrk $WRK_ARGS, GET /orders/42, server threads $THREADS, $(nproc) cores shared with wrk"
curl -sf "http://127.0.0.1:$PORT_off/orders/42" >/dev/null
run_wrk "woodctl OTEL_SDK_DISABLED=true" "http://127.0.0.1:$PORT_off/orders/42"
run_wrk "fastapi/uvicorn" "http://127.0.0.1:$PORT_fastapi/orders/42"
awk -v a="$RPS_woodctl_OTEL_SDK_DISABLED_true" -v b="$RPS_fastapi_uvicorn" \
	'BEGIN { printf "woodctl / fastapi: %.1fx\n", a / b }'
echo "telemetry-on run: not available until the telemetry core is merged (see report)"
