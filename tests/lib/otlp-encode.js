#!/usr/bin/env node
// otlp-encode.js - makes OTLP protobuf bytes from an OTLP/JSON description with OpenTelemetry
// JS's generated protobufjs code (the same independent package as otlp-decode/decode.js), so
// tests feed woodctl inputs that woodctl's own code did not make.
//
// usage: otlp-encode.js TYPE [FILE] [--gzip]       OTLP/JSON in (FILE or stdin), bytes out
//        otlp-encode.js --decode TYPE [FILE]       bytes in, protobufjs toObject JSON out
// TYPE is traces, metrics, logs (the Export*ServiceRequest), or a full message name such as
// opentelemetry.proto.common.v1.KeyValue. In the JSON, traceId/spanId/parentSpanId are hex
// and other bytes base64, 64-bit integers strings or numbers, enums names or numbers.
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const path = require('path');
const root = require(path.join(__dirname,
  'otlp-decode/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js'));

const short = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
};
const ids = /^(traceId|spanId|parentSpanId)$/;

function usage() {
  console.error('usage: otlp-encode.js TYPE [FILE] [--gzip] | otlp-encode.js --decode TYPE [FILE]');
  process.exit(2);
}

function lookup(name) {
  const full = short[name] || name;
  let t = root;
  for (const part of full.split('.')) t = t && t[part];
  if (!t || typeof t.fromObject !== 'function') {
    console.error(`otlp-encode.js: unknown message type '${name}'`);
    process.exit(2);
  }
  return t;
}

// OTLP/JSON ids are hex; protobufjs's fromObject reads strings in bytes fields as base64.
function unhex(v, key) {
  if (typeof v === 'string' && ids.test(key)) return Buffer.from(v, 'hex');
  if (Array.isArray(v)) return v.map((e) => unhex(e, ''));
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) o[k] = unhex(v[k], k);
    return o;
  }
  return v;
}

const args = process.argv.slice(2);
const decode = args[0] === '--decode';
if (decode) args.shift();
const gzip = args.includes('--gzip');
const rest = args.filter((a) => a !== '--gzip');
if (rest.length < 1 || rest.length > 2) usage();
const T = lookup(rest[0]);
const input = fs.readFileSync(rest[1] || 0);

if (decode) {
  const msg = T.decode(gzip ? zlib.gunzipSync(input) : input); // throws on malformed input
  const obj = T.toObject(msg, { longs: String, enums: Number, bytes: String, defaults: false });
  const hex = (k, v) => (typeof v === 'string' && ids.test(k)
    ? Buffer.from(v, 'base64').toString('hex') : v);
  process.stdout.write(JSON.stringify(obj, hex) + '\n');
} else {
  const obj = unhex(JSON.parse(input.toString('utf8')), '');
  const err = T.verify(T.fromObject(obj));
  if (err) {
    console.error(`otlp-encode.js: invalid ${rest[0]}: ${err}`);
    process.exit(1);
  }
  const bytes = T.encode(T.fromObject(obj)).finish();
  process.stdout.write(gzip ? zlib.gzipSync(bytes) : bytes);
}
