# Protobuf requests made by OpenTelemetry JS become one OTLP/JSON line each, equal to the
# description they were made from, and the line replays to the same protobuf request.
. tests/lib/sink.sh
sink_start
D=tests/sink/data
for s in traces:3:order,stock logs:2:ordercheck metrics:5:customer; do
	sig=${s%%:*} rest=${s#*:}
	items=${rest%%:*} services=${rest#*:}
	encode "$sig" "$D/$sig.json" >"$WD_TEST_TMP/$sig.bin"
	post "/v1/$sig" "$WD_TEST_TMP/$sig.bin" application/x-protobuf
	[ "$CODE" = 200 ] || fail "$sig: status $CODE: $(cat "$RESP")"
	# An empty Export*ServiceResponse is zero bytes of protobuf.
	[ ! -s "$RESP" ] || fail "$sig: response is not empty: $(xxd "$RESP" | head -3)"
	lines=$(wc -l <"$SINK_DIR/$sig.jsonl")
	[ "$lines" = 1 ] || fail "$sig: $lines lines in $sig.jsonl, expected 1"
	head -n 1 "$SINK_DIR/$sig.jsonl" >"$WD_TEST_TMP/$sig.line"
	same_json "$WD_TEST_TMP/$sig.line" "$D/$sig.json"
	# Replay: the line, encoded again by the JS side, decodes (independently) the same.
	encode "$sig" "$WD_TEST_TMP/$sig.line" >"$WD_TEST_TMP/$sig.replay"
	node tests/lib/otlp-decode/decode.js "$sig" "$WD_TEST_TMP/$sig.bin" >"$WD_TEST_TMP/a.json"
	node tests/lib/otlp-decode/decode.js "$sig" "$WD_TEST_TMP/$sig.replay" >"$WD_TEST_TMP/b.json"
	same_json "$WD_TEST_TMP/a.json" "$WD_TEST_TMP/b.json"
	# The summary line of the request.
	log_has '.signal == $s and .items == $n and .rejected == 0 and .services == $sv and
		.encoding == "protobuf" and .bytes > 0' --arg s "$sig" --argjson n "$items" \
		--arg sv "$services"
done
# Ids are lowercase hex, 64-bit numbers decimal strings, enums integers.
grep -q '"traceId":"0af7651916cd43dd8448eb211c80319c"' "$SINK_DIR/traces.jsonl" || fail "trace id not hex"
grep -q '"endTimeUnixNano":"18446744073709551615"' "$SINK_DIR/traces.jsonl" || fail "fixed64 not a string"
grep -q '"kind":2' "$SINK_DIR/traces.jsonl" || fail "enum not an integer"
# A kind of metric our messages lack (an exponential histogram) is left out, with a warning.
cat >"$WD_TEST_TMP/exp.json" <<'JSON'
{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"latency","exponentialHistogram":
 {"dataPoints":[{"count":"2","scale":1}],"aggregationTemporality":2}},
 {"name":"g","gauge":{"dataPoints":[{"asInt":"1"}]}}]}]}]}
JSON
encode metrics "$WD_TEST_TMP/exp.json" >"$WD_TEST_TMP/exp.bin"
post /v1/metrics "$WD_TEST_TMP/exp.bin" application/x-protobuf
[ "$CODE" = 200 ] || fail "exponential histogram: status $CODE"
log_has '.level == "WARNING" and .signal == "metrics" and .items == 1 and .unknown_fields == 1'
tail -n 1 "$SINK_DIR/metrics.jsonl" | jq -e '.resourceMetrics[0].scopeMetrics[0].metrics ==
	[{"name":"latency"},{"name":"g","gauge":{"dataPoints":[{"asInt":"1"}]}}]' >/dev/null ||
	fail "unexpected line: $(tail -n 1 "$SINK_DIR/metrics.jsonl")"
sink_stop
