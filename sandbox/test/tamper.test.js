'use strict';
// The admin's tampering routes (for `ion-upload verify` specs): an object's
// bytes replaced, an object deleted, an attachment deleted, each seen through
// the same paths a client uses (fileAttachment, the presigned GET).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const { start, request } = require('../testkit/sandbox');

const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');
const ATT = 'query($id: Int!) { fileAttachment(id: $id) { id s3Key downloadUrl } }';

describe('admin tampering', () => {
  let sb;
  before(async () => { sb = await start(); });
  after(async () => { if (sb) await sb.stop(); });

  async function attached(name, body) {
    const up = await sb.upload(name, body, '7');
    return up.result.json.data.createFileAttachment.fileAttachment;
  }

  async function download(id) {
    const r = await sb.gql(ATT, { id });
    const fa = r.json.data.fileAttachment;
    if (!fa) return null;
    return request(fa.downloadUrl);
  }

  it('replaces an object\'s bytes: the GET serves the new ones, the ETag follows', async () => {
    const fa = await attached('a.txt', 'original\n');
    const r = await sb.admin('/objects/put', { method: 'POST', body: { s3Key: fa.s3Key, content: 'tampered\n' } });
    assert.deepEqual(r, { size: 9, etag: md5('tampered\n') });
    const got = await download(fa.id);
    assert.equal(got.status, 200);
    assert.equal(got.body, 'tampered\n');
    const listed = (await sb.admin('/attachments')).find((a) => a.id === fa.id);
    assert.equal(listed.md5, md5('tampered\n'));
    assert.equal(listed.etag, md5('original\n')); // as registered
  });

  it('deletes an object: the attachment stays, its GET is a 404 NoSuchKey', async () => {
    const fa = await attached('b.txt', 'bytes\n');
    assert.deepEqual(await sb.admin('/objects/delete', { method: 'POST', body: { s3Key: fa.s3Key } }), { ok: true });
    const got = await download(fa.id);
    assert.equal(got.status, 404);
    assert.match(got.body, /NoSuchKey/);
  });

  it('deletes an attachment: fileAttachment answers null', async () => {
    const fa = await attached('c.txt', 'more\n');
    assert.deepEqual(await sb.admin('/attachments/delete', { method: 'POST', body: { id: fa.id } }), { deleted: true });
    assert.equal(await download(fa.id), null);
    assert.deepEqual(await sb.admin('/attachments/delete', { method: 'POST', body: { id: fa.id } }), { deleted: false });
  });

  it('refuses a body without its fields', async () => {
    const r = await sb.admin('/objects/put', { method: 'POST', body: { s3Key: 'x' } });
    assert.match(r.error, /expected/);
  });
});
