# otel.sh - helpers for the telemetry script cases: a capture receiver, the test driver,
# and the independent decoder. Source it; it expects WOODCTL and WD_TEST_TMP.
EMIT=${EMIT:-$(dirname "$WOODCTL")/tests/otel/emit}
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DECODE="node $LIB/otlp-decode/decode.js"

need_node() {
	command -v node >/dev/null || { echo "node is not installed"; exit 77; }
	[ -d "$LIB/otlp-decode/node_modules/@opentelemetry/otlp-transformer" ] ||
		{ echo "decoder not installed (deploy/deps.sh node)"; exit 77; }
	[ -x "$EMIT" ] || { echo "missing $EMIT (make progs)"; exit 1; }
}

# start_receiver SCRIPT: starts the receiver in $WD_TEST_TMP/rx, sets RX_PORT and RX_PID.
start_receiver() {
	RX=$WD_TEST_TMP/rx
	mkdir -p "$RX"
	node "$LIB/otlp-receiver.js" --dir "$RX" --port-file "$WD_TEST_TMP/rx.port" \
		--script "${1:-200}" &
	RX_PID=$!
	for _ in $(seq 100); do
		[ -s "$WD_TEST_TMP/rx.port" ] && break
		sleep 0.05
	done
	RX_PORT=$(cat "$WD_TEST_TMP/rx.port")
	[ -n "$RX_PORT" ] || { echo "receiver did not start"; exit 1; }
	export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT
	trap 'kill $RX_PID 2>/dev/null' EXIT
}

# A port nothing listens on: bind, note it, close.
free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

fail() {
	echo "FAIL: $*"
	exit 1
}

# decode SIGNAL N: the decoded JSON of request N (gunzipped when it was sent gzip).
decode() {
	local z=
	grep -q '"content-encoding":"gzip"' "$RX/$2.json" && z=--gzip
	$DECODE "$1" "$RX/$2.body" $z
}

# decode_all SIGNAL: the decoded JSON of every SIGNAL request the receiver got so far, one
# document after another; fails when one does not decode.
decode_all() {
	local m
	for m in "$RX"/*.json; do
		[ -e "$m" ] || continue
		grep -q "\"url\":\"/v1/$1\"" "$m" || continue
		decode "$1" "$(basename "$m" .json)" || return 1
	done
}

# wait_requests N [SECONDS]: waits until the receiver has N requests.
wait_requests() {
	for _ in $(seq $((${2:-10} * 20))); do
		[ -e "$RX/$1.json" ] && return 0
		sleep 0.05
	done
	return 1
}
