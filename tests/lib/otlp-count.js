#!/usr/bin/env node
// otlp-count.js - decodes every captured body of a receiver folder with the independent
// decoder (as decode.js does) and prints {"requests":N,"spans":N,"logRecords":N,
// "byName":{...},"traceIds":N,"orphans":N} where orphans are spans whose parent is set
// but not among the captured spans.
// usage: otlp-count.js DIR
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const root = require('./otlp-decode/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js');
const v1 = root.opentelemetry.proto.collector;
const dir = process.argv[2];
const out = { requests: 0, spans: 0, logRecords: 0, byName: {}, traceIds: 0, orphans: 0 };
const spanIds = new Set();
const parents = [];
const traces = new Set();
for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json'))) {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, f)));
  let body = fs.readFileSync(path.join(dir, f.replace(/\.json$/, '.body')));
  if (meta.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
  out.requests += 1;
  if (meta.url.endsWith('/v1/traces')) {
    const m = v1.trace.v1.ExportTraceServiceRequest.decode(body);
    for (const rs of m.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) {
      out.spans += 1;
      out.byName[s.name] = (out.byName[s.name] || 0) + 1;
      spanIds.add(Buffer.from(s.spanId).toString('hex'));
      traces.add(Buffer.from(s.traceId).toString('hex'));
      if (s.parentSpanId && s.parentSpanId.length) parents.push(Buffer.from(s.parentSpanId).toString('hex'));
    }
  } else if (meta.url.endsWith('/v1/logs')) {
    const m = v1.logs.v1.ExportLogsServiceRequest.decode(body);
    for (const rl of m.resourceLogs) for (const sl of rl.scopeLogs) out.logRecords += sl.logRecords.length;
  }
}
out.traceIds = traces.size;
out.orphans = parents.filter((p) => !spanIds.has(p)).length;
console.log(JSON.stringify(out));
