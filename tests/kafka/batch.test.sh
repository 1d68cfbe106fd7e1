# A batch handler gets what is already fetched in one call; its answers are settled in
# order: DONE stored, REJECT dead-lettered, RETRY goes on alone (attempt 2) before anything
# after it on the partition is stored. Everything is committed exactly once: a second
# consumer in the group gets nothing, and the dead-letter topic holds just the rejects.
set -eu
. tests/lib/broker.sh
broker_start --topics bt --partitions 1
out=$WD_TEST_TMP/out
# 60 messages already waiting: the consumer fetches many at once.
"$KDRV" produce bt -n 60 m >/dev/null
timeout 90 "$KDRV" consume bt g -n 60 --batch 25 --fail-times 1 --fail-match 'm-7' \
	--reject-match 'm-33' >"$out"
cat "$out"
# Batches were made (n > 1), none larger than 25.
grep -q '^batch n=' "$out"
[[ $(grep '^batch n=' "$out" | sed 's/batch n=//' | sort -n | tail -1) -le 25 ]]
[[ $(grep '^batch n=' "$out" | sed 's/batch n=//' | sort -n | tail -1) -ge 2 ]]
# m-7 (offset 6) failed in its batch, then went alone and was done on attempt 2, before
# m-8 was settled... and its single call comes right after its batch's calls.
grep -q '^retry bt 0 6 m-7$' "$out"
grep -q '^call bt 0 6 attempt=2 ' "$out"
[[ $(grep -c '^done bt 0 6 m-7$' "$out") == 1 ]]
# Every message has exactly one final answer; m-33 was rejected once.
for i in $(seq 60); do
	n=$(grep -cE "^(done|reject) bt 0 $((i - 1)) m-$i\$" "$out")
	[[ $n == 1 ]] || { echo "m-$i has $n final answers"; exit 1; }
done
grep -qx 'reject bt 0 32 m-33' "$out"
grep -qx 'stats consumed=60 done=59 retried=1 dead_lettered=1' "$out"
grep -Eq '^batches [1-9]' "$out"
kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t bt.dlq -o beginning -e -q -f '%s %h\n' >"$WD_TEST_TMP/dlq"
cat "$WD_TEST_TMP/dlq"
[[ $(wc -l <"$WD_TEST_TMP/dlq") == 1 ]]
grep -q "^m-33 .*dlq.reason=poison: value matches 'm-33'" "$WD_TEST_TMP/dlq"
# Committed: the group starts after the last message.
"$KDRV" produce bt after >/dev/null
timeout 60 "$KDRV" consume bt g -n 1 --batch 25 >"$out"
cat "$out"
[[ $(grep -c '^call ' "$out") == 1 ]]
grep -q '^call bt 0 60 attempt=1 .* value=after' "$out"
