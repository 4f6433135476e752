'use strict';
// What a sandbox keeps in --directory so that a new process started on the
// same ports and directory is the same ION to its clients (a restart, not a
// new site): the credentials, and a log of issued keys and attachments.
// Stored objects are s3rver's own files in DIR/objects.
//
//   credentials.json   the fixed tokens, the JWT signing key and the client
//                      secret (mode 0600), made by the first run, reused after
//   attachments.jsonl  one JSON line per change, written (write(2), no
//                      buffering) before the GraphQL answer leaves, so a
//                      killed sandbox loses nothing it answered; replayed at
//                      start. A torn last line (a kill mid-write) is skipped.

const fs = require('fs');
const path = require('path');

// The saved credentials, or those made by create() (then saved).
function loadCredentials(dir, create) {
  const file = path.join(dir, 'credentials.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err.code !== 'ENOENT') throw new Error(`${file}: ${err.message}`);
  }
  const creds = create();
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(creds)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return creds;
}

class AttachmentLog {
  constructor(dir) {
    this.file = path.join(dir, 'attachments.jsonl');
  }

  // The records written so far, in order.
  read() {
    let text;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if (err.code === 'ENOENT') return [];
      throw err;
    }
    const out = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // a torn line from a kill mid-write: what it said never reached a client
      }
    }
    return out;
  }

  open() {
    // A torn last line must not swallow the next record: start on a new line.
    const size = fs.existsSync(this.file) ? fs.statSync(this.file).size : 0;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const rd = fs.openSync(this.file, 'r');
      fs.readSync(rd, last, 0, 1, size - 1);
      fs.closeSync(rd);
      this.torn = last[0] !== 0x0a;
    }
    this.fd = fs.openSync(this.file, 'a', 0o600);
    if (this.torn) fs.writeSync(this.fd, '\n');
  }

  append(record) {
    fs.writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  close() {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

module.exports = { loadCredentials, AttachmentLog };
