# sink.sh - runs `woodctl otlp-sink` for a test case and talks OTLP/HTTP to it (source it).
#
#   . tests/lib/sink.sh
#   sink_start [VAR=value...]   starts the sink on a free port (PORT=0) with SINK_DIR in
#                               $WD_TEST_TMP/out; sets SINK_PID, SINK_URL, SINK_DIR,
#                               SINK_LOG; stops it on exit
#   encode TYPE JSON_FILE [--gzip] > BIN   OTLP/JSON -> protobuf with OpenTelemetry JS
#   post PATH FILE CONTENT_TYPE [curl args...]
#                               POSTs FILE; sets CODE (HTTP status) and RESP (the body file)
#   sink_stop                   SIGTERM, waits (10 s at most), fails unless it exits 0
#   log_has FILTER [jq args...]  fails unless a JSON line of the sink's log passes FILTER
#   same_json A B               fails unless the two JSON files (one value each) are equal
#
# Needs node (the independent encoder), curl and jq; skips (77) when one is missing.
. tests/lib/assert.sh

for t in node curl jq; do
	command -v "$t" >/dev/null || { echo "$t is not installed (deploy/deps.sh)"; exit 77; }
done

SINK_PID=
SINK_DIR=$WD_TEST_TMP/out
SINK_LOG=$WD_TEST_TMP/sink.log
RESP=$WD_TEST_TMP/resp

sink__cleanup() {
	if [ -n "$SINK_PID" ] && kill -0 "$SINK_PID" 2>/dev/null; then
		kill -KILL "$SINK_PID" 2>/dev/null
	fi
}
trap sink__cleanup EXIT

sink_start() {
	env PORT=0 HTTP_LISTEN=127.0.0.1 SINK_DIR="$SINK_DIR" LOG_FORMAT=json "$@" \
		"$WOODCTL" otlp-sink >"$SINK_LOG" 2>&1 &
	SINK_PID=$!
	local port=
	for _ in $(seq 100); do
		port=$(grep -o '"serving HTTP on [^"]*' "$SINK_LOG" | grep -o '[0-9]*$' | head -n 1)
		[ -n "$port" ] && break
		kill -0 "$SINK_PID" 2>/dev/null || fail "the sink exited at start: $(cat "$SINK_LOG")"
		sleep 0.1
	done
	[ -n "$port" ] || fail "the sink did not say its port: $(cat "$SINK_LOG")"
	SINK_URL=http://127.0.0.1:$port
}

encode() {
	node tests/lib/otlp-encode.js "$@" || fail "the JS encoder refused $*"
}

post() {
	local path=$1 file=$2 ct=$3
	shift 3
	CODE=$(curl -sS -o "$RESP" -w '%{http_code}' -X POST -H "Content-Type: $ct" \
		--data-binary @"$file" "$@" "$SINK_URL$path") || fail "curl to $path failed"
}

sink_stop() {
	kill -TERM "$SINK_PID"
	local rc=0
	for _ in $(seq 100); do
		kill -0 "$SINK_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$SINK_PID" 2>/dev/null && fail "the sink did not stop within 10 s of SIGTERM"
	wait "$SINK_PID" || rc=$?
	SINK_PID=
	[ "$rc" = 0 ] || fail "the sink exited $rc after SIGTERM; log: $(tail -n 5 "$SINK_LOG")"
}

same_json() {
	jq -e -n --slurpfile a "$1" --slurpfile b "$2" '$a == $b' >/dev/null ||
		fail "JSON differs: $1: $(jq -cS . "$1") versus $2: $(jq -cS . "$2")"
}

log_has() {
	local filter=$1
	shift
	grep '^{' "$SINK_LOG" | jq -c "$@" "select($filter)" | grep -q . ||
		fail "no log line matches $filter $*; the log: $(tail -n 20 "$SINK_LOG")"
}
