#!/usr/bin/env bash
# otlp-sink.sh - how many spans per second `woodctl otlp-sink` takes in and writes as
# OTLP/JSON, for one request body of SPANS spans (default 1000) sent REQUESTS times
# (default 200) over one keep-alive connection, as protobuf, gzip'd protobuf and JSON,
# side by side in one run. Loopback only; client (one curl) and sink share the machine.
#
#   bench/otlp-sink.sh [WOODCTL]   (default build/woodctl; needs node, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
WOODCTL=${1:-build/woodctl}
SPANS=${SPANS:-1000}
REQUESTS=${REQUESTS:-200}
tmp=$(mktemp -d /tmp/woodctl-bench.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# A request like the roles send: 10 attributes per span, ids, times, a status.
node -e '
const n = +process.argv[1], spans = [];
const hex = (i, w) => i.toString(16).padStart(w, "0");
for (let i = 0; i < n; i++) spans.push({
  traceId: hex(i + 1, 32), spanId: hex(i + 1, 16), parentSpanId: hex(i + 7, 16),
  name: "GET /orders/{id}", kind: 2,
  startTimeUnixNano: String(1700000000000000000n + BigInt(i)),
  endTimeUnixNano: String(1700000000000500000n + BigInt(i)),
  attributes: Array.from({ length: 10 }, (_, k) => ({ key: "attr." + k,
    value: k % 2 ? { intValue: String(k * i) } : { stringValue: "value-" + k } })),
  status: { code: 1 } });
console.log(JSON.stringify({ resourceSpans: [{ resource: { attributes: [
  { key: "service.name", value: { stringValue: "bench" } }] },
  scopeSpans: [{ scope: { name: "bench" }, spans }] }] }));
' "$SPANS" >"$tmp/req.json"
node tests/lib/otlp-encode.js traces "$tmp/req.json" >"$tmp/req.bin"
gzip -c "$tmp/req.bin" >"$tmp/req.bin.gz"

# At the default log level: the per-request summary and access lines are part of the cost.
PORT=0 HTTP_LISTEN=127.0.0.1 SINK_DIR="$tmp/out" LOG_FORMAT=json \
	"$WOODCTL" otlp-sink >"$tmp/log" 2>&1 &
pid=$!
port=
for _ in $(seq 50); do
	port=$(grep -o '"serving HTTP on [^"]*' "$tmp/log" | grep -o '[0-9]*$' || true)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "the sink did not start: $(cat "$tmp/log")" >&2; exit 1; }
url=http://127.0.0.1:$port/v1/traces

run() { # label file content-type [curl args]
	local label=$1 file=$2 ct=$3
	shift 3
	local urls=() i
	for ((i = 0; i < REQUESTS; i++)); do urls+=("$url"); done
	local t0 t1
	t0=$(date +%s%N)
	curl -sS -X POST -H "Content-Type: $ct" "$@" --data-binary @"$file" "${urls[@]}" >/dev/null
	t1=$(date +%s%N)
	local ms=$(((t1 - t0) / 1000000))
	printf '%-16s %8d bytes/request %8.0f requests/s %10.0f spans/s\n' "$label" \
		"$(stat -c %s "$file")" "$(echo "$REQUESTS * 1000 / $ms" | bc -l)" \
		"$(echo "$REQUESTS * $SPANS * 1000 / $ms" | bc -l)"
}
echo "otlp-sink, $REQUESTS requests of $SPANS spans each, one connection, $(nproc) CPUs"
run protobuf "$tmp/req.bin" application/x-protobuf
run protobuf+gzip "$tmp/req.bin.gz" application/x-protobuf -H 'Content-Encoding: gzip'
run json "$tmp/req.json" application/json
lines=$(wc -l <"$tmp/out/traces.jsonl")
[ "$lines" = $((REQUESTS * 3)) ] || { echo "expected $((REQUESTS * 3)) lines, got $lines" >&2; exit 1; }
echo "written: $(du -h "$tmp/out/traces.jsonl" | cut -f1) of OTLP/JSON in $lines lines"
