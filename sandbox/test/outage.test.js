'use strict';
// Outages: GraphQL, storage or both down for a time, refused or reset, set by
// POST /admin/outage or --outage at start. No sleeps: a state is observed by
// its effect, and a timed end by a readiness probe.

const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const { spawnSync } = require('child_process');
const { start, request, waitUntil, SERVER } = require('../testkit/sandbox');
const { validate, parseFlag } = require('../lib/outage');

const QUERY = '{ runStep(id: 1) { id } }';

// The error code of a request that must fail (ECONNREFUSED, ECONNRESET).
async function failure(promise) {
  try {
    const r = await promise;
    assert.fail(`expected a connection failure, got HTTP ${r.status}`);
  } catch (err) {
    if (err.code === 'ERR_ASSERTION') throw err;
    return err.code;
  }
  return undefined;
}

describe('outage fields (in process)', () => {
  it('checks target, mode and seconds, and parses the flag', () => {
    assert.deepEqual(validate({ target: 'both', seconds: 3 }), { target: 'both', mode: 'refuse', seconds: 3 });
    assert.deepEqual(parseFlag('storage:reset:2.5'), { target: 'storage', mode: 'reset', seconds: 2.5 });
    assert.throws(() => validate({ target: 'db', seconds: 1 }), /target must be graphql, storage or both/);
    assert.throws(() => validate({ target: 'graphql', mode: 'drop', seconds: 1 }), /mode must be refuse or reset/);
    assert.throws(() => validate({ target: 'graphql' }), /seconds must be a number/);
    assert.throws(() => validate({ target: 'graphql', seconds: -1 }), /seconds must be a number/);
    assert.throws(() => validate({ target: 'graphql', seconds: 1, extra: 1 }), /unknown outage field: extra/);
    assert.throws(() => parseFlag('graphql:30'), /TARGET:MODE:SECONDS/);
  });
});

