'use strict';
// /admin: what specs and benchmarks look at and steer. JSON, no auth: the
// sandbox listens on loopback only.

const { readBody, sendJson } = require('./http-util');

function createAdminHandler({ attachments, storage, counters, faults, hostile, outage, targets, log }) {
  // At most HEAD_PARALLEL HEADs at a time: a list of thousands would
  // otherwise open as many connections to storage at once.
  const HEAD_PARALLEL = 16;

  async function mapLimited(list, fn) {
    const out = new Array(list.length);
    let next = 0;
    async function worker() {
      while (next < list.length) {
        const i = next++;
        out[i] = await fn(list[i]);
      }
    }
    await Promise.all(Array.from({ length: Math.min(HEAD_PARALLEL, list.length) }, worker));
    return out;
  }

  async function listAttachments() {
    return mapLimited(attachments.list(), async (a) => {
      const head = await storage.head(a.s3Key);
      return {
        id: a.id,
        filename: a.filename,
        entityId: a.entityId,
        s3Key: a.s3Key,
        contentType: a.contentType,
        // Of the stored object: s3rver's ETag is the MD5 of the bytes it wrote.
        size: head ? head.size : null,
        md5: head ? head.etag : null,
        // As registered by the client.
        etag: a.etag,
      };
    });
  }

  async function readJson(req) {
    const raw = (await readBody(req, 64 * 1024)).toString('utf8');
    return raw.trim() === '' ? {} : JSON.parse(raw);
  }

  const routes = {
    'GET /admin/attachments': async () => [200, await listAttachments()],
    // Without the HEADs of /admin/attachments: cheap to ask often, with
    // thousands registered.
    'GET /admin/registrations': async () => [200, attachments.list().map((a) => ({
      id: a.id, filename: a.filename, entityId: a.entityId, s3Key: a.s3Key, registeredAtMs: a.registeredAtMs ?? null,
    }))],
    // Counts, not lists: cheap with a million attachments registered.
    'GET /admin/stats': async () => [200, attachments.stats()],
    'GET /admin/counters': async () => [200, counters.snapshot()],
    'GET /admin/dataset': async () => [200, targets.toJSON()],
    // A run that appears (or is renamed) while a client watches for it.
    'POST /admin/runs': async (req) => [200, targets.createRun(await readJson(req))],
    'POST /admin/runs/update': async (req) => [200, targets.updateRun(await readJson(req))],
    'GET /admin/faults': async () => [200, { ...faults.config }],
    'POST /admin/faults': async (req) => {
      const effective = faults.update(await readJson(req));
      log(`faults set: ${JSON.stringify(effective)}`);
      return [200, effective];
    },
    'GET /admin/hostile': async () => [200, hostile.state()],
    'POST /admin/hostile': async (req) => {
      const state = hostile.arm(await readJson(req));
      log(`hostile: ${JSON.stringify(state)}`);
      return [200, state];
    },
    'GET /admin/outage': async () => [200, outage.state()],
    'POST /admin/outage': async (req) => [200, await outage.set(await readJson(req))],
    // Tampering, for `ion-upload verify` specs: what an auditor must catch.
    'POST /admin/objects/put': async (req) => {
      const { s3Key, content } = await readJson(req);
      if (typeof s3Key !== 'string' || typeof content !== 'string') throw new Error('expected {s3Key, content}');
      return [200, await storage.overwrite(s3Key, Buffer.from(content, 'utf8'))];
    },
    'POST /admin/objects/delete': async (req) => {
      const { s3Key } = await readJson(req);
      if (typeof s3Key !== 'string') throw new Error('expected {s3Key}');
      await storage.remove(s3Key);
      return [200, { ok: true }];
    },
    'POST /admin/attachments/delete': async (req) => {
      const { id } = await readJson(req);
      return [200, { deleted: attachments.remove(Number(id)) }];
    },
    'POST /admin/reset': async () => {
      await outage.endAll();
      attachments.reset();
      counters.reset();
      faults.reset();
      hostile.clear();
      targets.reset();
      await storage.reset();
      return [200, { ok: true }];
    },
  };

  return async function handle(req, res) {
    const path = req.url.split('?')[0].replace(/\/+$/, '');
    const route = routes[`${req.method} ${path}`];
    if (!route) return sendJson(res, 404, { error: `no admin route ${req.method} ${path}` });
    try {
      const [status, value] = await route(req);
      return sendJson(res, status, value);
    } catch (err) {
      return sendJson(res, 400, { error: err.message });
    }
  };
}

module.exports = { createAdminHandler };
