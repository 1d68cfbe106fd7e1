#!/usr/bin/env bash
# kafka-throughput.sh - producer and consumer messages/s through the embedded broker, with
# spans on (exported over OTLP/HTTP to a loopback capture receiver) and with
# OTEL_SDK_DISABLED=true, side by side in each round.
#
#   bench/kafka-throughput.sh [MESSAGES] [BYTES] [ROUNDS]   (defaults: 50000, 200, 3)
#
# Builds what it needs, starts `woodctl broker` in its own process on 127.0.0.1, then for
# each run: produces MESSAGES to a fresh 8-partition topic through the Kafka core (time
# until the last delivery report, flush included) and consumes them back in a fresh group
# (time from the first message to the last, so the broker's fixed ~3 s group join is left
# out). The broker keeps 5 MiB per partition: the script refuses a run that would exceed
# that, since the consumer would then silently see fewer messages.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50000}
size=${2:-200}
rounds=${3:-3}
parts=8
# The producer's sticky partitioner fills partitions unevenly, so keep a 2x margin.
if ((n * (size + 70) * 2 / parts > 5 * 1024 * 1024)); then
	echo "kafka-throughput: $n x $size bytes overflows the broker's 5 MiB per partition" \
		"($parts partitions); use fewer or smaller messages" >&2
	exit 2
fi
make -s -j2 build/woodctl build/tests/kafka/kafka-driver >/dev/null
W=$PWD/build/woodctl K=$PWD/build/tests/kafka/kafka-driver
tmp=$(mktemp -d /tmp/kafka-bench.XXXXXX)
# One pre-created topic per run (the auto-created ones have only 4 partitions).
"$W" broker --address-file "$tmp/addr" --topics "$(seq -s, -f 'bench-%g' 1 20)" \
	--partitions $parts >"$tmp/broker.out" 2>&1 &
bpid=$!
rxpid=
trap 'kill $bpid $rxpid 2>/dev/null; wait $bpid 2>/dev/null; rm -rf "$tmp"' EXIT
# The receiver of tests/lib (node): it answers 200 and keeps every request body.
node tests/lib/otlp-receiver.js --dir "$tmp/rx" --port-file "$tmp/rx.port" >/dev/null 2>&1 &
rxpid=$!
for _ in $(seq 100); do [[ -s $tmp/addr && -s $tmp/rx.port ]] && break; sleep 0.1; done
export KAFKA_BOOTSTRAP_SERVERS=$(cat "$tmp/addr") LOG_LEVEL=WARNING
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$(cat "$tmp/rx.port")
export OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none
# A queue that holds a whole run, so every span is exported (none dropped) and the figure
# includes the full cost: spans created, queued, encoded and sent. Drops are reported.
export OTEL_BSP_MAX_QUEUE_SIZE=200000 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048

runs=0
run() { # label, then environment assignments for both sides
	local label=$1 topic=bench-$((++runs))
	shift
	local p c
	p=$(env "$@" "$K" produce "$topic" --size "$size" -n "$n" 2>"$tmp/p.log" | grep '^produce ')
	c=$(env "$@" timeout 120 "$K" consume "$topic" "g-$topic" --quiet -n "$n" 2>"$tmp/c.log" |
		grep '^consume ')
	if grep -h 'dropped' "$tmp/p.log" "$tmp/c.log" >&2; then
		echo "    (spans were dropped in this run: the figure is not comparable)" >&2
	fi
	printf '%-30s producer %10s msg/s   consumer %10s msg/s\n' "$label" \
		"$(awk '{print $(NF-1)}' <<<"$p")" "$(awk '{print $(NF-1)}' <<<"$c")"
	echo "    $p" >&2
	echo "    $c" >&2
}

echo "kafka-throughput: $n messages of $size bytes, embedded broker, $(nproc) CPUs," \
	"$rounds rounds (the machine is shared: compare within a round)"
for r in $(seq "$rounds"); do
	run "round $r: spans on" OTEL_SDK_DISABLED=false
	run "round $r: OTEL_SDK_DISABLED" OTEL_SDK_DISABLED=true
done
