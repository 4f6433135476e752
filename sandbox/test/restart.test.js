'use strict';
// A restart: a new sandbox process on the same ports and --directory is the
// same site to a client: same tokens and client secret, same attachments and
// objects, ids that go on from where they were, URLs signed before still good.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { start, request } = require('../testkit/sandbox');

const port = (url) => String(new URL(url).port);

async function oauthToken(sb) {
  const body = new URLSearchParams({
    grant_type: 'client_credentials', client_id: sb.state.oauth.client_id, client_secret: sb.state.oauth.client_secret,
  }).toString();
  const r = await request(sb.state.oauth.token_url, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body,
  });
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body).access_token;
}

describe('restart on the same ports and --directory', () => {
  let dir;
  let first;
  let second;
  let stoppedFirst;
  const kept = {};

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-restart-'));
    first = await start(['--directory', dir]);
    kept.upload = await first.upload('report.csv', 'a,b\n1,2\n', '7');
    kept.id = kept.upload.result.json.data.createFileAttachment.fileAttachment.id;
    kept.attachments = await first.admin('/attachments');
    kept.oauth = await oauthToken(first);
    // Issued before the restart, used after it.
    kept.pending = await first.uploadUrl('later.jpg');
    stoppedFirst = await first.stop();
    second = await start([
      '--directory', dir,
      '--graphql-port', port(first.state.graphql), '--storage-port', port(first.state.storage),
    ]);
  });

  after(async () => {
    if (second) await second.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stopped cleanly and came back on the same endpoints with the same credentials', () => {
    assert.equal(stoppedFirst, 0);
    assert.equal(second.state.graphql, first.state.graphql);
    assert.equal(second.state.storage, first.state.storage);
    assert.deepEqual(second.state.tokens, first.state.tokens);
    assert.deepEqual(second.state.oauth, first.state.oauth);
    assert.equal(fs.statSync(path.join(dir, 'credentials.json')).mode & 0o777, 0o600);
  });

  it('serves the same attachments, objects included', async () => {
    assert.deepEqual(await second.admin('/attachments'), kept.attachments);
    const r = await second.gql('query($id: Int!) { fileAttachment(id: $id) { id filename downloadUrl } }', { id: kept.id });
    assert.equal(r.json.data.fileAttachment.filename, 'report.csv');
    const got = await request(r.json.data.fileAttachment.downloadUrl);
    assert.equal(got.status, 200);
    assert.equal(got.body, 'a,b\n1,2\n');
  });

  it('accepts a token issued before the restart, and refuses a forged one', async () => {
    assert.equal((await second.gql('{ runStep(id: 1) { id } }', {}, { token: kept.oauth })).status, 200);
    const forged = `${kept.oauth.slice(0, -4)}AAAA`;
    assert.equal((await second.gql('{ runStep(id: 1) { id } }', {}, { token: forged })).status, 401);
  });

  it('takes a PUT to a URL signed before the restart, and registers it with the issued content type', async () => {
    const put = await second.put(kept.pending.uploadUrl, 'jpeg', { 'Content-Type': kept.pending.contentType });
    assert.equal(put.status, 200);
    const r = await second.register({
      filename: 'later.jpg', s3Key: kept.pending.s3Key, s3Etag: put.headers.etag.replace(/"/g, ''), entityId: '7',
      validateUpload: true,
    });
    const att = r.json.data.createFileAttachment.fileAttachment;
    assert.equal(att.contentType, 'image/jpeg');
    assert.ok(Number(att.id) > Number(kept.id), `id ${att.id} after ${kept.id}: ids never repeat`);
  });

  it('loses nothing it answered when killed (SIGKILL), not stopped', async () => {
    const up = await second.upload('just-before-kill.csv', 'k', '7');
    assert.equal(up.result.status, 200);
    const before = await second.admin('/attachments');
    const killed = second;
    second = null;
    await new Promise((resolve) => {
      killed.child.once('exit', resolve);
      killed.child.kill('SIGKILL');
    });
    fs.rmSync(killed.dir, { recursive: true, force: true });
    second = await start([
      '--directory', dir,
      '--graphql-port', port(first.state.graphql), '--storage-port', port(first.state.storage),
    ]);
    assert.deepEqual(await second.admin('/attachments'), before);
  });

  it('skips a torn last line of the log (a kill mid-write) and goes on', async () => {
    const log = path.join(dir, 'attachments.jsonl');
    const before = await second.admin('/attachments');
    await second.stop();
    second = null;
    fs.appendFileSync(log, '{"op":"add","att":{"id":99');
    const third = await start([
      '--directory', dir,
      '--graphql-port', port(first.state.graphql), '--storage-port', port(first.state.storage),
    ]);
    second = third;
    assert.deepEqual(await third.admin('/attachments'), before);
    const up = await third.upload('after-tear.csv', 'x', '7');
    const id = up.result.json.data.createFileAttachment.fileAttachment.id;
    assert.ok(Number(id) > Math.max(...before.map((a) => Number(a.id))));
    // The records after the torn line are whole (a fourth start reads them):
    // the torn line is the only one that does not parse.
    const lines = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
    const unreadable = lines.filter((l) => {
      try { JSON.parse(l); return false; } catch { return true; }
    });
    assert.deepEqual(unreadable, ['{"op":"add","att":{"id":99']);
    assert.equal(JSON.parse(lines[lines.length - 1]).att.filename, 'after-tear.csv');
  });
});

describe('without --directory', () => {
  it('is a new site each run: new tokens, no attachments', async () => {
    const a = await start();
    await a.upload('x.csv', 'x', '7');
    const b = await start();
    try {
      assert.notEqual(a.state.tokens.rw, b.state.tokens.rw);
      assert.deepEqual(await b.admin('/attachments'), []);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
