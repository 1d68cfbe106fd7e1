# A handler that fails twice, then succeeds, processes the message once: three calls, one
# "done", nothing dead-lettered, and the messages behind it still come in order, once each.
set -eu
. tests/lib/broker.sh
broker_start --topics rt --partitions 1
out=$WD_TEST_TMP/out
"$KDRV" produce rt -n 3 m >/dev/null
timeout 90 "$KDRV" consume rt g -n 3 --fail-times 2 >"$out"
cat "$out"
# Every message: attempts 1 and 2 fail, attempt 3 is done.
for i in 1 2 3; do
	off=$((i - 1))
	[[ $(grep -c "^call rt 0 $off attempt=" "$out") == 3 ]]
	[[ $(grep -c "^done rt 0 $off m-$i\$" "$out") == 1 ]]
	[[ $(grep -c "^retry rt 0 $off m-$i\$" "$out") == 2 ]]
done
# In order: every line about m-1 comes before any line about m-2, and so on.
[[ $(grep -E '^(call|done|retry)' "$out" | grep -o ' rt 0 [0-9]*' | uniq | tr -d '\n') == ' rt 0 0 rt 0 1 rt 0 2' ]]
grep -qx 'stats consumed=3 done=3 retried=6 dead_lettered=0' "$out"
