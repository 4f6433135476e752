'use strict';
// /graphql: the served schema, its errors and the data set behind it.

const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('../testkit/sandbox');

const TARGETS = ['runStep', 'run', 'procedure', 'step', 'part', 'runStepField'];

describe('graphql', () => {
  let sb;
  before(async () => { sb = await start(); });
  after(() => sb.stop());
  beforeEach(() => sb.reset());

  it('resolves every target to an entity id that is not its own id', async () => {
    for (const t of TARGETS) {
      const r = await sb.gql(`query($id: Int!) { ${t}(id: $id) { id entity { id } } }`, { id: 1 });
      assert.equal(r.status, 200);
      const obj = r.json.data[t];
      assert.equal(obj.id, 1);
      assert.notEqual(obj.entity.id, '1', `${t} 1`);
    }
  });

  it('resolves unknown ids to null, without an error', async () => {
    const r = await sb.gql('{ runStep(id: 201) { id } run(id: 0) { id } fileAttachment(id: 1) { id } }');
    assert.deepEqual(r.json, { data: { runStep: null, run: null, fileAttachment: null } });
  });

  it('has entity ids that collide with other objects\' ids (the guide\'s trap)', async () => {
    // readOnly lists released objects, runs/parts/... the objects behind the
    // list queries: neither is an id -> entity map.
    const all = await sb.admin('/dataset');
    assert.deepEqual(all.readOnly, { part: [41, 42, 43, 44, 45] });
    const ds = Object.fromEntries(TARGETS.map((t) => [t, all[t]]));
    assert.deepEqual(Object.keys(all).sort(), [...TARGETS, 'readOnly', 'runs', 'parts', 'procedures', 'steps'].sort());
    assert.equal(ds.runStep['1'], '7');
    assert.ok(ds.run['7'], 'run 7 exists');
    const entities = Object.values(ds).flatMap((m) => Object.values(m));
    assert.equal(new Set(entities).size, entities.length, 'entity ids are unique');
    assert.deepEqual(TARGETS.map((t) => Object.keys(ds[t]).length), [200, 50, 20, 100, 50, 100]);
    for (const [type, map] of Object.entries(ds)) {
      for (const [id, entity] of Object.entries(map)) assert.notEqual(id, entity, `${type} ${id}`);
    }
    // A run step's own id passed as entityId attaches elsewhere, silently.
    const { result } = await sb.upload('wrong.txt', 'x', '1');
    assert.equal(result.json.errors, undefined);
    const owners = Object.entries(ds).filter(([, m]) => Object.values(m).includes('1'));
    assert.equal(owners.length, 1, 'entity 1 belongs to exactly one object');
    assert.notEqual(ds.runStep['1'], '1', 'and it is not run step 1');
    assert.equal(result.json.data.createFileAttachment.fileAttachment.entityId, '1');
  });

  it('derives contentType from the extension, octet-stream when unknown', async () => {
    const cases = { 'a.JPG': 'image/jpeg', 'b.pdf': 'application/pdf', 'c.csv': 'text/csv', 'd.weird': 'application/octet-stream', noext: 'application/octet-stream' };
    for (const [name, type] of Object.entries(cases)) {
      const u = await sb.uploadUrl(name);
      assert.equal(u.contentType, type, name);
      assert.match(u.s3Key, new RegExp(`^uploads/[0-9a-f]+/${name.replace('.', '\\.')}$`));
    }
  });

  it('issues a fresh key per URL request', async () => {
    const a = await sb.uploadUrl('same.txt');
    const b = await sb.uploadUrl('same.txt');
    assert.notEqual(a.s3Key, b.s3Key);
  });

  it('registers an attachment and reads it back with a freshly signed downloadUrl', async () => {
    const { result, url } = await sb.upload('r.txt', 'read me', '7');
    const att = result.json.data.createFileAttachment.fileAttachment;
    assert.equal(att.entityId, '7');
    assert.equal(att.s3Key, url.s3Key);
    assert.equal(att.contentType, 'text/plain');
    const r = await sb.gql('query($id: Int!) { fileAttachment(id: $id) { id filename downloadUrl entityId s3Key contentType } }', { id: att.id });
    const back = r.json.data.fileAttachment;
    assert.equal(back.filename, 'r.txt');
    assert.match(back.downloadUrl, /X-Amz-Signature=/);
    const got = await sb.put(back.downloadUrl, undefined, {}, { method: 'GET' });
    assert.equal(got.body, 'read me');
  });

  it('refuses an unknown entityId: "Entity not found" with the path', async () => {
    const u = await sb.uploadUrl('e.txt');
    const r = await sb.register({ filename: 'e.txt', s3Key: u.s3Key, s3Etag: 'x', entityId: '999999' });
    assert.equal(r.status, 200);
    assert.match(r.json.errors[0].message, /Entity not found/);
    assert.deepEqual(r.json.errors[0].path, ['createFileAttachment']);
  });

  it('validateUpload: a missing object fails with "not found"', async () => {
    const u = await sb.uploadUrl('never-put.txt');
    const r = await sb.register({ filename: 'n.txt', s3Key: u.s3Key, s3Etag: 'd41d8cd98f00b204e9800998ecf8427e', entityId: '7', validateUpload: true });
    assert.match(r.json.errors[0].message, /not found/);
    assert.equal((await sb.admin('/attachments')).length, 0);
  });

  it('validateUpload: a wrong ETag fails with "ETag mismatch"', async () => {
    const u = await sb.uploadUrl('m.txt');
    await sb.put(u.uploadUrl, 'bytes', { 'Content-Type': 'text/plain' });
    const r = await sb.register({ filename: 'm.txt', s3Key: u.s3Key, s3Etag: 'd41d8cd98f00b204e9800998ecf8427e', entityId: '7', validateUpload: true });
    assert.match(r.json.errors[0].message, /ETag mismatch/);
    assert.deepEqual(r.json.errors[0].path, ['createFileAttachment']);
    assert.equal((await sb.admin('/attachments')).length, 0);
  });

  it('validateUpload: accepts the ETag quoted, unquoted or in upper case', async () => {
    const u = await sb.uploadUrl('q.txt');
    const put = await sb.put(u.uploadUrl, 'bytes', { 'Content-Type': 'text/plain' });
    for (const etag of [put.headers.etag, put.headers.etag.replace(/"/g, ''), put.headers.etag.toUpperCase()]) {
      const r = await sb.register({ filename: 'q.txt', s3Key: u.s3Key, s3Etag: etag, entityId: '7', validateUpload: true });
      assert.equal(r.json.errors, undefined, etag);
    }
  });

  it('without validateUpload, registers whatever it is told', async () => {
    const r = await sb.register({ filename: 'n.txt', s3Key: 'uploads/none/n.txt', s3Etag: 'bogus', entityId: '7', validateUpload: false });
    assert.equal(r.json.errors, undefined);
  });

  it('aliased fields fail independently, each error with its alias as path', async () => {
    const u = await sb.uploadUrl('ok.txt');
    const put = await sb.put(u.uploadUrl, 'ok', { 'Content-Type': 'text/plain' });
    const good = { filename: 'ok.txt', s3Key: u.s3Key, s3Etag: put.headers.etag.replace(/"/g, ''), entityId: '7', validateUpload: true };
    const doc = `mutation($a: CreateFileAttachmentInput!, $b: CreateFileAttachmentInput!, $c: CreateFileAttachmentInput!) {
      f1: createFileAttachment(input: $a) { fileAttachment { id } }
      f2: createFileAttachment(input: $b) { fileAttachment { id } }
      f3: createFileAttachment(input: $c) { fileAttachment { id } } }`;
    const vars = { a: good, b: { ...good, entityId: '0' }, c: good };
    await sb.faults({ partial_data: false });
    const strict = await sb.gql(doc, vars);
    assert.equal(strict.status, 200);
    assert.deepEqual(strict.json.errors.map((e) => e.path), [['f2']]);
    // The served schema's payload is non-null: one failure nulls all of data
    // (GraphQL's rule) and, mutations running in order, stops the document:
    // f1 was carried out, f3 never ran.
    assert.equal(strict.json.data, null);
    assert.equal((await sb.admin('/attachments')).length, 1);

    await sb.faults({ partial_data: true });
    const partial = await sb.gql(doc, vars);
    assert.deepEqual(partial.json.errors.map((e) => e.path), [['f2']]);
    assert.equal(partial.json.data.f2, null);
    assert.equal(typeof partial.json.data.f1.fileAttachment.id, 'number');
    assert.equal(typeof partial.json.data.f3.fileAttachment.id, 'number');
    assert.equal((await sb.admin('/attachments')).length, 3);
  });

  it('counts top-level fields per document, by name, and connections', async () => {
    await sb.gql('{ a: runStep(id: 1) { id } b: runStep(id: 2) { id } run(id: 1) { id } }');
    const c = (await sb.admin('/counters')).graphql;
    assert.deepEqual(c.fields, { runStep: 2, run: 1 });
    assert.equal(c.requests, 1);
    assert.ok(c.connections >= 1);
  });

  it('answers a malformed document with 400 and errors[]', async () => {
    const r = await sb.gql('{ runStep(id: 1) { id ');
    assert.equal(r.status, 400);
    assert.ok(r.json.errors[0].message);
    const v = await sb.gql('{ runStep(id: 1) { nope } }');
    assert.equal(v.status, 400);
    assert.match(v.json.errors[0].message, /nope/);
  });

  it('rejects an empty filename', async () => {
    const r = await sb.gql('{ requestFileUploadUrl(filename: " ") { s3Key } }');
    assert.match(r.json.errors[0].message, /filename/);
    assert.deepEqual(r.json.errors[0].path, ['requestFileUploadUrl']);
  });
});
