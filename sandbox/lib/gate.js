'use strict';
// The storage gate: a small HTTP proxy in front of s3rver that enforces what
// real S3 enforces and s3rver does not, injects storage faults on PUTs, and
// counts what clients send. It forwards the Host header unchanged, because
// the URL was signed for the gate's host and s3rver recomputes the signature
// from the headers it receives.

const http = require('http');
const https = require('https');
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { pipeline } = require('stream');
const { s3Error } = require('./s3-errors');
const { sleep } = require('./http-util');
const hostileModes = require('./hostile-storage').modes;

// Hop-by-hop headers are not forwarded. Expect is answered here (Node sends
// 100 Continue itself); s3rver would otherwise see it twice.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'expect', 'te', 'trailer']);

// x-amz-* request headers a presigned URL did not sign: S3 refuses them,
// s3rver ignores them.
function unsignedAmzHeaders(req, q) {
  const signed = new Set((q.get('X-Amz-SignedHeaders') || '').toLowerCase().split(';'));
  return Object.keys(req.headers).filter((h) => h.startsWith('x-amz-') && !signed.has(h));
}

// Marks the Location of a hostile 307 (see hostile-storage.js).
const REDIRECT_MARK = /[?&]sandbox-redirect=(\d+)$/;

class Gate {
  // tls: { key, cert } to serve https, plus a plain-http listener (listenPlain).
  constructor({ backendPort, faults, counters, log, tmpDir, hostile, tls }) {
    this.backendPort = backendPort;
    this.faults = faults;
    this.counters = counters;
    this.hostile = hostile || { peek: () => null };
    this.log = log || (() => {});
    this.tmpDir = tmpDir || os.tmpdir();
    this.agent = new http.Agent({ keepAlive: true });
    this.scheme = tls ? 'https' : 'http';
    this.redirects = new Set();
    this.servers = [];
    this.server = this.createServer(tls, false);
    // Only for upload_url_http_downgrade: the same gate over plain http.
    this.plain = tls ? this.createServer(null, true) : null;
  }

  createServer(tls, plain) {
    const handler = (req, res) => this.handle(req, res, plain);
    const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    // S3 puts no cap on how long a PUT may take; Node's default is 300 s.
    server.requestTimeout = 0;
    server.on('connection', () => { this.counters.data.storage.connections++; });
    this.servers.push(server);
    return server;
  }

