# Bad requests get the collector's answers (400 with a google.rpc.Status, 415, 413, 404,
# 405), write nothing, and the sink keeps serving.
. tests/lib/sink.sh
sink_start SINK_MAX_BODY_BYTES=200000
T=$WD_TEST_TMP
command -v protoc >/dev/null || { echo "protoc is not installed (deploy/deps.sh)"; exit 77; }

# Undecodable protobuf: 400 with a protobuf google.rpc.Status {code: 3, message}.
printf '\x0a\x05ab' >"$T/bad.bin"
post /v1/traces "$T/bad.bin" application/x-protobuf
[ "$CODE" = 400 ] || fail "bad protobuf: status $CODE"
OUT=$(protoc --decode_raw <"$RESP") || fail "400 body is not protobuf: $(xxd "$RESP")"
expect_out '^1: 3$'
expect_out '^2: "malformed protobuf: length runs past the end"$'
# A valid message of the wrong shape (a string where a message belongs).
printf '\x0a\x02\x08\x01' >"$T/shape.bin"
post /v1/logs "$T/shape.bin" application/x-protobuf
[ "$CODE" = 400 ] || fail "wrongly shaped protobuf: status $CODE"

# Undecodable JSON: 400 with {"code":3,"message":...} naming the place.
printf '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}' >"$T/bad.json"
post /v1/logs "$T/bad.json" application/json
[ "$CODE" = 400 ] || fail "bad JSON: status $CODE"
jq -e '.code == 3 and .message ==
	"resourceLogs[0].scopeLogs[0].logRecords[0].traceId: expected an even number of hex digits, got 3"' \
	"$RESP" >/dev/null || fail "bad JSON: body $(cat "$RESP")"
printf '{"resourceLogs": [' >"$T/trunc.json"
post /v1/logs "$T/trunc.json" application/json
[ "$CODE" = 400 ] || fail "truncated JSON: status $CODE"
printf '[]' >"$T/array.json"
post /v1/logs "$T/array.json" application/json
[ "$CODE" = 400 ] || fail "JSON array: status $CODE"

# Other content types: 415 (also without one).
post /v1/logs "$T/bad.json" text/plain
[ "$CODE" = 415 ] || fail "text/plain: status $CODE"
post /v1/logs "$T/bad.json" ''
[ "$CODE" = 415 ] || fail "no content type: status $CODE"
# Over the cap: 413.
head -c 300000 /dev/zero >"$T/big.bin"
post /v1/traces "$T/big.bin" application/x-protobuf
[ "$CODE" = 413 ] || fail "big body: status $CODE"
# Other paths and methods.
post /v1/profiles "$T/bad.json" application/json
[ "$CODE" = 404 ] || fail "/v1/profiles: status $CODE"
CODE=$(curl -sS -o "$RESP" -w '%{http_code}' "$SINK_URL/v1/traces")
[ "$CODE" = 405 ] || fail "GET /v1/traces: status $CODE"
# An empty request is accepted and writes no line.
printf '{}' >"$T/empty.json"
post /v1/traces "$T/empty.json" application/json
[ "$CODE" = 200 ] && [ "$(cat "$RESP")" = '{}' ] || fail "empty request: $CODE $(cat "$RESP")"
: >"$T/empty.bin"
post /v1/logs "$T/empty.bin" application/x-protobuf
[ "$CODE" = 200 ] || fail "empty protobuf request: status $CODE"

# Nothing was written, and the sink still serves.
for s in traces metrics logs; do
	[ ! -s "$SINK_DIR/$s.jsonl" ] || fail "a refused request wrote to $s.jsonl"
done
encode logs tests/sink/data/logs.json >"$T/logs.bin"
post /v1/logs "$T/logs.bin" application/x-protobuf
[ "$CODE" = 200 ] || fail "good request after bad ones: status $CODE"
[ "$(wc -l <"$SINK_DIR/logs.jsonl")" = 1 ] || fail "logs.jsonl does not have 1 line"
for p in health ready; do
	CODE=$(curl -sS -o "$RESP" -w '%{http_code}' "$SINK_URL/$p")
	[ "$CODE" = 200 ] || fail "/$p: status $CODE"
done
# /metrics is the HTTP core's (503 until the metrics core is in the build); it is routed.
CODE=$(curl -sS -o "$RESP" -w '%{http_code}' "$SINK_URL/metrics")
[ "$CODE" != 404 ] || fail "/metrics: 404"
log_has '.level == "WARNING" and .signal == "traces" and (.error | test("malformed protobuf"))'
sink_stop
