'use strict';
// What ION would keep in its database: issued upload keys and registered
// attachments. In memory; POST /admin/reset clears it. With a log (--directory,
// see persist.js) every change is also written down and replayed at start.
// Sized for a back-fill of a million files: attachments by column
// (attachment-table.js), issued keys mapped to an interned content type, and
// counts (stats) that need no list.

const { AttachmentTable } = require('./attachment-table');

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
    if (r.op === 'issue') this.issued.set(r.s3Key, this.table.typeOf(r.contentType));
    else if (r.op === 'add') {
      this.table.put(r.att);
      this.nextId = Math.max(this.nextId, r.att.id + 1);
    } else if (r.op === 'remove') this.table.remove(r.id);
    else if (r.op === 'reset') this.reset();
  }

  record(r) {
    if (this.log) this.log.append(r);
  }

  reset() {
    this.table = new AttachmentTable(this.nextId);
    this.issued = new Map(); // s3Key -> content type (its index in the table's interned list)
    this.record({ op: 'reset' });
  }

  issue(s3Key, filename, contentType) {
    this.issued.set(s3Key, this.table.typeOf(contentType));
    this.record({ op: 'issue', s3Key, filename, contentType });
  }

  add({ filename, s3Key, s3Etag, entityId, contentType }) {
    // registeredAtMs: when the registration took effect (epoch ms, the
    // machine's wall clock), for benchmarks that time a file's way in.
    const att = {
      id: this.nextId++, filename, s3Key, etag: s3Etag, entityId: String(entityId), contentType,
      registeredAtMs: Date.now(),
    };
    this.table.put(att);
    this.record({ op: 'add', att });
    return att;
  }

  // An attachment deleted in ION (admin): true when there was one.
  remove(id) {
    const had = this.table.remove(id);
    if (had) this.record({ op: 'remove', id });
    return had;
  }

  // The content type an issued key was given, or null for a key never issued.
  issuedContentType(s3Key) {
    const t = this.issued.get(s3Key);
    return t === undefined ? null : this.table.types[t];
  }

  get(id) {
    return this.table.get(id);
  }

  // { attachments, issued }: how many are registered and how many upload
  // keys were issued, without listing them.
  stats() {
    return { attachments: this.table.size, issued: this.issued.size };
  }

  // Every attachment, in id order: for the admin routes that list them.
  list() {
    return [...this.table];
  }

  close() {
    if (this.log) this.log.close();
  }
}

module.exports = { Attachments };
