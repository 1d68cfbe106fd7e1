# broker.sh - sourced by test scripts: an embedded broker (`woodctl broker`) in its own
# process, and the settings every Kafka client of a test uses.
#
#   broker_start [broker options]   starts it, waits until it listens (10 s at most) and
#                                   exports KAFKA_BOOTSTRAP_SERVERS; stops it on exit
#   broker_stop                     SIGTERM, and waits for it to exit
#   KDRV                            the Kafka driver program (tests/kafka/kafka-driver.c)
#   wait_for FILE PATTERN [SECS]    waits until FILE has a line matching PATTERN
#
# The consumer settings shorten the embedded broker's rejoin delay (session.timeout.ms - 1 s),
# and bound how long a rebalance may wait for a member that died (max.poll.interval.ms is
# the rebalance timeout a member announces; 300 s by default).
: "${WOODCTL:?}" "${WD_TEST_TMP:?}"
KDRV=$(dirname "$WOODCTL")/tests/kafka/kafka-driver
export KAFKA_PROP_SESSION_TIMEOUT_MS=3000 KAFKA_PROP_HEARTBEAT_INTERVAL_MS=500
export KAFKA_PROP_MAX_POLL_INTERVAL_MS=15000
export LOG_FORMAT=json
# Test programs export telemetry only in the cases that start a receiver for it.
export OTEL_SDK_DISABLED=${OTEL_SDK_DISABLED:-true}
BROKER_PID=

broker_stop() {
	[[ -n $BROKER_PID ]] || return 0
	kill -TERM "$BROKER_PID" 2>/dev/null
	wait "$BROKER_PID" 2>/dev/null
	BROKER_PID=
}

broker_start() {
	local addr_file=$WD_TEST_TMP/broker.addr
	rm -f "$addr_file"
	"$WOODCTL" broker --address-file "$addr_file" "$@" >"$WD_TEST_TMP/broker.out" 2>&1 &
	BROKER_PID=$!
	trap 'rc=$?; broker_stop; j=$(jobs -p); [[ -z $j ]] || kill $j 2>/dev/null; exit $rc' EXIT
	for _ in $(seq 100); do
		[[ -s $addr_file ]] && break
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [[ ! -s $addr_file ]]; then
		echo "broker did not start:"
		cat "$WD_TEST_TMP/broker.out"
		exit 1
	fi
	KAFKA_BOOTSTRAP_SERVERS=$(cat "$addr_file")
	export KAFKA_BOOTSTRAP_SERVERS
}

wait_for() {
	local file=$1 pattern=$2 secs=${3:-20}
	for _ in $(seq $((secs * 10))); do
		grep -q -- "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out after ${secs}s waiting for '$pattern' in $file:"
	cat "$file"
	return 1
}
