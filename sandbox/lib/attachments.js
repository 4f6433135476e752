'use strict';
// What ION would keep in its database: issued upload keys and registered
// attachments. In memory; POST /admin/reset clears it. With a log (--directory,
// see persist.js) every change is also written down and replayed at start.

class Attachments {
  constructor({ log } = {}) {
    this.nextId = 4242; // ids never repeat within one sandbox's life, even across resets
    this.reset();
    if (log) {
      for (const r of log.read()) this.replay(r);
      log.open();
      this.log = log;
    }
  }

  replay(r) {
    if (r.op === 'issue') this.issued.set(r.s3Key, { filename: r.filename, contentType: r.contentType });
    else if (r.op === 'add') {
      this.byId.set(r.att.id, r.att);
      this.nextId = Math.max(this.nextId, r.att.id + 1);
    } else if (r.op === 'remove') this.byId.delete(r.id);
    else if (r.op === 'reset') this.reset();
  }

  record(r) {
    if (this.log) this.log.append(r);
  }

  reset() {
    this.byId = new Map();
    this.issued = new Map(); // s3Key -> { filename, contentType }
    this.record({ op: 'reset' });
  }

  issue(s3Key, filename, contentType) {
    this.issued.set(s3Key, { filename, contentType });
    this.record({ op: 'issue', s3Key, filename, contentType });
  }

  add({ filename, s3Key, s3Etag, entityId, contentType }) {
    // registeredAtMs: when the registration took effect (epoch ms, the
    // machine's wall clock), for benchmarks that time a file's way in.
    const att = {
      id: this.nextId++, filename, s3Key, etag: s3Etag, entityId: String(entityId), contentType,
      registeredAtMs: Date.now(),
    };
    this.byId.set(att.id, att);
    this.record({ op: 'add', att });
    return att;
  }

  // An attachment deleted in ION (admin): true when there was one.
  remove(id) {
    const had = this.byId.delete(id);
    if (had) this.record({ op: 'remove', id });
    return had;
  }

  get(id) {
    return this.byId.get(id) || null;
  }

  // { attachments, issued }: how many are registered and how many upload
  // keys were issued, without listing them.
  stats() {
    return { attachments: this.byId.size, issued: this.issued.size };
  }

  list() {
    return [...this.byId.values()];
  }

  close() {
    if (this.log) this.log.close();
  }
}

module.exports = { Attachments };
