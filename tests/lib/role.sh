# role.sh - start woodctl roles as real processes for a test (source it; bash).
#
#   role_start NAME [VAR=value ...]   starts `$WOODCTL NAME` with the settings, output in
#                                     $WD_TEST_TMP/NAME.log; sets ROLE_PID[NAME]
#   role_wait_ready URL [SECONDS]     waits until URL answers 2xx (default 30 s)
#   role_stop NAME                    SIGTERM, then waits (SIGKILL after 15 s); ROLE_RC[NAME]
#   role_kill NAME                    SIGKILL at once (a crash), and waits
#   free_port                         prints a TCP port nobody listens on now
# Every started role is stopped when the test exits, then the broker (tests/lib/broker.sh)
# and the PostgreSQL (tests/lib/pg.sh) if the test started them.
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

role_kill() {
	local pid=${ROLE_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "ROLE_PID[$1]"
}

roles_cleanup() {
	local n
	for n in "${!ROLE_PID[@]}"; do role_stop "$n"; done
	if declare -F broker_stop >/dev/null; then broker_stop; fi
	if declare -F pg_cleanup >/dev/null; then pg_cleanup; fi
}

# role_up NAME PORTVAR PATH [VAR=value ...]: starts NAME on a free port given in PORTVAR
# and waits until http://127.0.0.1:PORT/PATH answers 2xx; sets ROLE_PORT. Another suite
# may take the port between the probe and the bind, so a role that exits at once is
# started again on another port (5 tries).
role_up() {
	local name=$1 var=$2 path=$3 try i
	shift 3
	for try in 1 2 3 4 5; do
		ROLE_PORT=$(free_port) || return 1
		role_start "$name" "$var=$ROLE_PORT" "$@"
		for ((i = 0; i < 300; i++)); do
			curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$ROLE_PORT$path" && return 0
			kill -0 "${ROLE_PID[$name]}" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "${ROLE_PID[$name]}" 2>/dev/null; then
			echo "$name not ready after 30 s on port $ROLE_PORT" >&2
			return 1
		fi
		wait "${ROLE_PID[$name]}" 2>/dev/null
		unset "ROLE_PID[$name]"
	done
	echo "$name did not start: $(tail -n 3 "$WD_TEST_TMP/$name.log")" >&2
	return 1
}
