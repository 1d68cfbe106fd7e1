#!/usr/bin/env bash
# metrics.sh - the metrics core's figures: ns per counter add and histogram record (1 and 2
# threads, 2 attributes), and the time to render 100 series as Prometheus text / OTLP.
#   bench/metrics.sh [iterations]      (builds build/bench/metrics_bench first)
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -j2 build/bench/metrics_bench >/dev/null
echo "metrics bench on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
build/bench/metrics_bench "${1:-2000000}"
