#!/usr/bin/env bash
# image-rootfs.sh - the container image's root filesystem works, without a Docker engine:
# deploy/rootfs.sh (what deploy/Dockerfile's final stage copies FROM scratch) assembles it
# from the static binary, and the binary runs in a chroot of exactly that folder as the
# image's user 10001, with the /etc/hosts Docker would add. Its healthcheck command
# (`/woodctl probe URL`) answers 0 for a live HTTP server, by IP and by a name from
# /etc/hosts and by a name only DNS knows (a stand-in for Docker's embedded DNS at
# 127.0.0.11, which is how `kafka`, `postgres`, `otel-collector` resolve in compose), and 1
# for a closed port. Needs root for chroot.
# usage: WOODCTL=build/static/woodctl.stripped tests/static/image-rootfs.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${WOODCTL:?set WOODCTL to the static binary}"
root=$(mktemp -d /tmp/woodctl-image.XXXXXX)
srv='' dns=''
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	[ -n "$dns" ] && kill "$dns" 2>/dev/null
	rm -rf "$root"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
# run NAME WANT_RC PATTERN CMD...: runs CMD in the chroot as 10001:10001.
run() {
	local name=$1 want=$2 pat=$3 out rc=0
	shift 3
	out=$(chroot --userspec=10001:10001 "$root" "$@" 2>&1) || rc=$?
	if [ "$rc" = "$want" ] && grep -qE -- "$pat" <<<"$out"; then ok "$name"; else
		bad "$name (exit $rc, wanted $want and /$pat/):"
		sed 's/^/    /' <<<"$out" | head -10
	fi
}

deploy/rootfs.sh "$root" "$WOODCTL"
# Exactly the files the image is meant to hold.
want=$'etc/group\netc/nsswitch.conf\netc/passwd\netc/ssl/certs/ca-certificates.crt\nwoodctl'
have=$(cd "$root" && find . -type f | sed 's|^\./||' | sort)
[ "$have" = "$want" ] && ok "image holds only the binary, CA certificates, passwd/group/nsswitch" ||
	bad "image files differ: $have"
[ "$(stat -c %a "$root/tmp")" = 1777 ] && ok "/tmp is writable by everyone" || bad "/tmp mode"
grep -q '^woodctl:x:10001:10001:' "$root/etc/passwd" && ok "user 10001 exists" || bad "no user 10001"
# rootfs.sh refuses a dynamic binary (a FROM scratch image could not run it).
if deploy/rootfs.sh "$root.dyn" /bin/true 2>/dev/null; then bad "rootfs.sh accepted a dynamic binary"; else
	ok "rootfs.sh refuses a dynamic binary"; fi
rm -rf "$root.dyn"
# Docker adds /etc/hosts at run time.
printf '127.0.0.1 localhost otel-collector\n::1 localhost\n' >"$root/etc/hosts"
# ... and /etc/resolv.conf naming its embedded DNS server.
printf 'nameserver 127.0.0.11\noptions timeout:1 attempts:2\n' >"$root/etc/resolv.conf"
coproc DNS { exec /usr/bin/python3 tests/lib/fake_dns.py 127.0.0.11 53 2>&1; }
dns=$DNS_PID
read -r -t 5 line <&"${DNS[0]}" || line=
[ "$line" = ready ] || { echo "FAIL cannot start the DNS stand-in on 127.0.0.11:53: $line"; exit 1; }

run "version as uid 10001" 0 '^woodctl [0-9]+\.[0-9]+\.[0-9]+' /woodctl version
run "help lists the roles" 0 '^  ordermanagement ' /woodctl help
for r in customer order agent-orchestrator agents-ui; do
	run "help $r" 0 "^usage: woodctl $r" /woodctl "$r" --help
done

# The healthcheck: a real HTTP server on a free loopback port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$root.www" && echo ok >"$root.www/health"
python3 -m http.server --bind 127.0.0.1 --directory "$root.www" "$port" >/dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
	sleep 0.1
done
run "probe a live server by IP" 0 '200' /woodctl probe "http://127.0.0.1:$port/health"
run "probe by a name from /etc/hosts" 0 '200' /woodctl probe "http://otel-collector:$port/health"
run "probe by a name only DNS knows" 0 '200' /woodctl probe "http://postgres:$port/health"
run "probe a missing path" 1 '404' /woodctl probe "http://127.0.0.1:$port/nosuch"
kill "$srv" && wait "$srv" 2>/dev/null || true
srv=
rm -rf "$root.www"
run "probe a closed port" 1 'unreachable' /woodctl probe "http://127.0.0.1:$port/health"
run "probe without URL" 2 'usage' /woodctl probe
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