describe('outage', () => {
  let sb;
  before(async () => { sb = await start(); });
  after(() => sb.stop());
  afterEach(async () => {
    await waitUntil(async () => (await sb.outage('both', 'refuse', 0)).graphql === null, { what: 'admin back' });
  });

  it('storage refused: PUTs are refused, GraphQL answers, and all is back when it ends', async () => {
    const u = await sb.uploadUrl('a.csv');
    const state = await sb.outage('storage', 'refuse', 30);
    assert.equal(state.storage.mode, 'refuse');
    assert.ok(state.storage.remaining_s > 29 && state.storage.remaining_s <= 30);
    assert.equal(state.graphql, null);
    assert.equal(await failure(sb.put(u.uploadUrl, 'x', { 'Content-Type': u.contentType })), 'ECONNREFUSED');
    assert.equal((await sb.gql(QUERY)).status, 200);
    assert.equal((await sb.admin('/outage')).storage.mode, 'refuse');
    assert.deepEqual(await sb.outage('storage', 'refuse', 0), { graphql: null, storage: null });
    const put = await sb.put(u.uploadUrl, 'x', { 'Content-Type': u.contentType });
    assert.equal(put.status, 200);
  });

  it('storage reset: connections are accepted then reset, and counted', async () => {
    const u = await sb.uploadUrl('b.csv');
    const before = (await sb.admin('/counters')).storage.outage_resets;
    await sb.outage('storage', 'reset', 30);
    assert.equal(await failure(sb.put(u.uploadUrl, 'x', { 'Content-Type': u.contentType })), 'ECONNRESET');
    assert.equal((await sb.admin('/counters')).storage.outage_resets, before + 1);
    await sb.outage('storage', 'reset', 0);
    assert.equal((await sb.put(u.uploadUrl, 'x', { 'Content-Type': u.contentType })).status, 200);
  });

  it('GraphQL reset: nothing runs (no attachment), the token endpoint goes too, admin still answers', async () => {
    const u = await sb.uploadUrl('c.csv');
    const put = await sb.put(u.uploadUrl, 'c', { 'Content-Type': u.contentType });
    const etag = put.headers.etag.replace(/"/g, '');
    const n = (await sb.admin('/attachments')).length;
    await sb.outage('graphql', 'reset', 30);
    const input = { filename: 'c.csv', s3Key: u.s3Key, s3Etag: etag, entityId: '7' };
    assert.equal(await failure(sb.register(input)), 'ECONNRESET');
    assert.equal(await failure(request(sb.state.oauth.token_url, { method: 'POST', body: 'grant_type=client_credentials' })),
      'ECONNRESET');
    assert.equal((await sb.admin('/attachments')).length, n); // admin answers, and nothing was recorded
    assert.equal((await sb.admin('/outage')).graphql.mode, 'reset');
    await sb.outage('graphql', 'reset', 0);
    assert.equal((await sb.register(input)).status, 200);
    assert.equal((await sb.admin('/attachments')).length, n + 1);
  });

  it('cuts the keep-alive connections open when it starts', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const post = () => request(sb.state.graphql, {
      method: 'POST', agent, body: JSON.stringify({ query: QUERY }),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sb.tokens.rw}` },
    });
    assert.equal((await post()).status, 200);
    await sb.outage('graphql', 'reset', 30);
    assert.ok(['ECONNRESET', 'EPIPE'].includes(await failure(post())));
    await sb.outage('graphql', 'reset', 0);
    assert.equal((await post()).status, 200);
    agent.destroy();
  });

  it('GraphQL refused for a time: the API port (admin too) refuses, then listens again on the same port', async () => {
    const t0 = Date.now();
    await sb.outage('graphql', 'refuse', 0.4);
    assert.equal(await failure(sb.gql(QUERY)), 'ECONNREFUSED');
    assert.equal(await failure(request(`${sb.state.admin}/outage`)), 'ECONNREFUSED');
    const r = await waitUntil(async () => {
      const res = await sb.gql(QUERY);
      return res.status === 200 && res;
    }, { what: 'GraphQL back' });
    assert.equal(String(r.json.data.runStep.id), '1');
    assert.ok(Date.now() - t0 >= 390, `back after ${Date.now() - t0} ms, before its 0.4 s`);
    assert.deepEqual(await sb.admin('/outage'), { graphql: null, storage: null });
  });

  it('both: GraphQL and storage down together', async () => {
    const u = await sb.uploadUrl('d.csv');
    await sb.outage('both', 'reset', 30);
    assert.equal(await failure(sb.gql(QUERY)), 'ECONNRESET');
    assert.equal(await failure(sb.put(u.uploadUrl, 'x', { 'Content-Type': u.contentType })), 'ECONNRESET');
    const state = await sb.admin('/outage');
    assert.equal(state.graphql.mode, 'reset');
    assert.equal(state.storage.mode, 'reset');
  });

  it('answers 400 with the reason for a bad outage', async () => {
    const r = await request(`${sb.state.admin}/outage`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ target: 'x', seconds: 1 }),
    });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).error, /target must be graphql, storage or both/);
  });

  it('POST /admin/reset ends an outage', async () => {
    await sb.outage('storage', 'refuse', 30);
    await sb.reset();
    assert.deepEqual(await sb.admin('/outage'), { graphql: null, storage: null });
  });
});

describe('--outage at start', () => {
  let sb;
  before(async () => { sb = await start(['--outage', 'storage:reset:30']); });
  after(() => sb.stop());

  it('is in force once the state file appears', async () => {
    const u = await sb.uploadUrl('e.csv');
    assert.equal((await sb.admin('/outage')).storage.mode, 'reset');
    assert.equal(await failure(sb.put(u.uploadUrl, 'x', { 'Content-Type': u.contentType })), 'ECONNRESET');
  });

  it('a bad value exits 2 with the usage', () => {
    const r = spawnSync(process.execPath, [SERVER, '--outage', 'storage:sideways:3'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /mode must be refuse or reset/);
  });
});
