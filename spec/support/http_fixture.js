// A loopback HTTP server for the core's specs: prints "PORT <port> <pid>"
// once listening (the spec's readiness probe), then serves behaviours chosen
// by path. Not the sandbox: it knows nothing about ION or S3 signatures.
'use strict';
const http = require('http');
const crypto = require('crypto');
const { URL } = require('url');

let requests = 0;

function readBody(req, cb) {
  const h = crypto.createHash('md5');
  let n = 0;
  req.on('data', (c) => { h.update(c); n += c.length; });
  req.on('end', () => cb(h.digest('hex'), n));
}

function pairs(raw) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i].toLowerCase(), raw[i + 1]]);
  return out;
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const q = (k, d) => (u.searchParams.has(k) ? Number(u.searchParams.get(k)) : d);
  if (u.pathname !== '/count') requests++;
  const p = u.pathname;

  if (p === '/count') {
    res.end(JSON.stringify({ requests }));
  } else if (p === '/echo' || p.startsWith('/etag/')) {
    readBody(req, (md5, len) => {
      const body = JSON.stringify({
        method: req.method, url: req.url, headers: pairs(req.rawHeaders),
        md5, length: len, port: req.socket.remotePort,
      });
      const kind = p.slice(6);
      if (p === '/echo' || kind === 'quoted') res.setHeader('ETag', `"${md5}"`);
      else if (kind === 'unquoted') res.setHeader('etag', md5);
      else if (kind === 'weak') res.setHeader('ETag', `W/"${md5}"`);
      // 'missing': none
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Multi', 'a');
      res.appendHeader ? res.appendHeader('X-Multi', 'b') : null;
      res.end(body);
    });
  } else if (p === '/stall') {
    // Read `after` bytes of the body, then stop reading and never answer.
    const after = q('after', 0);
    let n = 0;
    if (after === 0) req.pause();
    req.on('data', (c) => { n += c.length; if (n >= after) req.pause(); });
  } else if (p === '/stall-body') {
    // Answer headers and part of a body, then go silent.
    res.writeHead(200, { 'Content-Length': '1000' });
    res.write('x'.repeat(10));
  } else if (p === '/hang') {
    readBody(req, () => {});
  } else if (p === '/drop-reused') {
    // The second request on a kept-alive connection: its body is read, then
    // the connection closes without an answer, which libcurl takes for a
    // connection that died while idle and retries on a fresh one (rewinding
    // the upload). Any other request is echoed.
    req.socket.ionCount = (req.socket.ionCount || 0) + 1;
    if (req.socket.ionCount === 2) {
      readBody(req, () => req.socket.end());
    } else {
      readBody(req, (md5, len) => {
        res.setHeader('ETag', `"${md5}"`);
        res.end(JSON.stringify({ md5, length: len, port: req.socket.remotePort }));
      });
    }
  } else if (p === '/drop') {
    const after = q('after', 0);
    let n = 0;
    req.on('data', (c) => { n += c.length; if (n >= after) req.socket.destroy(); });
  } else if (p === '/s3-403') {
    readBody(req, () => {
      res.writeHead(403, { 'Content-Type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>' +
        '<Message>The request signature we calculated does not match the signature you provided.</Message></Error>');
    });
  } else if (p === '/chunked') {
    // n bytes with no Content-Length (chunked): only the caller knows the size.
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    res.end(Buffer.alloc(q('n', 0), 98));
  } else if (p === '/big') {
    const n = q('n', 0);
    res.writeHead(200, { 'Content-Length': String(n) });
    const chunk = Buffer.alloc(65536, 97);
    let left = n;
    const pump = () => {
      while (left > 0) {
        const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= c.length;
        if (!res.write(c)) return res.once('drain', pump);
      }
      res.end();
    };
    pump();
  } else if (p.startsWith('/status/')) {
    readBody(req, () => {
      res.writeHead(Number(p.slice(8)), { 'Content-Type': 'text/plain' });
      res.end('status body');
    });
  } else {
    res.writeHead(404);
    res.end('no such fixture');
  }
});

server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port} ${process.pid}\n`);
});
process.on('SIGTERM', () => process.exit(0));
