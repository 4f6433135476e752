'use strict';
// graphql_drop_rate: the document runs, then the connection is destroyed
// without an answer; the case where a client must not resend a mutation.

const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('../testkit/sandbox');

const N = 200;
const QUERY = '{ runStep(id: 1) { id } }';

describe('graphql drop fault', () => {
  let sb;
  before(async () => { sb = await start(['--graphql-drop-rate', '0', '--seed', '21']); });
  after(() => sb.stop());
  beforeEach(() => sb.reset());

  async function sequence() {
    const out = [];
    for (let i = 0; i < N; i++) {
      out.push(await sb.gql(QUERY).then((r) => r.status, () => 'dropped'));
    }
    return out;
  }

  it('drops at its rate, counted, repeatable by seed', async () => {
    await sb.faults({ seed: 21, graphql_drop_rate: 0.2 });
    const first = await sequence();
    const dropped = first.filter((s) => s === 'dropped').length;
    assert.ok(dropped >= 0.1 * N && dropped <= 0.3 * N, `${dropped} of ${N}`);
    assert.equal(first.filter((s) => s === 200).length + dropped, N);
    const c = await sb.admin('/counters');
    assert.equal(c.graphql.faults.drop, dropped);
    assert.equal(c.graphql.fields.runStep, N, 'every dropped document ran');
    await sb.faults({ seed: 21 });
    assert.deepEqual(await sequence(), first);
  });

  it('runs a mutation whose answer it then drops', async () => {
    await sb.faults({ graphql_drop_rate: 1 });
    await assert.rejects(sb.register({ filename: 'f', s3Key: 'uploads/x/f', s3Etag: 'e', entityId: '7', validateUpload: false }));
    assert.equal((await sb.admin('/attachments')).length, 1);
    assert.equal((await sb.admin('/faults')).graphql_drop_rate, 1);
  });

  it('does not shift the other GraphQL fault sequences', async () => {
    const statuses = async () => {
      const out = [];
      for (let i = 0; i < 60; i++) out.push(await sb.gql(QUERY).then((r) => r.status, () => 'dropped'));
      return out.map((s) => (s === 429 || s === 503 ? s : 'other'));
    };
    await sb.faults({ seed: 4, graphql_429_rate: 0.3 });
    const without = await statuses();
    await sb.faults({ seed: 4, graphql_429_rate: 0.3, graphql_drop_rate: 0.5 });
    assert.deepEqual(await statuses(), without);
  });
});
