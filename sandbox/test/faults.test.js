'use strict';
// Faults on demand: each fires at its rate, and a fixed seed repeats the
// same sequence exactly (per kind, whatever the other kinds do).

const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const { start } = require('../testkit/sandbox');
const { Faults } = require('../lib/faults');

const N = 200;
const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');
const count = (seq, pred) => seq.filter(pred).length;

// Within [rate*N/2, rate*N*1.5]: loose enough for any decent PRNG, tight
// enough to catch a rate that is ignored or applied twice.
function assertRate(n, rate, what) {
  assert.ok(n >= rate * N * 0.5 && n <= rate * N * 1.5, `${what}: ${n} of ${N} at rate ${rate}`);
}

describe('fault streams (in process)', () => {
  it('are independent per kind: another kind\'s rate does not shift a sequence', () => {
    const seq = (cfg) => {
      const f = new Faults({ seed: 9, ...cfg });
      return Array.from({ length: N }, () => f.storageFaults().slowDown);
    };
    assert.deepEqual(seq({ storage_503_rate: 0.3 }), seq({ storage_503_rate: 0.3, storage_drop_rate: 0.9, strip_etag_rate: 0.5 }));
    assert.notDeepEqual(seq({ storage_503_rate: 0.3 }), seq({ storage_503_rate: 0.3, seed: 10 }));
  });

  it('reject bad knobs', () => {
    assert.throws(() => new Faults({ storage_503_rate: 2 }), /between 0 and 1/);
    assert.throws(() => new Faults({ nope: 1 }), /unknown fault knob/);
    assert.throws(() => new Faults({ url_lifetime_s: 0 }), />/);
  });
});

