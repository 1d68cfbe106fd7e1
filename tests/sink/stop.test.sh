# SIGTERM while clients are sending: the sink exits 0 promptly, every request it answered
# 200 has its whole line in the file, and no line is torn. A request caught by the stop
# may be written without its answer reaching the client (at most one per client): a
# client retries it, so a line may repeat, but an acknowledged one is never lost.
. tests/lib/sink.sh
sink_start
T=$WD_TEST_TMP
encode traces tests/sink/data/traces.json >"$T/t.bin"
encode logs tests/sink/data/logs.json --gzip >"$T/l.bin.gz"
post /v1/traces "$T/t.bin" application/x-protobuf
[ "$CODE" = 200 ] || fail "first request: status $CODE"
client() {
	local i ok=0 rc
	# Until the sink goes away (bounded: 3000 requests per client).
	for i in $(seq 3000); do
		rc=0
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$2" \
			-H "Content-Type: application/x-protobuf" $3 "$SINK_URL/v1/$1") || rc=$?
		[ "$code" = 200 ] && ok=$((ok + 1))
		[ "$rc" = 0 ] || break
	done
	echo "$ok" >"$T/ok.$1.$4"
}
for k in 1 2; do
	client traces "$T/t.bin" "" $k &
	client logs "$T/l.bin.gz" "-H Content-Encoding:gzip" $k &
done
sleep 1
sink_stop
wait
oks_t=$(($(cat "$T"/ok.traces.* | paste -sd+) + 1))
oks_l=$(($(cat "$T"/ok.logs.* | paste -sd+)))
[ "$oks_t" -gt 1 ] && [ "$oks_l" -gt 0 ] || fail "no request succeeded before the stop"
# Every answered request is in the file, and every line is a whole request.
lines_t=$(wc -l <"$SINK_DIR/traces.jsonl") lines_l=$(wc -l <"$SINK_DIR/logs.jsonl")
((lines_t >= oks_t && lines_t <= oks_t + 2)) ||
	fail "$oks_t traces requests answered 200, $lines_t lines"
((lines_l >= oks_l && lines_l <= oks_l + 2)) ||
	fail "$oks_l logs requests answered 200, $lines_l lines"
jq -e -s 'all(.[]; (.resourceSpans | length) == 2)' "$SINK_DIR/traces.jsonl" >/dev/null ||
	fail "a traces line is torn"
jq -e -s 'all(.[]; (.resourceLogs[0].scopeLogs[0].logRecords | length) == 2)' \
	"$SINK_DIR/logs.jsonl" >/dev/null || fail "a logs line is torn"
# The port is closed.
if curl -s -o /dev/null "$SINK_URL/health"; then fail "still answering after the stop"; fi
