#!/usr/bin/env bash
# db-pgbench.sh - single-row INSERT and SELECT per second through the PostgreSQL core
# (build/tests/db-driver bench) against the same statements run by pgbench, with the same
# number of connections, on one throwaway server, one after the other.
#
#   bench/db-pgbench.sh [CONNS [SECONDS]]      (default 4 connections, 10 s each)
#
# pgbench runs with -M prepared (what the core does: each statement is prepared once per
# connection) and -M simple (its default) for reference. The core runs with telemetry off
# (OTEL_SDK_DISABLED=true, the figure compared) and with a CLIENT span made per statement
# but not exported (OTEL_TRACES_EXPORTER=none), for the cost of instrumentation.
# Build first: make build/tests/db-driver
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-4}
secs=${2:-10}
WOODCTL=${WOODCTL:-$PWD/build/woodctl}
. tests/lib/pg.sh
DRIVER=$(dirname "$WOODCTL")/tests/db-driver
[ -x "$DRIVER" ] || { echo "build $DRIVER first (make build/tests/db-driver)" >&2; exit 1; }
pg_start >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"; pg_cleanup' EXIT

pg_psql <<'SQL'
CREATE TABLE bench_a (aid integer PRIMARY KEY, abalance integer NOT NULL);
INSERT INTO bench_a SELECT g, g % 1000 FROM generate_series(1, 100000) g;
CREATE TABLE bench_t (id bigserial PRIMARY KEY, aid integer NOT NULL, delta integer NOT NULL);
VACUUM ANALYZE;
SQL
cat >"$work/insert.sql" <<'SQL'
\set aid random(1, 100000)
\set delta random(0, 4999)
INSERT INTO bench_t (aid, delta) VALUES (:aid, :delta);
SQL
cat >"$work/select.sql" <<'SQL'
\set aid random(1, 100000)
SELECT abalance FROM bench_a WHERE aid = :aid;
SQL

pgbench_tps() { # MODE SCRIPT
	"$PG_BIN/pgbench" -n -M "$1" -f "$2" -c "$conns" -j "$conns" -T "$secs" "$PG_URL" 2>/dev/null |
		awk '/^tps/ {printf "%.0f", $3}'
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# The machine is shared, so the two sides alternate in rounds (ROUNDS, default 3) of
# SECONDS/ROUNDS (whole) seconds each and the medians are compared: a burst of load elsewhere hits both.
rounds=${ROUNDS:-3}
slice=$((secs / rounds > 0 ? secs / rounds : 1)) # pgbench -T takes whole seconds
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), $conns connections, $rounds rounds of $slice s per side, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
for op in insert select; do
	: >"$work/core" && : >"$work/spans" && : >"$work/prep" && : >"$work/simple"
	for _ in $(seq "$rounds"); do
		OTEL_SDK_DISABLED=true DATABASE_URL=$PG_URL DB_POOL_SIZE=$conns \
			"$DRIVER" bench "$op" "$conns" "$slice" | awk '{print $2}' >>"$work/core"
		OTEL_SDK_DISABLED=false OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none \
			OTEL_LOGS_EXPORTER=none DATABASE_URL=$PG_URL DB_POOL_SIZE=$conns \
			"$DRIVER" bench "$op" "$conns" "$slice" | awk '{print $2}' >>"$work/spans"
		secs=$slice pgbench_tps prepared "$work/$op.sql" >>"$work/prep"
		echo >>"$work/prep"
		secs=$slice pgbench_tps simple "$work/$op.sql" >>"$work/simple"
		echo >>"$work/simple"
	done
	core=$(median <"$work/core")
	spans=$(median <"$work/spans")
	prep=$(median <"$work/prep")
	simple=$(median <"$work/simple")
	pct=$(awk -v a="$core" -v b="$prep" 'BEGIN {printf "%.0f", 100 * a / b}')
	printf '%-6s core %6s/s (with spans %6s/s)   pgbench -M prepared %6s/s, -M simple %6s/s   core = %s%% of prepared\n' \
		"$op" "$core" "$spans" "$prep" "$simple" "$pct"
	echo "       rounds: core $(paste -sd' ' "$work/core"), with spans $(paste -sd' ' "$work/spans"), prepared $(paste -sd' ' "$work/prep"), simple $(paste -sd' ' "$work/simple")"
done
