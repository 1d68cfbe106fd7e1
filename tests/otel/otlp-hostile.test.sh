# otlp-hostile.test.sh - malformed traceparent/baggage never crash and are ignored;
# invalid UTF-8, NUL, huge values and NULL arguments still give a body any backend parses.
source tests/lib/otel.sh
need_node
start_receiver 200
export OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT=1000
"$EMIT" hostile >"$WD_TEST_TMP/out" 2>"$WD_TEST_TMP/err" || fail "emit failed: $(cat "$WD_TEST_TMP/err")"
wait_requests 1 || fail "nothing sent"
decode traces 1 >"$WD_TEST_TMP/t.json" || fail "the body does not decode"
node - "$WD_TEST_TMP/t.json" "$RX/1.body" <<'JS'
const fs = require('fs');
const assert = require('assert/strict');
const d = JSON.parse(fs.readFileSync(process.argv[2]));
const s = d.resourceSpans[0].scopeSpans[0].spans[0];
assert.equal(s.name, 'hostile \ufffd');
const a = Object.fromEntries(s.attributes.map((x) => [x.key, x.value]));
assert.equal(a.w0.stringValue, '\ufffd\ufffd invalid utf8 \ufffd');
assert.equal(a.w1.stringValue, 'nul');
assert.equal(a.w2.stringValue.length, 1000); // OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT
assert.equal(a.w3.stringValue, '\ufffd\ufffd\ufffd');
assert.deepEqual(a.null_items, { arrayValue: {} });
assert.deepEqual(a.null_value, { stringValue: '' });
// Every string on the wire is valid UTF-8 (strict decode of the raw body's text parts).
new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(JSON.stringify(d)));
JS
[ $? = 0 ] || fail "hostile values not as expected"
echo "hostile input handled"
