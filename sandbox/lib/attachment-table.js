'use strict';
// Registered attachments, stored by column so that a back-fill of 1,000,000
// files fits in a few hundred MB: a slot per id (ids are handed out in order),
// typed arrays for the fixed-size fields, and the usual shapes (an etag of 32
// hex digits, an s3Key "uploads/<24 hex>/<name>", an entity id 1..2^32) packed
// as bytes and numbers. Whatever does not fit a shape is kept as given, in a
// side map: a tampering spec's odd value comes back unchanged.

// One path segment: a filename with slashes would otherwise add key levels.
const keySafe = (name) => name.replace(/[/\\]/g, '_');

const ETAG = /^[0-9a-f]{32}$/;
const ISSUED_KEY = /^uploads\/([0-9a-f]{24})\/(.*)$/s;
const ENTITY = /^[1-9][0-9]{0,8}$/;

class AttachmentTable {
  constructor(firstId) {
    this.firstId = firstId;
    this.slots = 0; // used, removed ones included
    this.size = 0; // live
    this.filename = []; // null: removed
    this.types = []; // content types, interned
    this.typeIndex = new Map();
    this.odd = { etag: new Map(), s3Key: new Map(), entityId: new Map(), type: new Map() };
    this.grow(1024);
  }

  grow(capacity) {
    const copy = (Kind, old, width) => {
      const a = Kind === Buffer ? Buffer.alloc(capacity * width) : new Kind(capacity * width);
      if (old) a.set(old);
      return a;
    };
    this.etag = copy(Buffer, this.etag, 16);
    this.keyHex = copy(Buffer, this.keyHex, 12);
    this.entity = copy(Uint32Array, this.entity, 1);
    this.type = copy(Uint8Array, this.type, 1);
    this.at = copy(Float64Array, this.at, 1);
    this.capacity = capacity;
  }

  typeOf(contentType) {
    let i = this.typeIndex.get(contentType);
    if (i === undefined && this.types.length < 255) {
      i = this.types.length;
      this.types.push(contentType);
      this.typeIndex.set(contentType, i);
    }
    return i;
  }

  // Stores att ({ id, filename, s3Key, etag, entityId, contentType,
  // registeredAtMs }); ids must grow (a gap is a run of removed slots).
  put(att) {
    if (this.slots === 0 && this.size === 0) this.firstId = att.id;
    const slot = att.id - this.firstId;
    if (!Number.isInteger(slot) || slot < this.slots) throw new Error(`attachment id ${att.id} out of order`);
    while (slot >= this.capacity) this.grow(this.capacity * 2);
    for (let s = this.slots; s < slot; s++) this.filename[s] = null;
    this.slots = slot + 1;
    this.size++;
    this.filename[slot] = att.filename;
    const { odd } = this;
    if (typeof att.etag === 'string' && ETAG.test(att.etag)) this.etag.write(att.etag, slot * 16, 'hex');
    else odd.etag.set(slot, att.etag);
    const m = typeof att.s3Key === 'string' && typeof att.filename === 'string' && ISSUED_KEY.exec(att.s3Key);
    if (m && m[2] === keySafe(att.filename)) this.keyHex.write(m[1], slot * 12, 'hex');
    else odd.s3Key.set(slot, att.s3Key);
    if (typeof att.entityId === 'string' && ENTITY.test(att.entityId)) this.entity[slot] = Number(att.entityId);
    else odd.entityId.set(slot, att.entityId);
    const t = this.typeOf(att.contentType);
    if (t === undefined) odd.type.set(slot, att.contentType);
    else this.type[slot] = t;
    this.at[slot] = typeof att.registeredAtMs === 'number' ? att.registeredAtMs : NaN;
  }

  slotOf(id) {
    const slot = id - this.firstId;
    return Number.isInteger(slot) && slot >= 0 && slot < this.slots && this.filename[slot] !== null ? slot : -1;
  }

  get(id) {
    const slot = this.slotOf(id);
    return slot < 0 ? null : this.read(slot);
  }

  read(slot) {
    const { odd } = this;
    const filename = this.filename[slot];
    const hex = (bytes, width) => bytes.subarray(slot * width, (slot + 1) * width).toString('hex');
    const at = this.at[slot];
    return {
      id: this.firstId + slot,
      filename,
      s3Key: odd.s3Key.has(slot) ? odd.s3Key.get(slot) : `uploads/${hex(this.keyHex, 12)}/${keySafe(filename)}`,
      etag: odd.etag.has(slot) ? odd.etag.get(slot) : hex(this.etag, 16),
      entityId: odd.entityId.has(slot) ? odd.entityId.get(slot) : String(this.entity[slot]),
      contentType: odd.type.has(slot) ? odd.type.get(slot) : this.types[this.type[slot]],
      registeredAtMs: Number.isNaN(at) ? undefined : at,
    };
  }

  remove(id) {
    const slot = this.slotOf(id);
    if (slot < 0) return false;
    this.filename[slot] = null;
    for (const m of Object.values(this.odd)) m.delete(slot);
    this.size--;
    return true;
  }

  // Live attachments in id order, one at a time (a list of a million is
  // only made when it is asked for).
  * [Symbol.iterator]() {
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.filename[slot] !== null) yield this.read(slot);
    }
  }
}

module.exports = { AttachmentTable, keySafe };
