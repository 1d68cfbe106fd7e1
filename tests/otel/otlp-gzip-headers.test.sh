# otlp-gzip-headers.test.sh - gzip bodies with Content-Encoding, headers from
# OTEL_EXPORTER_OTLP_HEADERS (percent-decoded) plus the per-signal ones, and a per-signal
# endpoint used exactly as given.
source tests/lib/otel.sh
need_node
start_receiver 200
export OTEL_METRICS_EXPORTER=none OTEL_EXPORTER_OTLP_COMPRESSION=gzip \
	OTEL_EXPORTER_OTLP_HEADERS='authorization=Bearer%20t0k,x-tenant=wood' \
	OTEL_EXPORTER_OTLP_LOGS_HEADERS='x-signal=logs' \
	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://127.0.0.1:$RX_PORT/custom/traces/path"
"$EMIT" showcase >/dev/null 2>"$WD_TEST_TMP/err" || fail "emit failed: $(cat "$WD_TEST_TMP/err")"
wait_requests 2 || fail "expected 2 requests"
node - "$RX" <<'JS'
const fs = require('fs');
const zlib = require('zlib');
const assert = require('assert/strict');
const rx = process.argv[2];
const m = [1, 2].map((n) => JSON.parse(fs.readFileSync(`${rx}/${n}.json`)));
const byUrl = Object.fromEntries(m.map((x) => [x.url, x]));
assert.deepEqual(Object.keys(byUrl).sort(), ['/custom/traces/path', '/v1/logs']);
for (const x of m) {
  assert.equal(x.headers['content-encoding'], 'gzip');
  assert.equal(x.headers.authorization, 'Bearer t0k');
  assert.equal(x.headers['x-tenant'], 'wood');
  const raw = fs.readFileSync(`${rx}/${x.n}.body`);
  assert.equal(raw[0], 0x1f); assert.equal(raw[1], 0x8b); // gzip magic
  assert.ok(zlib.gunzipSync(raw).length > raw.length / 2);
}
assert.equal(byUrl['/v1/logs'].headers['x-signal'], 'logs');
assert.equal(byUrl['/custom/traces/path'].headers['x-signal'], undefined);
JS
n=$(node -p "require('$RX/1.json').url === '/v1/logs' ? 2 : 1")
decode traces "$n" >"$WD_TEST_TMP/t.json" || fail "gzip traces body does not decode"
grep -q '"name": "SELECT orders"' "$WD_TEST_TMP/t.json" || fail "decoded gzip body lacks the client span"
echo "gzip + headers ok"
