# freeze.test.sh - the server stops answering without closing anything (its processes are
# frozen, as in a network partition): calls in flight end after the statement timeout
# plus 1 s, later ones fail at once, and everything resumes once the server thaws.
. "$(dirname "$0")/common.sh"
set -u
pg_start || fail "cannot start PostgreSQL"
export DATABASE_URL=$PG_URL DB_STATEMENT_TIMEOUT=1s DB_CONNECT_TIMEOUT=500ms DB_POOL_SIZE=4
pm=$(head -n 1 "$PG_DIR/data/postmaster.pid")
pids() { echo "$pm"; ps -o pid= --ppid "$pm"; }
thaw() { for p in $(pids); do kill -CONT "$p" 2>/dev/null; done; }
trap 'thaw; pg_cleanup' EXIT
out=$WD_TEST_TMP/load.out
stop=$WD_TEST_TMP/stop
"$DB_DRIVER" load 8 120 "$stop" >"$out" 2>"$WD_TEST_TMP/load.err" &
drv=$!
wait_seconds "$out" 2 || fail "driver did not start"
for p in $(pids); do kill -STOP "$p"; done
# Frozen until the pool has given up on the server and failed calls fast for 2 seconds.
for _ in $(seq 300); do
	awk '/^second/ {if ($8 == 0 && $6 > 0) n++; else n = 0} END {exit !(n >= 2)}' "$out" && break
	sleep 0.1
done
thaw
from=$(grep -c '^second' "$out")
wait_clean "$out" "$from" 2 30 || { touch "$stop"; wait $drv; cat "$out"; fail "no recovery"; }
touch "$stop"
wait $drv || fail "driver exited with $?"
cat "$out"
grep '^slow failure' "$WD_TEST_TMP/load.err"
read -r ok fail max_fail last_fail last_ok slow < <(awk '/^total/ {print $3, $5, $7, $13, $15, $17}' "$out")
[ -n "${ok:-}" ] || fail "no summary"
((fail > 0)) || fail "no call failed while the server was frozen"
# In flight: statement timeout 1 s + 1 s grace; nothing may wait much longer.
((max_fail < 2500)) || fail "a failing call took $max_fail ms"
# Past the calls already waiting on the stuck server (at most one per thread in flight
# plus one per thread waiting for a connection, twice), failures are immediate.
((slow <= 16)) || fail "$slow calls took 250 ms or more to fail"
((fail - slow > 100)) || fail "only $((fail - slow)) calls failed fast"
((last_ok > last_fail)) || fail "no success after the last failure"
echo "freeze ok: $fail calls failed ($slow slowly, max $max_fail ms), recovered by itself"
