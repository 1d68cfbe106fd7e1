# outage.test.sh - the server stops and restarts under load: calls fail fast (each within
# 1 s) while it is away, and succeed again by themselves once it is back.
. "$(dirname "$0")/common.sh"
set -u
pg_start || fail "cannot start PostgreSQL"
export DATABASE_URL=$PG_URL DB_STATEMENT_TIMEOUT=2s DB_POOL_SIZE=4
out=$WD_TEST_TMP/load.out
stop=$WD_TEST_TMP/stop
"$DB_DRIVER" load 8 120 "$stop" >"$out" 2>"$WD_TEST_TMP/load.err" &
drv=$!
wait_seconds "$out" 2 || fail "driver did not start"
pg_stop_server || fail "stop"
wait_seconds "$out" "$(($(grep -c '^second' "$out") + 2))" || fail "driver stuck"
pg_start_server || fail "restart"
from=$(grep -c '^second' "$out")
wait_clean "$out" "$from" 2 30 || { touch "$stop"; wait $drv; cat "$out"; fail "no recovery"; }
touch "$stop"
wait $drv || fail "driver exited with $?"
cat "$out"
read -r ok fail max_fail last_fail last_ok slow < <(awk '/^total/ {print $3, $5, $7, $13, $15, $17}' "$out")
[ -n "${ok:-}" ] || fail "no summary"
((fail > 0)) || fail "no call failed while the server was down"
((max_fail < 1000)) || fail "a failing call took $max_fail ms"
((last_ok > last_fail)) || fail "no success after the last failure"
grep -q '"database unavailable' "$WD_TEST_TMP/load.err" || fail "outage not logged"
grep -q '"database available again' "$WD_TEST_TMP/load.err" || fail "recovery not logged"
echo "outage ok: $fail calls failed fast (max $max_fail ms), recovered by itself"

# A process that starts while the server is away fails fast too, and says why.
pg_stop_server || fail "stop again"
t0=$(date +%s%N)
out=$("$DB_DRIVER" query 'SELECT 1' 2>/dev/null) && fail "query without a server succeeded"
ms=$((($(date +%s%N) - t0) / 1000000))
case $out in "error unavailable sqlstate=- "*"Connection refused"*) ;; *) fail "error line: $out" ;; esac
((ms < 3000)) || fail "first call without a server took $ms ms"

# A role starting before the server waits for it (wd_db_wait_ready), then works.
"$DB_DRIVER" wait 60000 >"$WD_TEST_TMP/wait.out" 2>&1 &
w=$!
sleep 1
kill -0 $w 2>/dev/null || fail "wait returned while the server was down: $(cat "$WD_TEST_TMP/wait.out")"
pg_start_server || fail "start for the waiting process"
wait $w || fail "waiting process: $(cat "$WD_TEST_TMP/wait.out")"
grep -q '^ready$' "$WD_TEST_TMP/wait.out" || fail "not ready: $(cat "$WD_TEST_TMP/wait.out")"
out=$("$DB_DRIVER" wait 300 2>&1) || fail "wait with a server up: $out"
pg_stop_server || fail "stop for the timeout"
t0=$(date +%s%N)
out=$("$DB_DRIVER" wait 500 2>&1) && fail "wait without a server succeeded"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms >= 500)) || fail "wait gave up after $ms ms, before its 500 ms"
echo "outage ok"
