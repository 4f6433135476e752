'use strict';
// GET /admin/registrations: each attachment with the time its registration
// took effect, taken between the request's sending and its answer; cheap
// (no HEADs), cleared by reset, kept across a restart.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { start } = require('../testkit/sandbox');

describe('GET /admin/registrations', () => {
  let sb;
  before(async () => { sb = await start(); });
  after(async () => { if (sb) await sb.stop(); });

  it('lists each attachment with the time its registration took effect', async () => {
    const ds = await sb.admin('/dataset');
    const t0 = Date.now();
    const first = await sb.upload('a.csv', 'a\n', ds.runStep['1']);
    const t1 = Date.now();
    const second = await sb.upload('b.csv', 'b\n', ds.runStep['2']);
    const t2 = Date.now();
    const ids = [first, second].map((u) => u.result.json.data.createFileAttachment.fileAttachment.id);
    const list = await sb.admin('/registrations');
    assert.deepEqual(list.map((r) => [r.id, r.filename, r.entityId, r.s3Key]), [
      [ids[0], 'a.csv', ds.runStep['1'], first.url.s3Key],
      [ids[1], 'b.csv', ds.runStep['2'], second.url.s3Key],
    ]);
    // The upload helper asks for a URL and PUTs before it registers, so
    // each registration lies inside its own helper call's span.
    assert.ok(list[0].registeredAtMs >= t0 && list[0].registeredAtMs <= t1, JSON.stringify([t0, list[0], t1]));
    assert.ok(list[1].registeredAtMs >= t1 && list[1].registeredAtMs <= t2, JSON.stringify([t1, list[1], t2]));
    // The list of /admin/attachments is unchanged by it.
    assert.ok(!('registeredAtMs' in (await sb.admin('/attachments'))[0]));
  });

  it('is emptied by reset, and counts no GraphQL request', async () => {
    await sb.reset();
    assert.deepEqual(await sb.admin('/registrations'), []);
    assert.equal((await sb.admin('/counters')).graphql.requests, 0);
  });
});

describe('registration times across a restart', () => {
  it('are kept by --directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-registrations-'));
    try {
      const first = await start(['--directory', dir]);
      await first.upload('kept.csv', 'k\n', '7');
      const before = await first.admin('/registrations');
      await first.stop();
      const second = await start(['--directory', dir]);
      try {
        assert.deepEqual(await second.admin('/registrations'), before);
        assert.equal(typeof before[0].registeredAtMs, 'number');
      } finally {
        await second.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
