# common.sh - shared by the PostgreSQL suites: the driver, a throwaway server, assertions.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/pg.sh"
DB_DRIVER=${DB_DRIVER:-$(dirname "$WOODCTL")/tests/db-driver}
[ -x "$DB_DRIVER" ] || { echo "missing $DB_DRIVER (make test builds it)"; exit 1; }

# The suites look at spans only where they say so.
export OTEL_SDK_DISABLED=${OTEL_SDK_DISABLED:-true}

fail() {
	echo "FAIL: $*"
	exit 1
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# Load runs (db-driver load THREADS MAX STOPFILE > OUT): the scripts wait for what the
# driver reports rather than sleeping fixed times, so a busy machine slows them down
# without failing them.

# wait_seconds OUT N [TIMEOUT]: until OUT has N "second" lines.
wait_seconds() {
	local i
	for i in $(seq $((${3:-30} * 10))); do
		(($(grep -c '^second' "$1") >= $2)) && return 0
		sleep 0.1
	done
	return 1
}

# wait_clean OUT FROM N [TIMEOUT]: until N consecutive "second" lines after line FROM
# show calls succeeding and none failing with the pool up.
wait_clean() {
	local i
	for i in $(seq $((${4:-30} * 10))); do
		awk -v from="$2" -v n="$3" '/^second/ && ++k > from {
			if ($4 > 0 && $6 == 0 && $8 == 1) { if (++run >= n) ok = 1 } else run = 0
		} END { exit !ok }' "$1" && return 0
		sleep 0.1
	done
	return 1
}
