# api.test.sh - the core's API against a real server: parameters with hostile text,
# NULLs, SQLSTATE classes, transactions and retries, statement timeout, the pool.
. "$(dirname "$0")/common.sh"
set -u
pg_start || fail "cannot start PostgreSQL"
export DATABASE_URL=$PG_URL DB_STATEMENT_TIMEOUT=500ms DB_POOL_SIZE=4
"$DB_DRIVER" api || fail "api checks"

# What went in through a parameter is what psql (another client) reads back.
s="a'b\"c; DROP TABLE x; -- \$1 \\\\ é"
"$DB_DRIVER" query 'CREATE TABLE q (v text)' >/dev/null || fail "create"
"$DB_DRIVER" query 'INSERT INTO q (v) VALUES ($1), ($2)' "$s" '\N' | grep -q '^ok affected=2' ||
	fail "insert"
expect_eq "psql reads the hostile text" "$(pg_psql -At -c "SELECT v FROM q WHERE v IS NOT NULL")" "$s"
expect_eq "NULL stored" "$(pg_psql -At -c "SELECT count(*) FROM q WHERE v IS NULL")" 1
out=$("$DB_DRIVER" query 'SELECT v FROM q ORDER BY v NULLS LAST')
expect_eq "rows as JSON" "$out" "$(printf 'ok affected=2 rows=2\n["a'"'"'b\\"c; DROP TABLE x; -- $1 \\\\\\\\ é"]\n[null]')"

# An error names its class and SQLSTATE; the exit status says it failed.
out=$("$DB_DRIVER" query 'INSERT INTO q (v) VALUES ($1::int::text)' 'x') && fail "bad int accepted"
case $out in "error invalid value sqlstate=22P02 "*) ;; *) fail "error line: $out" ;; esac

# Without DATABASE_URL, the PG* variables choose the server (libpq reads them).
out=$(env -u DATABASE_URL PGHOST=127.0.0.1 PGPORT="$PG_PORT" PGUSER=postgres PGDATABASE=postgres \
	"$DB_DRIVER" query 'SELECT current_user, inet_server_port()') || fail "PG* variables: $out"
expect_eq "PG* variables" "$out" "$(printf 'ok affected=1 rows=1\n["postgres","%s"]' "$PG_PORT")"
# ... but DATABASE_URL wins over them.
out=$(PGHOST=127.0.0.1 PGPORT=1 "$DB_DRIVER" query 'SELECT 1') || fail "DATABASE_URL precedence: $out"
echo "api ok"