  static listenOn(server, port) {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server.address().port));
    });
  }

  async listen(port = 0) {
    const p = await Gate.listenOn(this.server, port);
    this.host = `127.0.0.1:${p}`;
    this.origin = `${this.scheme}://${this.host}`;
    return p;
  }

  async listenPlain(port = 0) {
    const p = await Gate.listenOn(this.plain, port);
    this.plainOrigin = `http://127.0.0.1:${p}`;
    return p;
  }

  close() {
    this.agent.destroy();
    return Promise.all(this.servers.map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    }));
  }

  addRedirect() {
    const id = String(this.redirects.size + 1);
    this.redirects.add(id);
    return id;
  }

  // A request to the Location of a hostile 307 is counted, then handled as
  // the request it redirects (the marker removed, so the signature holds).
  noticeRedirect(req) {
    const m = REDIRECT_MARK.exec(req.url);
    if (!m || !this.redirects.has(m[1])) return;
    this.counters.data.storage.redirects_followed++;
    req.url = req.url.slice(0, m.index);
  }

  // A refusal after the body was read: answering while the client is still
  // sending risks a reset that hides the answer from it.
  refuse(req, res, name, extra, headers = {}) {
    const { status, body } = s3Error(name, extra);
    const send = () => {
      if (res.headersSent) return;
      res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(body);
      this.done(req, status);
    };
    if (req.complete) send();
    else {
      req.on('end', send);
      req.on('error', () => {});
      req.resume();
    }
  }

  done(req, status) {
    this.counters.status('storage', status);
    this.log(`storage ${req.method} ${req.url.split('?')[0]} -> ${status}`);
  }

  async handle(req, res, plain) {
    const c = this.counters.data.storage;
    c.requests++;
    // URLs are signed for the https host: the plain listener stands in for
    // it, so a client that follows a downgraded URL gets through.
    if (plain) req.headers.host = this.host;
    this.noticeRedirect(req);
    if (req.method === 'GET') c.gets++;
    if (req.method === 'HEAD') c.heads++;
    const url = new URL(req.url, 'http://gate');
    const q = url.searchParams;
    const hasAuthHeader = 'authorization' in req.headers;
    if (hasAuthHeader) c.authorization_headers++;
    const presigned = q.has('X-Amz-Algorithm') || q.has('X-Amz-Signature') || q.has('Signature');
    const isPut = req.method === 'PUT';
    const chunked = /chunked/i.test(req.headers['transfer-encoding'] || '');
    if (isPut) c.puts++;
    if (isPut && chunked) c.chunked_puts++;

    if (hasAuthHeader && presigned) return this.refuse(req, res, 'OnlyOneAuth');
    if (!hasAuthHeader && !presigned) return this.refuse(req, res, 'AccessDenied');
    if (presigned && unsignedAmzHeaders(req, q).length) return this.refuse(req, res, 'HeadersNotSigned');
    if (isPut && (chunked || req.headers['content-length'] === undefined)) {
      return this.refuse(req, res, 'MissingContentLength');
    }
    if (!isPut) return this.forward(req, res, req, false);

    // Faults apply to PUTs only: latency first, then one draw per kind.
    const latency = this.faults.get('storage_latency_ms');
    if (latency > 0) await sleep(latency);
    const f = this.faults.storageFaults();
    // A hostile answer armed for storage wins over the faults just drawn
    // (drawn all the same, so their sequence does not shift).
    const mode = this.hostile.peek('storage');
    if (mode) {
      this.hostile.used();
      this.counters.hostile('storage', mode);
      return hostileModes[mode](this, req, res, plain ? this.plainOrigin : this.origin);
    }
    if (f.expire) {
      c.faults.expire++;
      return this.refuse(req, res, 'Expired', { 'X-Amz-Expires': q.get('X-Amz-Expires') || '' });
    }
    if (f.slowDown) {
      c.faults['503']++;
      return this.refuse(req, res, 'SlowDown');
    }
    if (f.drop) {
      c.faults.drop++;
      return this.drop(req);
    }
    if (f.stripEtag) c.faults.strip_etag++;

    if (req.headers['content-md5'] !== undefined) return this.checkedPut(req, res, f.stripEtag);
    return this.forward(req, res, req, f.stripEtag);
  }

  // The connection dies after part of the body arrived; nothing is stored.
  drop(req) {
    const length = Number(req.headers['content-length']) || 0;
    const cut = Math.floor(length / 2);
    let seen = 0;
    const kill = () => { this.done(req, 'dropped'); req.socket.destroy(); };
    if (cut === 0) return kill();
    req.on('data', (chunk) => {
      seen += chunk.length;
      if (seen >= cut) { req.pause(); kill(); }
    });
    req.on('error', () => {});
  }

  // Content-MD5 given: spool the body, compare, and forward only a match, so
  // a bad digest stores nothing (as S3 does).
  checkedPut(req, res, stripEtag) {
    const given = String(req.headers['content-md5']);
    if (!/^[A-Za-z0-9+/]{22}==$/.test(given)) return this.refuse(req, res, 'InvalidDigest');
    const file = path.join(this.tmpDir, `put-${crypto.randomBytes(8).toString('hex')}`);
    const hash = crypto.createHash('md5');
    req.on('data', (chunk) => hash.update(chunk));
    pipeline(req, fs.createWriteStream(file), (err) => {
      const cleanup = () => fs.rm(file, { force: true }, () => {});
      if (err) { cleanup(); return; }
      if (hash.digest('base64') !== given) {
        cleanup();
        return this.refuse(req, res, 'BadDigest');
      }
      const body = fs.createReadStream(file);
      body.on('close', cleanup);
      this.forward(req, res, body, stripEtag);
    });
  }

  // etagFor, when given, replaces the ETag a success carries (hostile etag_huge).
  forward(req, res, body, stripEtag, etagFor) {
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
    const upstream = http.request({
      host: '127.0.0.1',
      port: this.backendPort,
      method: req.method,
      path: req.url,
      headers,
      agent: this.agent,
    }, (up) => {
      const out = {};
      for (const [k, v] of Object.entries(up.headers)) if (!HOP.has(k)) out[k] = v;
      if (out.etag !== undefined) {
        // Real S3 sends `ETag`, always quoted, whatever s3rver does.
        const etag = `"${String(out.etag).replace(/"/g, '')}"`;
        delete out.etag;
        if (!(stripEtag && up.statusCode === 200)) out.ETag = etagFor && up.statusCode === 200 ? etagFor(etag) : etag;
      }
      res.writeHead(up.statusCode, out);
      pipeline(up, res, () => {});
      up.on('end', () => this.done(req, up.statusCode));
    });
    upstream.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end('storage backend unavailable');
      } else res.destroy();
    });
    // A client that goes away mid-body must not leave a half-written object.
    req.on('close', () => { if (!req.complete) upstream.destroy(); });
    pipeline(body, upstream, () => {});
  }
}

module.exports = { Gate };
