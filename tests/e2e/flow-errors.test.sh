# The same flow with ERROR_RATE=0.3 everywhere: no role exits, the exactly-once and stock
# guarantees still hold (flow.test.sh's checks), and every simulated failure is an ERROR
# log record whose trace id is a trace holding an ERROR span with error.type.
export E2E_ERROR_RATE=0.3
. tests/e2e/flow.test.sh
node - "$tel/traces.jsonl" "$tel/logs.jsonl" <<'JS' || fail "simulated failures not traced as expected"
const fs = require('fs');
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map(JSON.parse);
const errTraces = new Set();
for (const r of lines(process.argv[2]))
  for (const rs of r.resourceSpans || []) for (const ss of rs.scopeSpans || [])
    for (const s of ss.spans || [])
      if (s.status && s.status.code === 2 && (s.attributes || []).some((a) => a.key === 'error.type'))
        errTraces.add(s.traceId);
let simulated = 0, missing = [];
for (const r of lines(process.argv[3]))
  for (const rl of r.resourceLogs || []) for (const sl of rl.scopeLogs || [])
    for (const l of sl.logRecords || []) {
      const body = l.body && l.body.stringValue || '';
      if (l.severityText !== 'ERROR' || !/^(Simulated |failed to (send|process) |external API or DB failure)/.test(body)) continue;
      simulated++;
      if (!l.traceId || !errTraces.has(l.traceId)) missing.push(body);
    }
if (simulated < 10) throw new Error(`only ${simulated} simulated failures logged`);
if (missing.length) throw new Error(`${missing.length} of ${simulated} without an ERROR span: ${missing.slice(0, 3)}`);
console.log(`simulated failures: ${simulated}, each in a trace with an ERROR span`);
JS
