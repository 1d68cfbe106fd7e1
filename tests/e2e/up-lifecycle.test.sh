# `woodctl up` with nothing given: its own PostgreSQL, broker and sink, and all seven roles.
# Orders reach ready or blocked; after SIGTERM no process, no listening port and no
# temporary folder is left behind.
. tests/lib/assert.sh
[ -x "$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/initdb" ] ||
	{ echo "PostgreSQL server binaries not found (Debian package postgresql-15)"; exit 77; }
log=$WD_TEST_TMP/up.log
env -u DATABASE_URL -u OTEL_EXPORTER_OTLP_ENDPOINT UP_STATUS_INTERVAL=1 \
	"$WOODCTL" up --interval 0.05 --error-rate 0.1 >"$log" 2>&1 &
up=$!
trap 'kill -KILL $up 2>/dev/null' EXIT
for i in $(seq 600); do
	grep -qE '== status: .*ready [1-9][0-9]*, blocked [0-9]+' "$log" && break
	kill -0 $up 2>/dev/null || fail "up exited early: $(tail -20 "$log")"
	sleep 0.1
done
grep -qE '== status: .*ready [1-9]' "$log" || fail "no order became ready in 60 s: $(grep status "$log" | tail -2)"
grep -qE '== status: .*\| stock: [a-z]+=[0-9]+' "$log" || fail "no stock in the status line"
workdir=$(grep -o 'work folder [^)]*' "$log" | head -1 | cut -d' ' -f3)
[ -d "$workdir" ] || fail "work folder '$workdir' not found"
# Everything up started: its children, and the PostgreSQL server (a daemon of pg_ctl).
kids=$(pgrep -P $up | tr '\n' ' ')
pgpids=$(pgrep -f -- "-D $workdir/postgresql/data" | tr '\n' ' ')
[ "$(wc -w <<<"$kids")" -ge 9 ] || fail "expected 9 children (broker, sink, 7 roles), got: $kids"
[ -n "$pgpids" ] || fail "no PostgreSQL server for $workdir"
ports=$(for p in $kids; do tr '\0' '\n' </proc/$p/environ | sed -n 's/^\(ADMIN_\)\{0,1\}PORT=//p'; done)
[ "$(wc -w <<<"$ports")" -ge 8 ] || fail "expected 8 listening roles, got ports: $ports"
kill -TERM $up
wait $up
rc=$?
trap - EXIT
[ $rc = 0 ] || fail "up exited $rc on SIGTERM"
# A process may still be finishing its exit (PostgreSQL's backends): allow 5 s.
for p in $kids $pgpids; do
	for i in $(seq 50); do
		[ -e /proc/$p ] && [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" != Z ] || break
		sleep 0.1
	done
	[ -e /proc/$p ] && [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" != Z ] &&
		fail "process $p ($(tr '\0' ' ' </proc/$p/cmdline)) still runs"
done
# A port may be taken again at once by another suite: only our processes must be gone
# from the listeners.
for port in $ports; do
	owners=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2)
	for o in $owners; do
		for p in $kids $pgpids; do
			[ "$o" = "$p" ] && fail "port $port still held by process $p"
		done
	done
done
[ ! -e "$workdir" ] || fail "work folder $workdir left on disk"
echo "stopped cleanly: children $kids, ports" $ports
