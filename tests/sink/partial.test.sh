# Items a collector would refuse are left out of the file and reported as partial success:
# spans with an all-zero trace id or a short span id, and every Nth item with
# SINK_REJECT_EVERY (a test aid for exporters).
. tests/lib/sink.sh
sink_start
T=$WD_TEST_TMP
cat >"$T/spans.json" <<'JSON'
{"resourceSpans":[{"scopeSpans":[{"spans":[
 {"traceId":"00000000000000000000000000000000","spanId":"b7ad6b7169203331","name":"zero trace"},
 {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"good"},
 {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b71","name":"short span id"}]}]}]}
JSON
encode traces "$T/spans.json" >"$T/spans.bin"
post /v1/traces "$T/spans.bin" application/x-protobuf
[ "$CODE" = 200 ] || fail "status $CODE"
# The protobuf ExportTraceServiceResponse, read by protoc: partial_success {1: 2, 2: "..."}.
if command -v protoc >/dev/null; then
	OUT=$(protoc --decode_raw <"$RESP")
	expect_out '^  1: 2$'
	expect_out '^  2: "2 spans refused; the first: span with an invalid trace id'
fi
jq -e '[.resourceSpans[].scopeSpans[].spans[].name] == ["good"]' "$SINK_DIR/traces.jsonl" \
	>/dev/null || fail "refused spans were written: $(cat "$SINK_DIR/traces.jsonl")"
post /v1/traces "$T/spans.json" application/json
[ "$CODE" = 200 ] || fail "JSON: status $CODE"
jq -e '.partialSuccess.rejectedSpans == "2" and
	(.partialSuccess.errorMessage | startswith("2 spans refused"))' "$RESP" >/dev/null ||
	fail "JSON partial success: $(cat "$RESP")"
log_has '.signal == "traces" and .items == 1 and .rejected == 2'
sink_stop

# SINK_REJECT_EVERY=2: of 4 log records (ids optional for logs) every second is refused.
rm -rf "$SINK_DIR"
sink_start SINK_REJECT_EVERY=2
cat >"$T/logs.json" <<'JSON'
{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityText":"a"},{"severityText":"b"},
 {"severityText":"c"},{"severityText":"d"}]}]}]}
JSON
post /v1/logs "$T/logs.json" application/json
[ "$CODE" = 200 ] || fail "status $CODE"
jq -e '.partialSuccess.rejectedLogRecords == "2"' "$RESP" >/dev/null ||
	fail "reject-every: $(cat "$RESP")"
jq -e '[.resourceLogs[].scopeLogs[].logRecords[].severityText] == ["a","c"]' \
	"$SINK_DIR/logs.jsonl" >/dev/null || fail "wrong records kept: $(cat "$SINK_DIR/logs.jsonl")"
sink_stop
