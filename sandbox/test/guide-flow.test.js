'use strict';
// The guide's flow, step by step with curl as the guide shows it, and the
// guide's end-to-end example (bench/reference/guide_client.py), against the
// sandbox. The attachment must land on the run step's entity with the MD5
// of the bytes sent.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { start } = require('../testkit/sandbox');

const GUIDE_CLIENT = path.join(__dirname, '..', '..', 'bench', 'reference', 'guide_client.py');
const PYTHON = '/usr/bin/python3';

const md5 = (buf) => crypto.createHash('md5').update(buf).digest('hex');

function curl(args, input) {
  return execFileSync('curl', ['-sS', ...args], { input, encoding: 'utf8' });
}

function curlGql(sb, query, variables) {
  const out = curl([
    '-X', 'POST', sb.state.graphql,
    '-H', `Authorization: Bearer ${sb.tokens.rw}`,
    '-H', 'Content-Type: application/json',
    '--data-binary', '@-',
  ], JSON.stringify({ query, variables }));
  return JSON.parse(out);
}

describe('the guide\'s flow', () => {
  let sb;
  let dir;
  before(async () => {
    sb = await start();
    dir = fs.mkdtempSync(path.join(sb.dir, 'files-'));
  });
  after(() => sb.stop());

  it('works with curl step by step and attaches to the right entity with the right MD5', async () => {
    const file = path.join(dir, 'inspection-photo-2026-04-26.jpg');
    const bytes = crypto.randomBytes(64 * 1024 + 17);
    fs.writeFileSync(file, bytes);

    // Step 1: a signed upload URL.
    const step1 = curlGql(sb, `query RequestUpload($filename: String!) {
      requestFileUploadUrl(filename: $filename) { uploadUrl s3Key contentType } }`,
    { filename: 'inspection-photo-2026-04-26.jpg' }).data.requestFileUploadUrl;
    assert.equal(step1.contentType, 'image/jpeg');
    assert.match(step1.s3Key, /^uploads\/[^/]+\/inspection-photo-2026-04-26\.jpg$/);
    assert.match(step1.uploadUrl, /X-Amz-Signature=/);

    // Step 2: PUT with -i, the ETag from the response headers.
    const response = curl(['-X', 'PUT', step1.uploadUrl, '-H', `Content-Type: ${step1.contentType}`,
      '--data-binary', `@${file}`, '-i']);
    assert.match(response, /^HTTP\/1\.1 200 OK\r\n/);
    const etagLine = /^ETag: (.*)\r$/mi.exec(response);
    assert.ok(etagLine, 'the PUT response has an ETag header');
    assert.match(etagLine[1], /^"[0-9a-f]{32}"$/, 'quoted hex MD5, as S3 sends it');
    const s3Etag = etagLine[1].replace(/"/g, '');
    assert.equal(s3Etag, md5(bytes));

    // The run step's entity.id, not its id.
    const runStep = curlGql(sb, 'query GetRunStepEntity($runStepId: Int!) { runStep(id: $runStepId) { id entity { id } } }',
      { runStepId: 123 }).data.runStep;
    assert.equal(runStep.id, 123);
    assert.notEqual(runStep.entity.id, '123');

    // Step 3: register.
    const created = curlGql(sb, `mutation RegisterUpload($input: CreateFileAttachmentInput!) {
      createFileAttachment(input: $input) { fileAttachment { id filename downloadUrl entityId } } }`,
    { input: { filename: 'inspection-photo-2026-04-26.jpg', s3Key: step1.s3Key, s3Etag, entityId: runStep.entity.id, validateUpload: true } });
    assert.equal(created.errors, undefined);
    const att = created.data.createFileAttachment.fileAttachment;
    assert.equal(att.entityId, runStep.entity.id);

    // Verify: read it back, download through the fresh URL.
    const verify = curlGql(sb, 'query VerifyUpload($id: Int!) { fileAttachment(id: $id) { id filename downloadUrl entityId } }',
      { id: att.id }).data.fileAttachment;
    assert.equal(verify.filename, 'inspection-photo-2026-04-26.jpg');
    const downloaded = execFileSync('curl', ['-sS', '--fail', verify.downloadUrl]);
    assert.equal(md5(downloaded), md5(bytes));

    const listed = (await sb.admin('/attachments')).find((a) => a.id === att.id);
    assert.equal(listed.entityId, runStep.entity.id);
    assert.equal(listed.md5, md5(bytes));
    assert.equal(listed.size, bytes.length);
  });

  it('works with the guide\'s end-to-end example (reference client, httpx)', async (t) => {
    const probe = spawnSync(PYTHON, ['-c', 'import httpx'], { encoding: 'utf8' });
    if (probe.status !== 0) return t.skip(`${PYTHON} has no httpx (apt-get install python3-httpx)`);
    await sb.reset();
    const files = ['log.txt', 'data.csv', 'blob.bin'].map((name, i) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, crypto.randomBytes(1000 * (i + 1)));
      return p;
    });
    const run = spawnSync(PYTHON, [GUIDE_CLIENT, '--run-step', '42', ...files], {
      encoding: 'utf8',
      env: { ...process.env, ION_API_URL: sb.state.graphql, ION_TOKEN: sb.tokens.rw },
    });
    assert.equal(run.status, 0, run.stderr);
    const results = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(results.length, 3);
    const dataset = await sb.admin('/dataset');
    const listed = await sb.admin('/attachments');
    for (const r of results) {
      const a = listed.find((x) => x.id === r.id);
      assert.equal(a.entityId, dataset.runStep['42']);
      assert.equal(a.md5, md5(fs.readFileSync(r.path)));
    }
    assert.deepEqual(listed.map((a) => a.contentType).sort(),
      ['application/octet-stream', 'text/csv', 'text/plain']);
  });
});
