#!/usr/bin/env bash
# empty-root.sh - the static woodctl works in an empty root: a chroot holding only the
# binary and /etc/hosts (no libc, no loader, no shell). Needs root for chroot.
# usage: WOODCTL=build/static/woodctl tests/static/empty-root.sh
set -euo pipefail
: "${WOODCTL:?set WOODCTL to the static binary}"
root=$(mktemp -d /tmp/woodctl-root.XXXXXX)
trap 'rm -rf "$root"' EXIT
pass=0 fail=0
check() { # name, then the command's expected output pattern, then the command
	local name=$1 want=$2
	shift 2
	local out rc=0
	out=$(chroot "$root" "$@" 2>&1) || rc=$?
	if grep -qE -- "$want" <<<"$out"; then
		pass=$((pass + 1))
		echo "ok   $name"
	else
		fail=$((fail + 1))
		echo "FAIL $name (exit $rc): wanted /$want/, got:"
		sed 's/^/    /' <<<"$out" | head -20
	fi
}

if ! file -L "$WOODCTL" | grep -q 'statically linked'; then
	echo "FAIL $WOODCTL is not statically linked: $(file -L "$WOODCTL")"
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir -p "$root/etc"
cp "$WOODCTL" "$root/woodctl"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
[ "$(find "$root" -type f | wc -l)" -eq 2 ]

check "version" '^woodctl [0-9]+\.[0-9]+\.[0-9]+ \(commit' /woodctl version
check "version lists libraries" 'librdkafka +2\.' /woodctl version
check "help order" 'ERROR_RATE +float, default .0\.1.' /woodctl help order
check "help order names the API" 'POST /orders' /woodctl help order
check "unknown role" "unknown role 'nosuch'" /woodctl nosuch
rc=0
chroot "$root" /woodctl nosuch >/dev/null 2>&1 || rc=$?
if [ "$rc" = 127 ]; then pass=$((pass + 1)); echo "ok   unknown role exits 127"; else
	fail=$((fail + 1)); echo "FAIL unknown role exited $rc, not 127"; fi
# Every role's help runs in the empty root.
for r in $(chroot "$root" /woodctl help | awk '/^roles:/{on=1;next} on && /^  [a-z]/{print $1}'); do
	check "help $r" "^usage: woodctl $r" /woodctl "$r" --help
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
