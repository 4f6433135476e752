'use strict';
// Read-only targets: released parts refuse attachments whatever the token,
// among neighbours that take them.

const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('../testkit/sandbox');

const ATTACH = (aliases) => `mutation(${aliases.map((a) => `$${a}: CreateFileAttachmentInput!`).join(', ')}) {
  ${aliases.map((a) => `${a}: createFileAttachment(input: $${a}) { fileAttachment { id entityId } }`).join('\n  ')}
}`;
const input = (entityId) => ({ filename: 'f.txt', s3Key: 'uploads/x/f.txt', s3Etag: 'e', entityId, validateUpload: false });

describe('read-only targets', () => {
  let sb;
  let ds;
  before(async () => {
    sb = await start();
    ds = await sb.admin('/dataset');
  });
  after(() => sb.stop());
  beforeEach(() => sb.reset());

  it('are listed in GET /admin/dataset under readOnly, next to the unchanged maps', () => {
    assert.deepEqual(ds.readOnly, { part: [41, 42, 43, 44, 45] });
    assert.equal(Object.keys(ds.part).length, 50);
    assert.equal(ds.runStep['1'], '7');
  });

  it('refuse createFileAttachment with the rw token: Permission denied and why, path = alias', async () => {
    await sb.faults({ partial_data: false }); // strict: data null, as asserted below
    for (const id of ds.readOnly.part) {
      const r = await sb.gql(ATTACH(['f1']), { f1: input(ds.part[String(id)]) });
      assert.equal(r.status, 200);
      assert.equal(r.json.data, null);
      assert.equal(r.json.errors.length, 1);
      assert.equal(r.json.errors[0].message, `Permission denied: part ${id} is released and no longer accepts attachments`);
      assert.deepEqual(r.json.errors[0].path, ['f1']);
    }
    assert.deepEqual(await sb.admin('/attachments'), []);
  });

  it('still resolve as targets, and their neighbours take attachments', async () => {
    const r = await sb.gql('{ part(id: 41) { id entity { id } } }');
    assert.deepEqual(r.json.data.part, { id: 41, entity: { id: ds.part['41'] } });
    for (const id of ['40', '46', '50']) {
      const ok = await sb.gql(ATTACH(['f1']), { f1: input(ds.part[id]) });
      assert.equal(ok.json.errors, undefined, `part ${id}`);
    }
  });

  it('fail alone among good ones with partial_data', async () => {
    await sb.faults({ partial_data: true });
    const r = await sb.gql(ATTACH(['f1', 'f2', 'f3']), { f1: input(ds.part['40']), f2: input(ds.part['43']), f3: input(ds.part['46']) });
    assert.deepEqual(r.json.errors.map((e) => e.path), [['f2']]);
    assert.match(r.json.errors[0].message, /^Permission denied: part 43 is released/);
    assert.equal(r.json.data.f2, null);
    assert.equal(r.json.data.f1.fileAttachment.entityId, ds.part['40']);
    assert.equal(r.json.data.f3.fileAttachment.entityId, ds.part['46']);
    assert.equal((await sb.admin('/attachments')).length, 2);
  });
});
