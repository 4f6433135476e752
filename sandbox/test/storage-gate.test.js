'use strict';
// The storage gate: what real S3 enforces on a presigned PUT, whether s3rver
// does it (signature, expiry) or the gate (length, auth, MD5, unsigned).

const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const net = require('net');
const { start } = require('../testkit/sandbox');

const md5 = (s, enc = 'hex') => crypto.createHash('md5').update(s).digest(enc);
const code = (xml) => (/<Code>([^<]*)<\/Code>/.exec(xml) || [])[1];
const message = (xml) => (/<Message>([^<]*)<\/Message>/.exec(xml) || [])[1];

describe('storage gate', () => {
  let sb;
  before(async () => { sb = await start(); });
  after(() => sb.stop());
  beforeEach(() => sb.reset());

  // Whether the object exists, asked the way ION would: validateUpload.
  async function stored(u, etag = '0'.repeat(32)) {
    const r = await sb.register({ filename: 'x', s3Key: u.s3Key, s3Etag: etag, entityId: '7', validateUpload: true });
    return !/not found/.test(r.json.errors ? r.json.errors[0].message : '');
  }

  it('accepts the signed Content-Type and answers a quoted MD5 ETag', async () => {
    const u = await sb.uploadUrl('a.png');
    const r = await sb.put(u.uploadUrl, 'png bytes', { 'Content-Type': 'image/png' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.etag, `"${md5('png bytes')}"`);
  });

  it('refuses a wrong Content-Type: 403 SignatureDoesNotMatch', async () => {
    const u = await sb.uploadUrl('a.png');
    const r = await sb.put(u.uploadUrl, 'png bytes', { 'Content-Type': 'image/jpeg' });
    assert.equal(r.status, 403);
    assert.equal(code(r.body), 'SignatureDoesNotMatch');
    assert.equal(await stored(u), false);
  });

  it('refuses a missing Content-Type too (it is signed)', async () => {
    const u = await sb.uploadUrl('a.png');
    const r = await sb.put(u.uploadUrl, 'png bytes');
    assert.equal(r.status, 403);
    assert.equal(code(r.body), 'SignatureDoesNotMatch');
  });

  it('refuses a URL whose signature was tampered with', async () => {
    const u = await sb.uploadUrl('a.png');
    const url = u.uploadUrl.replace(/X-Amz-Signature=([0-9a-f])/, (m, c) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
    const r = await sb.put(url, 'x', { 'Content-Type': 'image/png' });
    assert.equal(r.status, 403);
    assert.equal(code(r.body), 'SignatureDoesNotMatch');
  });

  it('refuses a chunked PUT: 411 MissingContentLength, counted', async () => {
    const u = await sb.uploadUrl('a.png');
    const r = await sb.put(u.uploadUrl, 'chunked body', { 'Content-Type': 'image/png', 'Transfer-Encoding': 'chunked' }, { chunked: true });
    assert.equal(r.status, 411);
    assert.equal(code(r.body), 'MissingContentLength');
    assert.equal(await stored(u), false);
    const c = await sb.admin('/counters');
    assert.equal(c.storage.chunked_puts, 1);
  });

  it('refuses a PUT with neither Content-Length nor chunking: 411', async () => {
    // Raw bytes: Node's client would add Content-Length: 0 by itself.
    const u = new URL((await sb.uploadUrl('a.png')).uploadUrl);
    const answer = await new Promise((resolve, reject) => {
      const sock = net.connect(Number(u.port), u.hostname, () => {
        sock.end(`PUT ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n`
          + 'Content-Type: image/png\r\nConnection: close\r\n\r\n');
      });
      let data = '';
      sock.on('data', (d) => { data += d; });
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 411 /);
    assert.equal(code(answer), 'MissingContentLength');
  });

  it('refuses an Authorization header on a presigned request: 400, counted', async () => {
    const u = await sb.uploadUrl('a.png');
    const r = await sb.put(u.uploadUrl, 'x', { 'Content-Type': 'image/png', Authorization: `Bearer ${sb.tokens.rw}` });
    assert.equal(r.status, 400);
    assert.equal(code(r.body), 'InvalidArgument');
    assert.match(message(r.body), /Only one auth mechanism allowed/);
    assert.ok(!r.body.includes(sb.tokens.rw), 'the token is not echoed');
    const c = await sb.admin('/counters');
    assert.equal(c.storage.authorization_headers, 1);
  });

  it('refuses an unsigned request: 403 AccessDenied', async () => {
    const u = await sb.uploadUrl('a.png');
    const bare = u.uploadUrl.split('?')[0];
    const r = await sb.put(bare, 'x', { 'Content-Type': 'image/png' });
    assert.equal(r.status, 403);
    assert.equal(code(r.body), 'AccessDenied');
    assert.equal(await stored(u), false);
  });

  it('refuses x-amz-* headers the URL did not sign: 403 AccessDenied', async () => {
    const u = await sb.uploadUrl('a.png');
    const r = await sb.put(u.uploadUrl, 'x', { 'Content-Type': 'image/png', 'x-amz-meta-owner': 'me' });
    assert.equal(r.status, 403);
    assert.equal(code(r.body), 'AccessDenied');
    assert.match(message(r.body), /not signed/);
    assert.equal(await stored(u), false);
  });

  it('checks Content-MD5: a wrong digest is 400 BadDigest and stores nothing', async () => {
    const u = await sb.uploadUrl('a.png');
    const r = await sb.put(u.uploadUrl, 'the body', { 'Content-Type': 'image/png', 'Content-MD5': md5('another body', 'base64') });
    assert.equal(r.status, 400);
    assert.equal(code(r.body), 'BadDigest');
    assert.equal(await stored(u), false);
  });

  it('checks Content-MD5: the right digest stores the object', async () => {
    const u = await sb.uploadUrl('a.png');
    const r = await sb.put(u.uploadUrl, 'the body', { 'Content-Type': 'image/png', 'Content-MD5': md5('the body', 'base64') });
    assert.equal(r.status, 200);
    assert.equal(r.headers.etag, `"${md5('the body')}"`);
  });

  it('refuses an expired URL: 403 AccessDenied "Request has expired"', async () => {
    await sb.faults({ url_lifetime_s: 1 });
    const u = await sb.uploadUrl('a.png');
    // The URL's lifetime has to run out: X-Amz-Date has 1 s resolution.
    await new Promise((r) => setTimeout(r, 2100));
    const r = await sb.put(u.uploadUrl, 'x', { 'Content-Type': 'image/png' });
    assert.equal(r.status, 403);
    assert.equal(code(r.body), 'AccessDenied');
    assert.equal(message(r.body), 'Request has expired');
    assert.match(u.uploadUrl, /X-Amz-Expires=1&/);
  });

  it('serves the presigned GET of an attachment without faults', async () => {
    const { result } = await sb.upload('b.txt', 'hello', '7');
    await sb.faults({ storage_503_rate: 1, storage_drop_rate: 1, storage_expire_rate: 1 });
    const url = result.json.data.createFileAttachment.fileAttachment.downloadUrl;
    const r = await sb.put(url, undefined, {}, { method: 'GET' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello');
  });

  it('counts requests, connections and PUTs', async () => {
    const u = await sb.uploadUrl('a.txt');
    await sb.put(u.uploadUrl, 'one', { 'Content-Type': 'text/plain' });
    await sb.put(u.uploadUrl, 'two', { 'Content-Type': 'text/plain' });
    const c = (await sb.admin('/counters')).storage;
    assert.equal(c.requests, 2);
    assert.equal(c.puts, 2);
    assert.equal(c.connections, 2, 'the helper opens one connection per request');
    assert.equal(c.status['200'], 2);
  });
});
