# A poison message lands in {topic}.dlq with its reason and origin, and the next message is
# still processed; a message that keeps failing goes there once its retries are used up.
set -eu
. tests/lib/broker.sh
broker_start --topics dl --partitions 1
out=$WD_TEST_TMP/out
"$KDRV" produce dl -H h1=kept good-1 >/dev/null
"$KDRV" produce dl -H h1=kept -k k9 poison-2 >/dev/null
"$KDRV" produce dl good-3 >/dev/null
timeout 90 "$KDRV" consume dl g -n 3 --reject-match poison >"$out"
cat "$out"
grep -qx 'done dl 0 0 good-1' "$out"
grep -qx 'reject dl 0 1 poison-2' "$out"
grep -qx 'done dl 0 2 good-3' "$out"
grep -qx 'stats consumed=3 done=2 retried=0 dead_lettered=1' "$out"
# The dead letter, read by kcat: the original key, value and headers plus where it came from.
kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t dl.dlq -o beginning -e -q \
	-f 'key=%k value=%s headers=%h\n' >"$out"
cat "$out"
[[ $(wc -l <"$out") == 1 ]]
grep -q '^key=k9 value=poison-2 headers=' "$out"
grep -q 'h1=kept' "$out"
grep -q "dlq.reason=poison: value matches 'poison'" "$out"
grep -q 'dlq.source.topic=dl,' "$out"
grep -q 'dlq.source.partition=0,' "$out"
grep -q 'dlq.source.offset=1,' "$out"
# Retries used up: KAFKA_MAX_RETRIES is honoured through the consumer options here
# (--max-retries 1), so the second failure dead-letters it with the last reason.
"$KDRV" produce dl always-fails >/dev/null
timeout 90 "$KDRV" consume dl g -n 1 --fail-times 99 --max-retries 1 >"$out"
cat "$out"
[[ $(grep -c '^call dl 0 3 ' "$out") == 2 ]]
grep -qx 'stats consumed=1 done=0 retried=1 dead_lettered=1' "$out"
kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t dl.dlq -o beginning -e -q -f '%s %h\n' >"$out"
cat "$out"
[[ $(wc -l <"$out") == 2 ]]
grep -q '^always-fails .*dlq.reason=gave up after 2 attempts: simulated failure 2' "$out"
grep -q 'dlq.source.offset=3' "$out"
