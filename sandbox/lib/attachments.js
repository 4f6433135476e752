'use strict';
// What ION would keep in its database: issued upload keys and registered
// attachments. In memory; POST /admin/reset clears it.

class Attachments {
  constructor() {
    this.nextId = 4242; // ids never repeat within one sandbox's life, even across resets
    this.reset();
  }

  reset() {
    this.byId = new Map();
    this.issued = new Map(); // s3Key -> { filename, contentType }
  }

  issue(s3Key, filename, contentType) {
    this.issued.set(s3Key, { filename, contentType });
  }

  add({ filename, s3Key, s3Etag, entityId, contentType }) {
    const att = { id: this.nextId++, filename, s3Key, etag: s3Etag, entityId: String(entityId), contentType };
    this.byId.set(att.id, att);
    return att;
  }

  get(id) {
    return this.byId.get(id) || null;
  }

  list() {
    return [...this.byId.values()];
  }
}

module.exports = { Attachments };
