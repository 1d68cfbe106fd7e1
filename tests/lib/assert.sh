# assert.sh - small helpers for script cases (sourced). Each failure says what and why.
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_rc WANT CMD...: runs CMD, stores stdout+stderr in $OUT, checks the exit code.
expect_rc() {
	local want=$1
	shift
	local rc=0
	OUT=$("$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want; output: $OUT"
}
# expect_out PATTERN: $OUT matches the extended regular expression.
expect_out() {
	grep -qE -- "$1" <<<"$OUT" || fail "output does not match /$1/: $OUT"
}
expect_no_out() {
	if grep -qE -- "$1" <<<"$OUT"; then fail "output matches /$1/ but must not: $OUT"; fi
}
