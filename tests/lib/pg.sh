# pg.sh - a throwaway PostgreSQL server for tests (source it; bash).
#
#   . tests/lib/pg.sh
#   pg_start            initdb + start on a free port; sets PG_URL, PG_PORT, PG_DIR;
#                       exits 77 (skip) when the PostgreSQL server binaries are missing
#   pg_stop_server      stops the server (fast), keeping the data: an outage
#   pg_start_server     starts it again on the same port
#   pg_psql ARGS...     psql against the server
#   pg_wait_count SQL N SECS   waits until the count query SQL answers at least N (or SECS
#                       pass); leaves the last answer in PG_COUNT; returns 1 on timeout
#   pg_cleanup          stops and removes everything (installed as an EXIT trap)
#
# The server runs as user postgres when we are root (initdb refuses root), with its
# socket in its own folder, fsync off, listening on 127.0.0.1 only. Other suites run at
# the same time, so the port is probed and a start that loses a race is retried.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_DIR=
PG_PORT=
PG_URL=

pg__as() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A port nobody listens on now (the server's bind is the real test).
pg__free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

pg_start_server() {
	pg__as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
		-o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
}

pg_stop_server() {
	pg__as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null
}

pg_cleanup() {
	if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
		pg__as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
		rm -rf "$PG_DIR"
	fi
	PG_DIR=
}

pg_start() {
	if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
		echo "PostgreSQL server binaries not found (Debian package postgresql-15)"
		exit 77
	fi
	PG_DIR=$(mktemp -d /tmp/wd-pg.XXXXXX)
	trap pg_cleanup EXIT
	trap 'exit 143' TERM INT
	if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_DIR"; fi
	chmod 700 "$PG_DIR"
	pg__as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale \
		--no-sync >"$PG_DIR/initdb.log" 2>&1 || {
		cat "$PG_DIR/initdb.log"
		return 1
	}
	local try
	for try in 1 2 3 4 5; do
		PG_PORT=$(pg__free_port) || return 1
		if pg_start_server; then
			PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
			export PG_URL PG_PORT PG_DIR
			return 0
		fi
		# Lost a race for the port: the log says so; try another.
		tail -n 3 "$PG_DIR/server.log" >&2
	done
	return 1
}

pg_psql() {
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$PG_URL" "$@"
}

pg_wait_count() {
	local sql=$1 want=$2 i
	for ((i = 0; i < $3 * 10; i++)); do
		PG_COUNT=$(pg_psql -At -c "$sql")
		[ "${PG_COUNT:-0}" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}
