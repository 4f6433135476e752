'use strict';
// testkit/proxy.js, the forward proxy of the Lua proxy specs: forwarding,
// CONNECT tunnels, per-host counts, and header records with no credential.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const net = require('net');
const { createProxy } = require('../testkit/proxy');

describe('testkit proxy', () => {
  let origin; let originPort; let proxy; let proxyPort;
  before(async () => {
    origin = http.createServer((req, res) => {
      res.setHeader('ETag', '"abc"');
      res.end(`${req.method} ${req.url}`);
    });
    originPort = await new Promise((r) => origin.listen(0, '127.0.0.1', () => r(origin.address().port)));
    proxy = createProxy();
    proxyPort = await proxy.listen(0);
  });
  after(async () => {
    await proxy.close();
    origin.close();
  });

  it('forwards an absolute-URI request, counts its host, redacts Authorization and the query', async () => {
    const body = await new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port: proxyPort, method: 'PUT', path: `http://127.0.0.1:${originPort}/obj?X-Amz-Signature=s`,
        headers: { Authorization: 'Bearer secret', 'Content-Length': 2 },
      }, (res) => {
        assert.equal(res.headers.etag, '"abc"');
        let b = '';
        res.on('data', (c) => { b += c; });
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      req.end('hi');
    });
    assert.equal(body, 'PUT /obj?X-Amz-Signature=s');
    const s = proxy.stats();
    assert.equal(s.hosts[`127.0.0.1:${originPort}`], 1);
    assert.equal(s.requests[0].path, '/obj');
    assert.equal(s.requests[0].headers.authorization, '<present>');
    assert.ok(!JSON.stringify(s).includes('secret'));
  });

  it('tunnels CONNECT and counts it apart', async () => {
    const answer = await new Promise((resolve, reject) => {
      const sock = net.connect(proxyPort, '127.0.0.1', () => {
        sock.write(`CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\n\r\n`);
      });
      let buf = '';
      let tunneled = false;
      sock.on('data', (d) => {
        buf += d;
        if (!tunneled && buf.includes('\r\n\r\n')) {
          assert.match(buf, /^HTTP\/1\.1 200/);
          tunneled = true;
          buf = '';
          sock.write('GET /inside HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        }
      });
      sock.on('end', () => resolve(buf));
      sock.on('error', reject);
    });
    assert.match(answer, /GET \/inside$/);
    assert.equal(proxy.stats().connects[`127.0.0.1:${originPort}`], 1);
  });

  it('answers its own /stats and clears them on POST /reset', async () => {
    const get = (method, p) => new Promise((resolve, reject) => {
      http.request({ host: '127.0.0.1', port: proxyPort, method, path: p }, (res) => {
        let b = '';
        res.on('data', (c) => { b += c; });
        res.on('end', () => resolve(JSON.parse(b)));
      }).on('error', reject).end();
    });
    assert.ok(Object.keys((await get('GET', '/stats')).hosts).length > 0);
    assert.deepEqual(await get('POST', '/reset'), { hosts: {}, connects: {}, requests: [] });
  });
});
