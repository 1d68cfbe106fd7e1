# BLOCK ("dependency down") holds the partition: the handler is called again with capped
# backoff, nothing behind the message is processed meanwhile, and once the dependency is
# back every message is processed once, in order. Both ways of waiting: short backoffs are
# slept without polling, longer ones pause the partitions and poll (then seek back).
set -eu
. tests/lib/broker.sh
broker_start --topics bl --partitions 1
out=$WD_TEST_TMP/out flag=$WD_TEST_TMP/api-up
"$KDRV" produce bl -n 3 m >/dev/null
"$KDRV" consume bl g -n 3 --block-file "$flag" >"$out" 2>"$WD_TEST_TMP/log" &
pid=$!
wait_for "$out" '^block bl 0 0 m-1' 60
sleep 2
# Still blocked on the first message, retried several times (backoff 100 ms capped at 400 ms).
[[ $(grep -c '^block bl 0 0 m-1' "$out") -ge 3 ]]
! grep -q 'bl 0 1' "$out"
touch "$flag"
wait $pid
cat "$out"
grep -E '^done' "$out" >"$WD_TEST_TMP/done"
diff <(printf 'done bl 0 0 m-1\ndone bl 0 1 m-2\ndone bl 0 2 m-3\n') "$WD_TEST_TMP/done"
grep -q '^stats consumed=3 done=3 ' "$out"
# Backoffs over a second: the partitions are paused while the consumer keeps polling.
rm -f "$flag"
"$KDRV" produce bl -n 3 p >/dev/null
"$KDRV" consume bl g -n 3 --block-file "$flag" --backoff-ms 1100 >"$out" 2>"$WD_TEST_TMP/log" &
pid=$!
wait_for "$out" '^block bl 0 3 p-1' 60
sleep 3.5
[[ $(grep -c '^block bl 0 3 p-1' "$out") -ge 2 ]]
! grep -q 'bl 0 4' "$out"
touch "$flag"
wait $pid
cat "$out"
grep -E '^done' "$out" >"$WD_TEST_TMP/done"
diff <(printf 'done bl 0 3 p-1\ndone bl 0 4 p-2\ndone bl 0 5 p-3\n') "$WD_TEST_TMP/done"
grep -q '^stats consumed=3 done=3 ' "$out"
