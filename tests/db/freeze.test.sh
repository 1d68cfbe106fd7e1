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
"$DB_DRIVER" load 8 10 >"$out" 2>"$WD_TEST_TMP/load.err" &
drv=$!
sleep 2
for p in $(pids); do kill -STOP "$p"; done
sleep 4
thaw
wait $drv || fail "driver exited with $?"
cat "$out"
read -r ok fail max_fail last_fail last_ok < <(awk '/^total/ {print $3, $5, $7, $13, $15}' "$out")
[ -n "${ok:-}" ] || fail "no summary"
((fail > 0)) || fail "no call failed while the server was frozen"
# In flight: statement timeout 1 s + 1 s grace; nothing may wait longer.
((max_fail < 2500)) || fail "a failing call took $max_fail ms"
((last_fail < 9000)) || fail "calls still failing at $last_fail ms"
((last_ok > last_fail)) || fail "no success after the last failure"
# Past the calls already waiting on the stuck server (at most one per thread in flight
# plus one per thread waiting for a connection, twice), failures are immediate.
slow=$(awk '/^total/ {print $17}' "$out")
((slow <= 16)) || fail "$slow calls took 250 ms or more to fail"
((fail - slow > 100)) || fail "only $((fail - slow)) calls failed fast"
tail -n 2 "$out" | head -n 1 | grep -q ' fail 0 up 1$' || fail "last second not clean"
echo "freeze ok: $fail calls failed ($slow slowly, max $max_fail ms), recovered at $last_fail ms"
