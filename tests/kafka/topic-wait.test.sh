# A consumer of a topic that does not exist yet waits with a warning instead of failing,
# and consumes once a producer creates the topic.
set -eu
. tests/lib/broker.sh
# The embedded broker creates any topic a consumer asks for; --late-topics makes it
# answer "unknown topic" for a while, as a real cluster does before a producer wrote.
broker_start --late-topics later --late-seconds 6
out=$WD_TEST_TMP/out log=$WD_TEST_TMP/log
"$KDRV" consume later g -n 1 >"$out" 2>"$log" &
pid=$!
wait_for "$log" "topic 'later' not available yet, retrying in 5s" 60
grep "not available yet" "$log" | head -1 | grep -q '"level":"WARNING"'
kill -0 $pid
wait_for "$WD_TEST_TMP/broker.out" 'late topics now exist' 60
"$KDRV" produce later hello >/dev/null
timeout 90 tail --pid=$pid -f /dev/null
wait $pid
cat "$out"; cut -c1-220 "$log"
grep -q '^done later [0-3] 0 hello$' "$out"
