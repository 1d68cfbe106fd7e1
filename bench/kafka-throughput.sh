#!/usr/bin/env bash
# kafka-throughput.sh - producer and consumer messages/s through the embedded broker.
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
"$W" broker --address-file "$tmp/addr" --topics "$(seq -s, -f 'bench-%g' 1 12)" \
	--partitions $parts >"$tmp/broker.out" 2>&1 &
bpid=$!
trap 'kill $bpid 2>/dev/null; wait $bpid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [[ -s $tmp/addr ]] && break; sleep 0.1; done
export KAFKA_BOOTSTRAP_SERVERS=$(cat "$tmp/addr") LOG_LEVEL=WARNING

runs=0
run() { # label, then environment assignments for both sides
	local label=$1 topic=bench-$((++runs))
	shift
	local p c
	p=$(env "$@" "$K" produce "$topic" --size "$size" -n "$n" | grep '^produce ')
	c=$(env "$@" timeout 120 "$K" consume "$topic" "g-$topic" --quiet -n "$n" | grep '^consume ')
	printf '%-28s producer %10s msg/s   consumer %10s msg/s\n' "$label" \
		"$(awk '{print $(NF-1)}' <<<"$p")" "$(awk '{print $(NF-1)}' <<<"$c")"
	echo "    $p" >&2
	echo "    $c" >&2
}

echo "kafka-throughput: $n messages of $size bytes, embedded broker, $(nproc) CPUs," \
	"$rounds rounds (the machine is shared: compare within a round)"
for r in $(seq "$rounds"); do
	run "round $r: Kafka core (no telemetry)"
done
