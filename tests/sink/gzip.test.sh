# gzip-compressed protobuf and JSON bodies give the same lines as plain ones; corrupt gzip
# is a 400, and a body that inflates past SINK_MAX_BODY_BYTES a 413.
. tests/lib/sink.sh
sink_start SINK_MAX_BODY_BYTES=200000
D=tests/sink/data T=$WD_TEST_TMP
encode logs "$D/logs.json" --gzip >"$T/logs.pb.gz"
post /v1/logs "$T/logs.pb.gz" application/x-protobuf -H 'Content-Encoding: gzip'
[ "$CODE" = 200 ] || fail "gzip protobuf: status $CODE: $(cat "$RESP")"
[ ! -s "$RESP" ] || fail "gzip protobuf: response not empty"
gzip -c "$D/traces.json" >"$T/traces.json.gz"
post /v1/traces "$T/traces.json.gz" application/json -H 'Content-Encoding: GZIP'
[ "$CODE" = 200 ] || fail "gzip JSON: status $CODE: $(cat "$RESP")"
[ "$(cat "$RESP")" = '{}' ] || fail "gzip JSON: response $(cat "$RESP"), expected {}"
head -n 1 "$SINK_DIR/logs.jsonl" >"$T/l1"
head -n 1 "$SINK_DIR/traces.jsonl" >"$T/t1"
same_json "$T/l1" "$D/logs.json"
same_json "$T/t1" "$D/traces.json"
log_has '.signal == "logs" and .encoding == "protobuf+gzip" and .items == 2'
log_has '.signal == "traces" and .encoding == "json+gzip" and .items == 3'

# Corrupt and truncated gzip.
head -c 20 "$T/logs.pb.gz" >"$T/trunc.gz"
post /v1/logs "$T/trunc.gz" application/x-protobuf -H 'Content-Encoding: gzip'
[ "$CODE" = 400 ] || fail "truncated gzip: status $CODE"
printf 'not gzip at all' >"$T/junk"
post /v1/logs "$T/junk" application/json -H 'Content-Encoding: gzip'
[ "$CODE" = 400 ] || fail "junk gzip: status $CODE"
jq -e '.code == 3 and (.message | test("gzip"))' "$RESP" >/dev/null ||
	fail "junk gzip: body $(cat "$RESP")"

# A small body that inflates past the cap (a gzip bomb in miniature): 413, nothing written.
head -c 1000000 /dev/zero | gzip -c >"$T/bomb.gz"
[ "$(stat -c %s "$T/bomb.gz")" -lt 200000 ] || fail "the test bomb is not small"
post /v1/logs "$T/bomb.gz" application/x-protobuf -H 'Content-Encoding: gzip'
[ "$CODE" = 413 ] || fail "gzip bomb: status $CODE"
# Unknown encodings are refused.
post /v1/logs "$T/logs.pb.gz" application/x-protobuf -H 'Content-Encoding: br'
[ "$CODE" = 415 ] || fail "br encoding: status $CODE"

[ "$(wc -l <"$SINK_DIR/logs.jsonl")" = 1 ] || fail "refused requests wrote lines"
sink_stop
