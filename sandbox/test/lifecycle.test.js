'use strict';
// Starting and stopping: the state file, loopback only, clean SIGTERM,
// bad flags, and the admin endpoints that list and reset state.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { start, SERVER } = require('../testkit/sandbox');

const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

describe('lifecycle', () => {
  it('writes the state file once ready, listens on 127.0.0.1, stops cleanly on SIGTERM', async () => {
    const sb = await start();
    const s = sb.state;
    assert.deepEqual(Object.keys(s).sort(), ['admin', 'directory', 'graphql', 'oauth', 'pid', 'storage', 'tokens']);
    assert.match(s.graphql, /^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    assert.match(s.storage, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(s.admin, s.graphql.replace('/graphql', '/admin'));
    assert.match(s.oauth.token_url, /\/realms\/api-keys\/protocol\/openid-connect\/token$/);
    assert.deepEqual(Object.keys(s.tokens).sort(), ['expired', 'ro', 'rw']);
    assert.equal(s.pid, sb.child.pid);
    assert.deepEqual(fs.readdirSync(sb.dir), ['state.json'], 'no temp file left beside it');
    // Ready means ready: the first request after the file appears succeeds.
    assert.equal((await sb.gql('{ run(id: 1) { id } }')).status, 200);

    const pid = sb.child.pid;
    assert.ok(fs.statSync(s.directory).isDirectory());
    const stateFile = sb.stateFile;
    assert.equal(await sb.stop(), 0);
    assert.equal(fs.existsSync(stateFile), false, 'state file removed');
    assert.equal(fs.existsSync(s.directory), false, 'its temp storage dir removed');
    assert.throws(() => process.kill(pid, 0));
  });

  it('uses the ports it is given', async () => {
    const [g, st] = [await freePort(), await freePort()];
    const sb = await start(['--graphql-port', String(g), '--storage-port', String(st)]);
    try {
      assert.equal(sb.state.graphql, `http://127.0.0.1:${g}/graphql`);
      assert.equal(sb.state.storage, `http://127.0.0.1:${st}`);
      assert.match((await sb.uploadUrl('a.txt')).uploadUrl, new RegExp(`^http://127\\.0\\.0\\.1:${st}/`));
    } finally {
      await sb.stop();
    }
  });

  it('--parent-pid: exits by itself when its parent is gone', async () => {
    // A parent that starts a sandbox, reports its pid once ready, and exits.
    const parent = `
      const { spawn } = require('child_process');
      const fs = require('fs');
      const state = process.argv[1];
      const c = spawn(process.execPath, [${JSON.stringify(SERVER)}, '--state', state, '--parent-pid', String(process.pid)],
        { stdio: 'ignore', detached: true });
      c.unref();
      const probe = () => fs.existsSync(state) ? console.log(JSON.parse(fs.readFileSync(state)).pid) : setTimeout(probe, 20);
      probe();`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-parent-'));
    const r = spawnSync(process.execPath, ['-e', parent, path.join(dir, 'state.json')], { encoding: 'utf8', timeout: 15000 });
    const pid = Number(r.stdout.trim());
    assert.ok(pid > 0, r.stderr);
    const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
    const deadline = Date.now() + 5000;
    while (alive() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const stillAlive = alive();
    if (stillAlive) process.kill(pid, 'SIGKILL');
    assert.equal(stillAlive, false, 'the orphaned sandbox exited');
    assert.equal(fs.existsSync(path.join(dir, 'state.json')), false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses unknown flags and bad knob values with exit 2', () => {
    for (const args of [['--nope'], ['--storage-503-rate', '3'], ['--graphql-port', 'x']]) {
      const r = spawnSync(process.execPath, [SERVER, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, /usage/);
    }
  });

  it('--print shows the endpoint and one token, and nothing of a presigned URL', async () => {
    const { spawn } = require('child_process');
    const child = spawn(process.execPath, [SERVER, '--print'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise((resolve) => child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ION_TOKEN=')) resolve();
    }));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(out, /ION_API_URL=http:\/\/127\.0\.0\.1:\d+\/graphql/);
    assert.equal((out.match(/sbx_(rw|ro|expired)_/g) || []).length, 1);
    assert.ok(!/X-Amz-Signature/.test(out));
  });

  it('admin lists attachments with the stored size and MD5, and reset clears everything', async () => {
    const sb = await start();
    try {
      const ds = await sb.admin('/dataset');
      const body = 'attachment body';
      const { result, url } = await sb.upload('list.txt', body, ds.part['3']);
      const id = result.json.data.createFileAttachment.fileAttachment.id;
      assert.deepEqual(await sb.admin('/attachments'), [{
        id, filename: 'list.txt', entityId: ds.part['3'], s3Key: url.s3Key, contentType: 'text/plain',
        size: body.length, md5: md5(body), etag: md5(body),
      }]);
      const c = await sb.admin('/counters');
      assert.equal(c.storage.puts, 1);
      assert.equal(c.graphql.fields.createFileAttachment, 1);

      assert.deepEqual(await sb.reset(), { ok: true });
      assert.deepEqual(await sb.admin('/attachments'), []);
      const after = await sb.admin('/counters');
      assert.equal(after.storage.puts, 0);
      assert.deepEqual(after.graphql.fields, {});
      // The stored object is gone too, and storage still works.
      const gone = await sb.register({ filename: 'x', s3Key: url.s3Key, s3Etag: md5(body), entityId: '7', validateUpload: true });
      assert.match(gone.json.errors[0].message, /not found/);
      await sb.upload('again.txt', 'again', '7');
      assert.equal((await sb.admin('/attachments')).length, 1);
    } finally {
      await sb.stop();
    }
  });
});
