# role.sh - start woodctl roles as real processes for a test (source it; bash).
#
#   role_start NAME [VAR=value ...]   starts `$WOODCTL NAME` with the settings, output in
#                                     $WD_TEST_TMP/NAME.log; sets ROLE_PID[NAME]
#   role_wait_ready URL [SECONDS]     waits until URL answers 2xx (default 30 s)
#   role_stop NAME                    SIGTERM, then waits (SIGKILL after 15 s); ROLE_RC[NAME]
#   free_port                         prints a TCP port nobody listens on now
# Every started role is stopped when the test exits (after which pg_cleanup runs, if the
# test started a PostgreSQL with tests/lib/pg.sh).
declare -A ROLE_PID ROLE_RC

free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

role_start() {
	local name=$1
	shift
	env "$@" "$WOODCTL" "$name" >>"$WD_TEST_TMP/$name.log" 2>&1 &
	ROLE_PID[$name]=$!
	trap roles_cleanup EXIT
}

role_wait_ready() {
	local url=$1 secs=${2:-30} i
	for ((i = 0; i < secs * 10; i++)); do
		curl -sf -o /dev/null --max-time 2 "$url" && return 0
		sleep 0.1
	done
	echo "not ready after ${secs}s: $url" >&2
	return 1
}

role_stop() {
	local name=$1 pid=${ROLE_PID[$1]:-} i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	ROLE_RC[$name]=$?
	unset "ROLE_PID[$name]"
}

roles_cleanup() {
	local n
	for n in "${!ROLE_PID[@]}"; do role_stop "$n"; done
	if declare -F pg_cleanup >/dev/null; then pg_cleanup; fi
}
