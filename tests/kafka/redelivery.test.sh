# Killing the consumer (kill -9) while it works on a message redelivers that message to
# the next consumer of the group, and only that one: what was finished stays committed.
set -eu
. tests/lib/broker.sh
broker_start --topics rd --partitions 1
a=$WD_TEST_TMP/a b=$WD_TEST_TMP/b
"$KDRV" produce rd first >/dev/null
"$KDRV" produce rd hang-me >/dev/null
"$KDRV" consume rd g --hang-match hang-me -n 5 >"$a" 2>"$WD_TEST_TMP/a.log" &
pid=$!
wait_for "$a" '^hanging hang-me' 60
# "first" was done before; give its commit (batched, at most 200 ms) time to land.
grep -qx 'done rd 0 0 first' "$a"
sleep 1
kill -9 $pid
wait $pid 2>/dev/null || true
timeout 90 "$KDRV" consume rd g -n 1 >"$b"
cat "$a" "$b"
grep -qx 'call rd 0 1 attempt=1 key=(none) value=hang-me' "$b"
grep -qx 'done rd 0 1 hang-me' "$b"
! grep -q 'value=first' "$b"
