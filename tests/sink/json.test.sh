# OTLP/JSON requests, in the lenient forms senders use (snake_case keys, enum names, 64-bit
# numbers as JSON numbers, uppercase hex ids), are written in the canonical form and
# answered with {}.
. tests/lib/sink.sh
sink_start
T=$WD_TEST_TMP
cat >"$T/in.json" <<'JSON'
{"resource_spans":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"supplier"}}]},
 "scope_spans":[{"scope":{"name":"s"},"spans":[{"trace_id":"0AF7651916CD43DD8448EB211C80319C",
  "spanId":"B7AD6B7169203331","name":"send stocks","kind":"SPAN_KIND_PRODUCER",
  "startTimeUnixNano":1700000000000000000,"end_time_unix_nano":"1700000000000000999",
  "attributes":[{"key":"n","value":{"intValue":5}},{"key":"b","value":{"bytesValue":"_-8"}}],
  "status":{"code":"STATUS_CODE_ERROR"},"unknownNewField":{"x":1}}]}]}]}
JSON
cat >"$T/want.json" <<'JSON'
{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"supplier"}}]},
 "scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",
  "spanId":"b7ad6b7169203331","name":"send stocks","kind":4,
  "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000000000999",
  "attributes":[{"key":"n","value":{"intValue":"5"}},{"key":"b","value":{"bytesValue":"/+8="}}],
  "status":{"code":2}}]}]}]}
JSON
post /v1/traces "$T/in.json" 'application/json; charset=utf-8'
[ "$CODE" = 200 ] || fail "status $CODE: $(cat "$RESP")"
[ "$(cat "$RESP")" = '{}' ] || fail "response $(cat "$RESP"), expected {}"
head -n 1 "$SINK_DIR/traces.jsonl" >"$T/line"
same_json "$T/line" "$T/want.json"
# The canonical line is itself a valid request: posting it again writes the same line.
post /v1/traces "$T/line" application/json
[ "$CODE" = 200 ] || fail "re-post: status $CODE: $(cat "$RESP")"
[ "$(sed -n 1p "$SINK_DIR/traces.jsonl")" = "$(sed -n 2p "$SINK_DIR/traces.jsonl")" ] ||
	fail "re-posting the line changed it"
# And the JS encoder accepts it: it is a replayable ExportTraceServiceRequest.
encode traces "$T/line" >"$T/replay.bin"
node tests/lib/otlp-decode/decode.js traces "$T/replay.bin" | jq -e \
	'.resourceSpans[0].scopeSpans[0].spans[0] | .kind == "SPAN_KIND_PRODUCER" and
	 .traceId == "0af7651916cd43dd8448eb211c80319c" and .status.code == "STATUS_CODE_ERROR"' \
	>/dev/null || fail "the line does not replay"
log_has '.signal == "traces" and .encoding == "json" and .items == 1 and .services == "supplier"'
sink_stop
