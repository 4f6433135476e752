'use strict';
// The hostile storage answers (see hostile.js), given by the gate to a PUT
// that passed its checks. Each takes (gate, req, res, origin) and owns the
// exchange from there.

const { BACKTRACK_BYTES, BACKTRACK_RETRY_AFTER } = require('./hostile');

const ETAG_HUGE_LENGTH = 100000;
const STALL_AFTER = 64 * 1024;
const SLOWLORIS_PREFIX = 'HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nX-Slowloris: ';

// Read and discard the body, then call next (a refusal never races the upload).
function drain(req, next) {
  if (req.complete) return next();
  req.on('end', next);
  req.on('error', () => {});
  return req.resume();
}

const modes = {
  // 307 to the same URL plus a marker the gate recognises: a client that
  // follows is counted (redirects_followed) and its PUT then stored normally.
  redirect_put(gate, req, res, origin) {
    const id = gate.addRedirect();
    const location = `${origin}${req.url}${req.url.includes('?') ? '&' : '?'}sandbox-redirect=${id}`;
    gate.refuse(req, res, 'TemporaryRedirect', { Endpoint: new URL(origin).host }, { Location: location });
  },

  // Stored as usual; the ETag header is a quoted "hex digest" ETAG_HUGE_LENGTH
  // characters long, quotes included.
  etag_huge(gate, req, res) {
    gate.forward(req, res, req, false, () => `"${'0'.repeat(ETAG_HUGE_LENGTH - 2)}"`);
  },

  // Nothing stored. After the body, the status line and an endless header
  // come one byte a second; the timer dies with the socket, so stopping the
  // sandbox (which destroys every connection) is not held up.
  slowloris(gate, req) {
    drain(req, () => {
      const socket = req.socket;
      let i = 0;
      const next = () => (i < SLOWLORIS_PREFIX.length ? SLOWLORIS_PREFIX[i++] : 'z');
      socket.write(next());
      const timer = setInterval(() => { if (!socket.destroyed) socket.write(next()); }, 1000);
      socket.once('close', () => clearInterval(timer));
      gate.log(`storage PUT ${req.url.split('?')[0]} -> slowloris`);
    });
  },

  // Reads STALL_AFTER bytes of the body (all of a smaller one), then neither
  // reads nor answers: the client's send blocks once the socket buffers fill.
  stall_body(gate, req) {
    let seen = 0;
    req.on('data', (chunk) => {
      seen += chunk.length;
      if (seen >= STALL_AFTER) req.pause();
    });
    req.on('error', () => {});
    gate.log(`storage PUT ${req.url.split('?')[0]} -> stalled`);
  },
};

// <Error><Code> and 1 MiB of spaces, never closed: `<Code>%s*([^<]-)%s*</Code>`
// spun for more than a minute on 3,000 of them.
const S3_ERROR_BACKTRACK = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${' '.repeat(BACKTRACK_BYTES)}`;

modes.s3_error_backtrack = (gate, req, res) => {
  drain(req, () => {
    res.writeHead(500, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(S3_ERROR_BACKTRACK) });
    res.end(S3_ERROR_BACKTRACK);
    gate.done(req, 500);
  });
};

// 503 SlowDown, nothing stored, with a Retry-After no pattern should chew on.
modes.slowdown_retry_after_backtrack = (gate, req, res) => {
  gate.refuse(req, res, 'SlowDown', {}, { 'Retry-After': BACKTRACK_RETRY_AFTER });
};

module.exports = { modes, S3_ERROR_BACKTRACK, ETAG_HUGE_LENGTH, STALL_AFTER, SLOWLORIS_PREFIX };
