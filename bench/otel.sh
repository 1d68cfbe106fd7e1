#!/usr/bin/env bash
# otel.sh - prints the telemetry core's figures (see bench/otel_bench.c):
#   hot-path span cost, single-core encode + batch throughput, bytes per span, peak RSS
#   with a full queue. Usage: bench/otel.sh   (builds build/bench/otel_bench first)
set -euo pipefail
cd "$(dirname "$0")/.."
make -s progs >/dev/null
B=build/bench/otel_bench
# Nothing listens on port 9 of loopback; the exporter thread never gets data out, and
# the huge delay and batch keep it asleep while the benchmark drives the queue itself.
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9 OTEL_METRICS_EXPORTER=none \
	OTEL_LOGS_EXPORTER=none LOG_LEVEL=ERROR
echo "== woodctl telemetry benchmarks ($(nproc) cores, $(uname -m), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
OTEL_BSP_MAX_QUEUE_SIZE=1000000 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=1000000 OTEL_BSP_SCHEDULE_DELAY=1h \
	taskset -c 0 "$B" hot
OTEL_BSP_MAX_QUEUE_SIZE=1000000 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=1000000 OTEL_BSP_SCHEDULE_DELAY=1h \
	taskset -c 0 "$B" throughput
# Default queue (2048) against a dead endpoint: the queue fills and everything else drops.
OTEL_EXPORTER_OTLP_TIMEOUT=60000 "$B" rss 1000000 2>/dev/null
OTEL_BSP_MAX_QUEUE_SIZE=20000 OTEL_EXPORTER_OTLP_TIMEOUT=60000 "$B" rss 1000000 2>/dev/null
