'use strict';
// --secrets-log: every token, the client secret, each issued OAuth token and
// each presigned URL's signature are written down, one per line, for the
// test run's secrets scan (scripts/scan_secrets.sh).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { start } = require('../testkit/sandbox');

describe('--secrets-log', () => {
  let sb;
  let dir;
  let file;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-secrets-'));
    file = path.join(dir, 'secrets.log');
    sb = await start(['--secrets-log', file]);
  });
  after(async () => {
    await sb.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const lines = () => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);

  it('lists the fixed tokens and the client secret at start, in a 0600 file', () => {
    const l = lines();
    for (const t of Object.values(sb.state.tokens)) assert.ok(l.includes(t));
    assert.ok(l.includes(sb.state.oauth.client_secret));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  });

  it('adds each presigned upload URL signature as it is issued', async () => {
    const before = lines().length;
    const { uploadUrl } = await sb.uploadUrl('a.txt');
    const sig = new URL(uploadUrl).searchParams.get('X-Amz-Signature');
    assert.match(sig, /^[0-9a-f]{64}$/);
    assert.ok(lines().includes(sig));
    assert.equal(lines().length, before + 1);
  });
});
