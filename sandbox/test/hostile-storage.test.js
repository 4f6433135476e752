'use strict';
// Hostile storage answers (POST /admin/hostile, modes of the gate): each
// fires for exactly `count` PUTs, then PUTs succeed again.

const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const { start } = require('../testkit/sandbox');
const raw = require('../testkit/raw');
const { BACKTRACK_RETRY_AFTER } = require('../lib/hostile');
const { S3_ERROR_BACKTRACK } = require('../lib/hostile-storage');

const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');
const BODY = 'hostile storage body';

describe('hostile storage answers', () => {
  let sb;
  before(async () => { sb = await start(); });
  after(() => sb.stop());
  beforeEach(() => sb.reset());

  // Arms mode for `count` PUTs, runs `hostilePut` for each, then checks the
  // mode is off, counted `count` times, and a plain PUT stores its object.
  async function firesExactly(mode, count, hostilePut) {
    assert.deepEqual(await sb.hostile(mode, count), { mode, side: 'storage', remaining: count });
    for (let i = 0; i < count; i++) await hostilePut(i);
    assert.deepEqual(await sb.admin('/hostile'), { mode: null });
    assert.equal((await sb.admin('/counters')).storage.hostile[mode], count);
    const u = await sb.uploadUrl('normal.txt');
    const r = await sb.put(u.uploadUrl, BODY, { 'Content-Type': u.contentType });
    assert.equal(r.status, 200);
    assert.equal(r.headers.etag, `"${md5(BODY)}"`);
  }

  // Whether the object of u is stored with BODY, asked through validateUpload.
  async function stored(u) {
    const r = await sb.register({ filename: 'x', s3Key: u.s3Key, s3Etag: md5(BODY), entityId: '7', validateUpload: true });
    return r.json.errors === undefined;
  }

  it('leaves GraphQL alone and GraphQL modes leave storage alone', async () => {
    await sb.hostile('etag_huge', 1);
    assert.equal((await sb.gql('{ run(id: 1) { id } }')).json.data.run.id, 1);
    assert.equal((await sb.admin('/hostile')).remaining, 1);
    const u = await sb.uploadUrl('a.txt');
    await sb.hostile('data_null', 1);
    assert.equal((await sb.put(u.uploadUrl, BODY, { 'Content-Type': u.contentType })).status, 200);
    assert.equal((await sb.admin('/hostile')).remaining, 1);
  });

  it('is not spent on a PUT the gate refuses first (411)', async () => {
    await sb.hostile('redirect_put', 1);
    const u = await sb.uploadUrl('a.txt');
    const r = await sb.put(u.uploadUrl, BODY, { 'Content-Type': u.contentType, 'Transfer-Encoding': 'chunked' }, { chunked: true });
    assert.equal(r.status, 411);
    assert.equal((await sb.admin('/hostile')).remaining, 1);
  });

  it('redirect_put: 307 TemporaryRedirect to another URL on the gate; following it is counted (and works)', async () => {
    const seen = [];
    await firesExactly('redirect_put', 2, async () => {
      const u = await sb.uploadUrl('r.txt');
      const r = await sb.put(u.uploadUrl, BODY, { 'Content-Type': u.contentType });
      assert.equal(r.status, 307);
      assert.match(r.body, /<Code>TemporaryRedirect<\/Code>/);
      const loc = r.headers.location;
      assert.ok(loc.startsWith(`${sb.state.storage}/`) && loc !== u.uploadUrl, 'a URL on the gate');
      assert.equal(await stored(u), false, 'nothing stored by the 307');
      seen.push({ u, loc });
    });
    assert.equal((await sb.admin('/counters')).storage.redirects_followed, 0);
    const { u, loc } = seen[0];
    const followed = await sb.put(loc, BODY, { 'Content-Type': u.contentType });
    assert.equal(followed.status, 200);
    assert.equal(await stored(u), true);
    assert.equal((await sb.admin('/counters')).storage.redirects_followed, 1);
  });

  it('etag_huge: 200 with an ETag of 100000 characters; the object is stored', async () => {
    await firesExactly('etag_huge', 2, async () => {
      const u = await sb.uploadUrl('e.txt');
      const r = await sb.put(u.uploadUrl, BODY, { 'Content-Type': u.contentType }, { maxHeaderSize: 256 * 1024 });
      assert.equal(r.status, 200);
      assert.equal(r.headers.etag.length, 100000);
      assert.match(r.headers.etag, /^"0+"$/);
      assert.equal(await stored(u), true);
    });
  });

  it('s3_error_backtrack: 500 with <Error><Code> and 1 MiB of spaces, never closed; nothing stored', async () => {
    await firesExactly('s3_error_backtrack', 2, async () => {
      const u = await sb.uploadUrl('x.txt');
      const r = await sb.put(u.uploadUrl, BODY, { 'Content-Type': u.contentType });
      assert.equal(r.status, 500);
      assert.equal(r.body, S3_ERROR_BACKTRACK);
      assert.ok(r.body.endsWith(`<Error><Code>${' '.repeat(1024 * 1024)}`));
      assert.equal(await stored(u), false);
    });
  });

  it('slowdown_retry_after_backtrack: 503 SlowDown with a 60,001-byte Retry-After; nothing stored', async () => {
    await firesExactly('slowdown_retry_after_backtrack', 2, async () => {
      const u = await sb.uploadUrl('y.txt');
      const r = await sb.put(u.uploadUrl, BODY, { 'Content-Type': u.contentType }, { maxHeaderSize: 256 * 1024 });
      assert.equal(r.status, 503);
      assert.match(r.body, /<Code>SlowDown<\/Code>/);
      assert.equal(r.headers['retry-after'], BACKTRACK_RETRY_AFTER);
      assert.equal(await stored(u), false);
    });
  });

  it('slowloris: after the body, the status line comes one byte a second; nothing stored', async () => {
    await firesExactly('slowloris', 2, async () => {
      const u = await sb.uploadUrl('s.txt');
      const s = await raw.open(u.uploadUrl, { headers: { 'Content-Type': u.contentType }, length: 1000 });
      const t = Date.now();
      assert.equal((await raw.receive(s, 1)).toString(), 'H');
      assert.equal((await raw.receive(s, 2)).toString(), 'HT');
      assert.ok(Date.now() - t >= 900, `second byte after ${Date.now() - t} ms`);
      s.destroy();
      assert.equal(await stored(u), false);
    });
  });

  it('stall_body: stops reading the body after 64 KiB and never answers', async () => {
    const LENGTH = 32 * 1024 * 1024;
    await firesExactly('stall_body', 2, async () => {
      const u = await sb.uploadUrl('b.txt');
      const s = await raw.open(u.uploadUrl, { headers: { 'Content-Type': u.contentType }, length: LENGTH });
      // The only wait here proves an absence: after 500 ms the socket
      // buffers are full (most of the 32 MiB still queued) and no answer came.
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(s.writableLength > LENGTH / 2, `still queued: ${s.writableLength}`);
      assert.equal(s.received.length, 0);
      s.destroy();
    });
  });
});

describe('hostile storage and shutdown', () => {
  it('a slowloris and a stalled PUT in progress do not hold up SIGTERM', async () => {
    const sb = await start();
    const u = await sb.uploadUrl('s.txt');
    await sb.hostile('slowloris', 1);
    const slow = await raw.open(u.uploadUrl, { headers: { 'Content-Type': u.contentType }, length: 10 });
    await raw.receive(slow, 1);
    await sb.hostile('stall_body', 1);
    const stalled = await raw.open(u.uploadUrl, { headers: { 'Content-Type': u.contentType }, length: 8 * 1024 * 1024 });
    const c = await sb.admin('/counters');
    assert.deepEqual(c.storage.hostile, { slowloris: 1, stall_body: 1 });
    const t = Date.now();
    assert.equal(await sb.stop(), 0);
    assert.ok(Date.now() - t < 3000, `stopped in ${Date.now() - t} ms`);
    await Promise.all([slow, stalled].map((s) => new Promise((r) => (s.destroyed ? r() : s.once('close', r)))));
  });
});
