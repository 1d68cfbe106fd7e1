#!/usr/bin/env node
// otlp-receiver.js - a capture receiver for OTLP/HTTP on loopback, independent of woodctl's
// code. It listens on a free port, stores every request (body as received, plus method,
// path, headers and arrival time) and answers with a scripted list of statuses.
//
// usage: otlp-receiver.js --dir DIR --port-file FILE [--script LIST]
//   LIST is a comma list used one entry per request, the last one repeating:
//     200                     success (empty ExportServiceResponse)
//     503, 400, 502, ...      that status with a short text body
//     429:Retry-After=1       a status with a Retry-After header (seconds or an HTTP date,
//                             e.g. 503:Retry-After=date+2 for two seconds from now)
//     partial                 200 with partial_success {rejected 3, "3 items rejected"}
//     hang                    never answer (the connection stays open)
//     huge                    200 with a 5 MiB body (over the client's 4 MiB parse cap)
//   Each request N (from 1) gives DIR/N.body and DIR/N.json.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
if (!args.dir || !args['port-file']) {
  console.error('usage: otlp-receiver.js --dir DIR --port-file FILE [--script LIST]');
  process.exit(2);
}
const script = (args.script || '200').split(',');
fs.mkdirSync(args.dir, { recursive: true });
let n = 0;

// ExportTracePartialSuccess / ExportLogsPartialSuccess / ExportMetricsPartialSuccess share
// the wire shape: field 1 (message) { field 1 int64 rejected, field 2 string message }.
function partialBody(rejected, message) {
  const msg = Buffer.from(message, 'utf8');
  const inner = Buffer.concat([Buffer.from([0x08, rejected, 0x12, msg.length]), msg]);
  return Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const entry = script[Math.min(n, script.length - 1)];
    n += 1;
    const id = n;
    fs.writeFileSync(path.join(args.dir, `${id}.body`), body);
    const [code, extra] = entry.split(':');
    const meta = {
      n: id, method: req.method, url: req.url, headers: req.headers, bytes: body.length,
      time_ms: Date.now(), answer: entry,
    };
    fs.writeFileSync(path.join(args.dir, `${id}.json.tmp`), JSON.stringify(meta));
    fs.renameSync(path.join(args.dir, `${id}.json.tmp`), path.join(args.dir, `${id}.json`));
    const headers = { 'Content-Type': 'application/x-protobuf' };
    if (extra && extra.startsWith('Retry-After=')) {
      let v = extra.slice('Retry-After='.length);
      if (v.startsWith('date+')) v = new Date(Date.now() + 1000 * Number(v.slice(5)) + 999).toUTCString();
      headers['Retry-After'] = v;
    }
    if (code === 'hang') {
      return;
    } else if (code === 'huge') {
      res.writeHead(200, headers);
      res.end(Buffer.alloc(5 << 20, 0x0a));
    } else if (code === 'partial') {
      res.writeHead(200, headers);
      res.end(partialBody(3, '3 items rejected'));
    } else if (code === '200') {
      res.writeHead(200, headers);
      res.end();
    } else {
      headers['Content-Type'] = 'text/plain';
      res.writeHead(Number(code), headers);
      res.end(`scripted ${code}\n`);
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  const tmp = `${args['port-file']}.tmp`;
  fs.writeFileSync(tmp, String(server.address().port));
  fs.renameSync(tmp, args['port-file']);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