describe('faults', () => {
  let sb;
  before(async () => { sb = await start(['--seed', '42']); });
  after(() => sb.stop());
  beforeEach(() => sb.reset());

  const QUERY = '{ runStep(id: 1) { id } }';

  async function graphqlSequence() {
    const out = [];
    for (let i = 0; i < N; i++) {
      const r = await sb.gql(QUERY);
      out.push({ status: r.status, retryAfter: r.headers['retry-after'], html: /text\/html/.test(r.headers['content-type']) });
    }
    return out;
  }

  // PUTs to one URL (S3 accepts a presigned URL until it expires); each
  // outcome is a status, 'dropped' (socket died) or 'no-etag'.
  async function storageSequence(url, n = N) {
    const out = [];
    for (let i = 0; i < n; i++) {
      try {
        const r = await sb.put(url, 'x'.repeat(1000), { 'Content-Type': 'text/plain' });
        out.push(r.status === 200 && r.headers.etag === undefined ? 'no-etag' : r.status);
      } catch (err) {
        out.push('dropped');
      }
    }
    return out;
  }

  it('GraphQL 5xx at its rate (500/502/503/504, 502 as an HTML page), repeatable by seed', async () => {
    await sb.faults({ seed: 42, graphql_5xx_rate: 0.2 });
    const first = await graphqlSequence();
    const fives = count(first, (r) => r.status >= 500);
    assertRate(fives, 0.2, '5xx');
    assert.equal(count(first, (r) => r.status === 200) + fives, N);
    assert.ok(first.some((r) => r.status === 502 && r.html), 'a 502 with an HTML body');
    assert.ok(new Set(first.filter((r) => r.status >= 500).map((r) => r.status)).size >= 3, 'several 5xx statuses');
    assert.equal((await sb.admin('/counters')).graphql.faults['5xx'], fives);

    await sb.faults({ seed: 42 });
    assert.deepEqual(await graphqlSequence(), first);
  });

  it('GraphQL 429 at its rate with Retry-After, repeatable by seed', async () => {
    await sb.faults({ seed: 7, graphql_429_rate: 0.15, retry_after_s: 3 });
    const first = await graphqlSequence();
    const limited = first.filter((r) => r.status === 429);
    assertRate(limited.length, 0.15, '429');
    assert.ok(limited.every((r) => r.retryAfter === '3'));
    await sb.faults({ seed: 7 });
    assert.deepEqual(await graphqlSequence(), first);
  });

  it('GraphQL 500/502/504 lose the answer of work done; 503 and 429 do nothing', async () => {
    await sb.faults({ seed: 3, graphql_5xx_rate: 1 });
    const seen = {};
    for (let i = 0; i < 24; i++) {
      const before = (await sb.admin('/attachments')).length;
      const r = await sb.register({ filename: 'f', s3Key: 'uploads/x/f', s3Etag: 'e', entityId: '7', validateUpload: false });
      const created = (await sb.admin('/attachments')).length - before;
      seen[r.status] = created;
    }
    assert.deepEqual(seen, { 500: 1, 502: 1, 503: 0, 504: 1 });
    await sb.faults({ graphql_5xx_rate: 0, graphql_429_rate: 1 });
    const before = (await sb.admin('/attachments')).length;
    const r = await sb.register({ filename: 'f', s3Key: 'uploads/x/f', s3Etag: 'e', entityId: '7', validateUpload: false });
    assert.equal(r.status, 429);
    assert.equal((await sb.admin('/attachments')).length, before);
  });

  it('storage 503 SlowDown at its rate, repeatable by seed', async () => {
    const u = await sb.uploadUrl('s.txt');
    await sb.faults({ seed: 11, storage_503_rate: 0.25 });
    const first = await storageSequence(u.uploadUrl);
    assertRate(count(first, (s) => s === 503), 0.25, '503');
    assert.equal(count(first, (s) => s === 200 || s === 503), N);
    await sb.faults({ seed: 11 });
    assert.deepEqual(await storageSequence(u.uploadUrl), first);
    const slow = await sb.put(u.uploadUrl, 'x', { 'Content-Type': 'text/plain' }).then(async () => {
      await sb.faults({ storage_503_rate: 1 });
      return sb.put(u.uploadUrl, 'x', { 'Content-Type': 'text/plain' });
    });
    assert.match(slow.body, /<Code>SlowDown<\/Code>/);
  });

  it('storage "Request has expired" at its rate, repeatable by seed', async () => {
    const u = await sb.uploadUrl('e.txt');
    await sb.faults({ seed: 12, storage_expire_rate: 0.1 });
    const first = await storageSequence(u.uploadUrl);
    assertRate(count(first, (s) => s === 403), 0.1, 'expired');
    await sb.faults({ seed: 12 });
    assert.deepEqual(await storageSequence(u.uploadUrl), first);
    await sb.faults({ storage_expire_rate: 1 });
    const r = await sb.put(u.uploadUrl, 'x', { 'Content-Type': 'text/plain' });
    assert.equal(r.status, 403);
    assert.match(r.body, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
  });

  it('storage drops mid-body at its rate; a dropped PUT stores nothing', async () => {
    const u = await sb.uploadUrl('d.txt');
    await sb.faults({ seed: 13, storage_drop_rate: 0.2 });
    const first = await storageSequence(u.uploadUrl);
    assertRate(count(first, (s) => s === 'dropped'), 0.2, 'dropped');
    await sb.faults({ seed: 13 });
    assert.deepEqual(await storageSequence(u.uploadUrl), first);

    await sb.faults({ storage_drop_rate: 1 });
    const fresh = await sb.uploadUrl('d2.txt');
    await assert.rejects(sb.put(fresh.uploadUrl, 'y'.repeat(1000), { 'Content-Type': 'text/plain' }));
    const r = await sb.register({ filename: 'd2.txt', s3Key: fresh.s3Key, s3Etag: md5('y'.repeat(1000)), entityId: '7', validateUpload: true });
    assert.match(r.json.errors[0].message, /not found/);
  });

  it('strips the ETag at its rate; the object is stored all the same', async () => {
    const u = await sb.uploadUrl('t.txt');
    await sb.faults({ seed: 14, strip_etag_rate: 0.3 });
    const first = await storageSequence(u.uploadUrl);
    assertRate(count(first, (s) => s === 'no-etag'), 0.3, 'no-etag');
    await sb.faults({ seed: 14 });
    assert.deepEqual(await storageSequence(u.uploadUrl), first);

    await sb.faults({ strip_etag_rate: 1 });
    const fresh = await sb.uploadUrl('t2.txt');
    const put = await sb.put(fresh.uploadUrl, 'kept', { 'Content-Type': 'text/plain' });
    assert.equal(put.status, 200);
    assert.equal(put.headers.etag, undefined);
    const r = await sb.register({ filename: 't2.txt', s3Key: fresh.s3Key, s3Etag: md5('kept'), entityId: '7', validateUpload: true });
    assert.equal(r.json.errors, undefined);
  });

  it('adds latency per GraphQL request and per storage PUT', async () => {
    const u = await sb.uploadUrl('l.txt');
    await sb.faults({ graphql_latency_ms: 150, storage_latency_ms: 150 });
    let t = Date.now();
    await sb.gql(QUERY);
    assert.ok(Date.now() - t >= 140, `graphql took ${Date.now() - t} ms`);
    t = Date.now();
    await sb.put(u.uploadUrl, 'x', { 'Content-Type': 'text/plain' });
    assert.ok(Date.now() - t >= 140, `PUT took ${Date.now() - t} ms`);
  });

  it('does not fault the admin endpoint or the token endpoint', async () => {
    await sb.faults({ graphql_5xx_rate: 1, graphql_429_rate: 1 });
    for (let i = 0; i < 5; i++) assert.ok(Array.isArray(await sb.admin('/attachments')));
    const { client_id, client_secret } = sb.state.oauth;
    const r = await fetch(sb.state.oauth.token_url, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id, client_secret }),
    });
    assert.equal(r.status, 200);
  });

  it('POST /admin/faults answers the effective config; reset restores the startup one', async () => {
    const eff = await sb.faults({ storage_503_rate: 0.5, url_lifetime_s: 60 });
    assert.equal(eff.storage_503_rate, 0.5);
    assert.equal(eff.url_lifetime_s, 60);
    assert.equal(eff.seed, 42);
    const bad = await sb.faults({ storage_503_rate: 7 });
    assert.match(bad.error, /between 0 and 1/);
    await sb.reset();
    const now = await sb.admin('/faults');
    assert.equal(now.storage_503_rate, 0);
    assert.equal(now.url_lifetime_s, 300);
    assert.match((await sb.uploadUrl('x.txt')).uploadUrl, /X-Amz-Expires=300&/);
  });

  it('the same faults from CLI flags repeat the same sequence in another process', async () => {
    await sb.faults({ seed: 5, graphql_5xx_rate: 0.1, graphql_429_rate: 0.1 });
    const viaAdmin = await graphqlSequence();
    const other = await start(['--seed', '5', '--graphql-5xx-rate', '0.1', '--graphql-429-rate', '0.1']);
    try {
      const r = [];
      for (let i = 0; i < N; i++) {
        const x = await other.gql(QUERY);
        r.push({ status: x.status, retryAfter: x.headers['retry-after'], html: /text\/html/.test(x.headers['content-type']) });
      }
      assert.deepEqual(r, viaAdmin);
    } finally {
      await other.stop();
    }
  });
});
