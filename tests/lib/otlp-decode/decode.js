#!/usr/bin/env node
// decode.js - decodes an OTLP/protobuf request body with OpenTelemetry JS's generated
// decoders (independent of woodctl's encoder) and prints it as JSON.
// usage: decode.js traces|metrics|logs FILE [--gzip]
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const v1 = root.opentelemetry.proto.collector;
const types = {
  traces: v1.trace.v1.ExportTraceServiceRequest,
  metrics: v1.metrics.v1.ExportMetricsServiceRequest,
  logs: v1.logs.v1.ExportLogsServiceRequest,
};
const [kind, file, flag] = process.argv.slice(2);
const T = types[kind];
if (!T || !file) {
  console.error('usage: decode.js traces|metrics|logs FILE [--gzip]');
  process.exit(2);
}
let bytes = fs.readFileSync(file);
if (flag === '--gzip') bytes = zlib.gunzipSync(bytes);
const msg = T.decode(bytes); // throws on malformed input
const obj = T.toObject(msg, { longs: String, enums: String, bytes: Array, defaults: false, oneofs: false });
const ids = /^(traceId|spanId|parentSpanId)$/;
const hex = (k, v) => (Array.isArray(v) && ids.test(k) ? Buffer.from(v).toString('hex') : v);
console.log(JSON.stringify(obj, hex, 2));
