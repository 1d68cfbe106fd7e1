# terminate.test.sh - an administrator terminates our backends while calls run: the calls
# on those connections fail, the pool reconnects at once, and the rest goes on.
. "$(dirname "$0")/common.sh"
set -u
pg_start || fail "cannot start PostgreSQL"
export DATABASE_URL=$PG_URL DB_STATEMENT_TIMEOUT=2s DB_POOL_SIZE=4
out=$WD_TEST_TMP/load.out
"$DB_DRIVER" load 4 5 >"$out" 2>"$WD_TEST_TMP/load.err" &
drv=$!
# Wait for the driver's connections (the machine may be busy), then terminate them.
count="SELECT count(*) FROM pg_stat_activity WHERE application_name = 'db-driver'"
for _ in $(seq 50); do
	(($(pg_psql -At -c "$count") > 0)) && break
	sleep 0.1
done
n=$(pg_psql -At -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'db-driver'")
wait $drv || fail "driver exited with $?"
cat "$out"
grep '^slow failure' "$WD_TEST_TMP/load.err"
((n > 0)) || fail "no backend to terminate"
read -r ok fail max_fail first_fail last_fail last_ok slow < <(awk '/^total/ {print $3, $5, $7, $11, $13, $15, $17}' "$out")
[ -n "${ok:-}" ] || fail "no summary"
# Only calls in flight on a terminated backend fail (an idle connection is found closed
# before use and replaced), plus those in the few milliseconds the pool needs to
# reconnect; none is slow and it is over at once.
((slow == 0)) || fail "$slow calls were slow to fail"
((fail == 0 || last_fail - first_fail < 1500)) || fail "failures lasted from $first_fail to $last_fail ms"
((last_ok > last_fail)) || fail "no success after the last failure"
echo "terminate ok: $n backends terminated, $fail calls failed"
grep -c '"database available again' "$WD_TEST_TMP/load.err" || true
