# kcat (another librdkafka client) reads what we produce, and we consume what it produces.
set -eu
. tests/lib/broker.sh
command -v kcat >/dev/null || { echo "kcat is not installed"; exit 77; }
broker_start --topics ours,theirs --partitions 1
out=$WD_TEST_TMP/out
"$KDRV" produce ours -k k1 -H from=woodctl '{"wood_type": "oak", "quantity": 42}' >/dev/null
kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t ours -o beginning -e -q -f '%k|%s|%h\n' >"$out"
cat "$out"
grep -qx 'k1|{"wood_type": "oak", "quantity": 42}|from=woodctl' "$out"
printf 'pine:{"wood_type": "pine", "quantity": 7}\n' |
	kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t theirs -K: -H from=kcat
timeout 90 "$KDRV" consume theirs g -n 1 >"$out"
cat "$out"
grep -qx 'call theirs 0 0 attempt=1 key=pine value={"wood_type": "pine", "quantity": 7} h:from=kcat' "$out"
