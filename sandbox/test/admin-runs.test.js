'use strict';
// POST /admin/runs and /admin/runs/update: a run that appears, or is renamed,
// while a client looks for it. POST /admin/reset takes it back.

const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('../testkit/sandbox');

const FIND = (title) => `{ runs(filters: { title: { eq: ${JSON.stringify(title)} } }) { edges { node {
  id title status procedureId entityId entity { id } steps { id title position status entityId fields { id name entityId } } } } } }`;

describe('admin runs', () => {
  let sb;
  before(async () => { sb = await start(); });
  after(() => sb.stop());
  beforeEach(() => sb.reset());

  const found = async (title) => (await sb.gql(FIND(title))).json.data.runs.edges.map((e) => e.node);

  it('creates a run with steps and fields, found by title and taking attachments', async () => {
    assert.deepEqual(await found('SN009999 final test'), []);
    const run = await sb.admin('/runs', { method: 'POST', body: {
      title: 'SN009999 final test', status: 'IN_PROGRESS', procedureId: 6,
      steps: ['Receiving inspection', { title: 'Final test', status: 'IN_PROGRESS', fields: ['Photo'] }],
    } });
    assert.deepEqual(run, {
      id: 51, title: 'SN009999 final test', status: 'IN_PROGRESS', procedureId: 6, entityId: '521',
      steps: [
        { id: 201, title: 'Receiving inspection', position: 1, status: 'TODO', entityId: '522', fields: [] },
        { id: 202, title: 'Final test', position: 2, status: 'IN_PROGRESS', entityId: '523',
          fields: [{ id: 101, name: 'Photo', entityId: '524' }] },
      ],
    });
    const [node] = await found('SN009999 final test');
    assert.deepEqual({ ...node, entity: undefined }, { ...run, entity: undefined });
    assert.equal(node.entity.id, '521');
    const byId = await sb.gql('{ run(id: 51) { id } runStep(id: 202) { title entity { id } } runStepField(id: 101) { name } }');
    assert.deepEqual(byId.json.data,
      { run: { id: 51 }, runStep: { title: 'Final test', entity: { id: '523' } }, runStepField: { name: 'Photo' } });
    const { result } = await sb.upload('later.jpg', 'x', '523');
    assert.equal(result.json.errors, undefined, result.body);
    assert.equal(result.json.data.createFileAttachment.fileAttachment.entityId, '523');
    const ds = await sb.admin('/dataset');
    assert.equal(ds.run['51'], '521');
    assert.deepEqual(ds.runs[50], run);
    // The next one continues the numbering; {} is an empty list (Lua's cjson sends one so).
    assert.deepEqual(await sb.admin('/runs', { method: 'POST', body: { title: 'x', steps: {} } }),
      { id: 52, title: 'x', status: 'TODO', procedureId: 1, entityId: '525', steps: [] });
  });

  it('renames a run: found by the new title, no longer by the old', async () => {
    const renamed = await sb.admin('/runs/update', { method: 'POST', body: { id: 14, title: 'SN004600 rework', status: 'COMPLETE' } });
    assert.deepEqual([renamed.id, renamed.title, renamed.status, renamed.entityId],
      [14, 'SN004600 rework', 'COMPLETE', (await sb.admin('/dataset')).run['14']]);
    assert.deepEqual((await found('Bracket assembly')).map((r) => r.id), [13, 15]);
    assert.deepEqual((await found('SN004600 rework')).map((r) => [r.id, r.status]), [[14, 'COMPLETE']]);
  });

  it('forgets created runs and renames at reset', async () => {
    await sb.admin('/runs', { method: 'POST', body: { title: 'temporary', steps: ['a'] } });
    await sb.admin('/runs/update', { method: 'POST', body: { id: 13, title: 'renamed' } });
    await sb.reset();
    assert.deepEqual(await found('temporary'), []);
    assert.deepEqual((await found('Bracket assembly')).map((r) => r.id), [13, 14, 15]);
    const r = await sb.gql('{ run(id: 51) { id } runStep(id: 201) { id } }');
    assert.deepEqual(r.json.data, { run: null, runStep: null });
    assert.equal(Object.keys((await sb.admin('/dataset')).run).length, 50);
    assert.equal((await sb.admin('/runs', { method: 'POST', body: { title: 'again' } })).id, 51);
  });

  it('refuses a bad body with 400 and a message naming the field', async () => {
    const cases = [
      [{}, /title must be a string/],
      [{ title: '' }, /title must be/],
      [{ title: 'x', status: 'DONE' }, /status must be TODO\|IN_PROGRESS\|COMPLETE\|CANCELED/],
      [{ title: 'x', procedureId: 21 }, /procedureId must be a procedure id/],
      [{ title: 'x', steps: 'a' }, /steps must be a list/],
      [{ title: 'x', steps: [{ title: 'a', status: 'CANCELED' }] }, /steps\[0\]\.status must be/],
      [{ title: 'x', steps: ['a', { title: 'b', fields: [7] }] }, /steps\[1\]\.fields\[0\] must be/],
      [[], /the body must be a JSON object/],
    ];
    for (const [body, message] of cases) assert.match((await sb.admin('/runs', { method: 'POST', body })).error, message);
    assert.match((await sb.admin('/runs/update', { method: 'POST', body: { id: 999, title: 'x' } })).error, /id must be the id of a run/);
    assert.equal(Object.keys((await sb.admin('/dataset')).run).length, 50, 'nothing created');
  });
});
