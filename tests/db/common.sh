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
