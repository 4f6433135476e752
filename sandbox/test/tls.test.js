'use strict';
// --tls: https on the API and storage ports with a CA made at start, the CA
// in the state file, https presigned URLs, and the plain storage port the
// downgrade modes point at.

const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const { start } = require('../testkit/sandbox');

const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');
const QUERY = JSON.stringify({ query: '{ runStep(id: 1) { id entity { id } } }' });

// curl's exit code and output (never throws).
function curl(args) {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', ...args], (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

describe('--tls', () => {
  let sb;
  before(async () => { sb = await start(['--tls']); });
  after(() => sb.stop());
  beforeEach(() => sb.reset());

  const gqlArgs = () => ['-H', `Authorization: Bearer ${sb.tokens.rw}`, '-H', 'Content-Type: application/json', '--data-binary', QUERY];

  it('names https endpoints, the CA file and the plain storage port in the state file', () => {
    const s = sb.state;
    assert.match(s.graphql, /^https:\/\/127\.0\.0\.1:\d+\/graphql$/);
    assert.match(s.storage, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(s.admin, /^https:/);
    assert.match(s.oauth.token_url, /^https:/);
    assert.match(s.storage_plain, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(s.storage_plain, s.storage.replace('https', 'http'));
    assert.match(fs.readFileSync(s.ca_file, 'utf8'), /^-----BEGIN CERTIFICATE-----/);
  });

  it('curl with --cacert succeeds, for 127.0.0.1 and for localhost', async () => {
    const r = await curl(['--cacert', sb.state.ca_file, ...gqlArgs(), sb.state.graphql]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { data: { runStep: { id: 1, entity: { id: '7' } } } });
    const l = await curl(['--cacert', sb.state.ca_file, ...gqlArgs(), sb.state.graphql.replace('127.0.0.1', 'localhost')]);
    assert.equal(l.code, 0, l.stderr);
  });

  it('curl without the CA fails with a certificate error, on both ports', async () => {
    for (const url of [sb.state.graphql, `${sb.state.storage}/ion-files/x`]) {
      const r = await curl([...gqlArgs(), url]);
      assert.equal(r.code, 60, `${url}: ${r.stderr}`); // CURLE_PEER_FAILED_VERIFICATION
      assert.match(r.stderr, /SSL certificate problem/);
    }
  });

  it('presigns https URLs, and the three steps work over TLS (curl PUT included)', async () => {
    const u = await sb.uploadUrl('t.txt');
    assert.ok(u.uploadUrl.startsWith(`${sb.state.storage}/`));
    const put = await curl(['--cacert', sb.state.ca_file, '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT',
      '-H', `Content-Type: ${u.contentType}`, '--data-binary', 'over tls', u.uploadUrl]);
    assert.equal(put.stdout, '200', put.stderr);
    const { result } = await sb.upload('u.txt', 'via node', '7');
    const fa = result.json.data.createFileAttachment.fileAttachment;
    assert.ok(fa.downloadUrl.startsWith(`${sb.state.storage}/`));
    const got = await curl(['--cacert', sb.state.ca_file, fa.downloadUrl]);
    assert.equal(got.stdout, 'via node');
  });

  it('upload_url_http_downgrade: http on the plain port for `count` URLs, which a client could follow', async () => {
    await sb.hostile('upload_url_http_downgrade', 2);
    for (let i = 0; i < 2; i++) {
      const u = await sb.uploadUrl(`d${i}.txt`);
      assert.ok(u.uploadUrl.startsWith(`${sb.state.storage_plain}/`), 'downgraded');
      const put = await sb.put(u.uploadUrl, 'plain', { 'Content-Type': u.contentType });
      assert.equal(put.status, 200, put.body);
      const r = await sb.register({ filename: 'd', s3Key: u.s3Key, s3Etag: md5('plain'), entityId: '7', validateUpload: true });
      assert.equal(r.json.errors, undefined);
    }
    assert.deepEqual(await sb.admin('/hostile'), { mode: null });
    assert.equal((await sb.admin('/counters')).graphql.hostile.upload_url_http_downgrade, 2);
    assert.ok((await sb.uploadUrl('n.txt')).uploadUrl.startsWith(`${sb.state.storage}/`));
  });

  it('download_url_http_downgrade: downloadUrl on the plain port for `count` answers', async () => {
    const { result } = await sb.upload('g.txt', 'download me', '7');
    const id = result.json.data.createFileAttachment.fileAttachment.id;
    const read = async () => (await sb.gql('query($id: Int!) { fileAttachment(id: $id) { downloadUrl } }', { id })).json.data.fileAttachment.downloadUrl;
    await sb.hostile('download_url_http_downgrade', 2);
    for (let i = 0; i < 2; i++) {
      const url = await read();
      assert.ok(url.startsWith(`${sb.state.storage_plain}/`), 'downgraded');
      const got = await curl([url]);
      assert.equal(got.stdout, 'download me', got.stderr);
    }
    assert.deepEqual(await sb.admin('/hostile'), { mode: null });
    assert.ok((await read()).startsWith(`${sb.state.storage}/`));
  });

  it('removes its certificates when it stops', async () => {
    const other = await start(['--tls']);
    const ca = other.state.ca_file;
    assert.ok(fs.existsSync(ca));
    assert.equal(await other.stop(), 0);
    assert.equal(fs.existsSync(ca), false);
  });
});
