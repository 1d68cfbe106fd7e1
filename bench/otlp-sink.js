#!/usr/bin/env node
// otlp-sink.js - an OTLP/HTTP endpoint for benchmarks: reads each request whole, answers
// 200 with an empty protobuf body, and keeps only counts, so that receiving costs as
// little CPU as possible on a machine the measured server shares. On SIGTERM it writes
// {"requests":{"/v1/traces":N,...},"bytes":N} to --stats FILE.
// usage: otlp-sink.js --port-file FILE --stats FILE
'use strict';
const fs = require('fs');
const http = require('http');
const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
const stats = { requests: {}, bytes: 0 };
const server = http.createServer((req, res) => {
  req.on('data', (c) => { stats.bytes += c.length; });
  req.on('end', () => {
    stats.requests[req.url] = (stats.requests[req.url] || 0) + 1;
    res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 });
    res.end();
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(`${args['port-file']}.tmp`, String(server.address().port));
  fs.renameSync(`${args['port-file']}.tmp`, args['port-file']);
});
process.on('SIGTERM', () => {
  fs.writeFileSync(args.stats, JSON.stringify(stats));
  process.exit(0);
});
