# `woodctl broker`: the first stdout line is the bootstrap address, the address file holds
# the same, topics are pre-created with the partitions asked for, SIGTERM stops it cleanly.
set -eu
command -v kcat >/dev/null || { echo "kcat is not installed"; exit 77; }
out=$WD_TEST_TMP/out addr=$WD_TEST_TMP/addr
"$WOODCTL" broker --topics a,b --partitions 3 --address-file "$addr" >"$out" 2>&1 &
pid=$!
for _ in $(seq 100); do [[ -s $addr ]] && break; sleep 0.1; done
first=$(head -n 1 "$out")
[[ $first =~ ^127\.0\.0\.1:[0-9]+$ ]]
[[ $(cat "$addr") == "$first" ]]
kcat -b "$first" -L -t a >"$WD_TEST_TMP/meta"
cat "$WD_TEST_TMP/meta"
grep -q 'topic "a" with 3 partitions' "$WD_TEST_TMP/meta"
start=$(date +%s%N)
kill -TERM $pid
wait $pid
echo "stopped in $((($(date +%s%N) - start) / 1000000)) ms"
[[ ! -e $addr ]]
# Bad options: exit 2 with the reason.
set +e
"$WOODCTL" broker --partitions 0 2>"$WD_TEST_TMP/err"
rc=$?
set -e
cat "$WD_TEST_TMP/err"
[[ $rc == 2 ]]
grep -q -- '--partitions expects a number from 1 to 1000' "$WD_TEST_TMP/err"
