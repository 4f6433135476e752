'use strict';
// Bearer tokens. Three fixed kinds per run (rw, ro, expired) plus the tokens
// the OAuth endpoint issues, which are read-write and really expire.

const crypto = require('crypto');

function randomToken(prefix) {
  return `${prefix}_${crypto.randomBytes(18).toString('base64url')}`;
}

// JWT-shaped like a Keycloak access token, so a client that peeks at the
// shape is not surprised. Signed with a per-run key nobody else knows.
function jwt(claims, key) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}`;
  const sig = crypto.createHmac('sha256', key).update(body).digest('base64url');
  return `${body}.${sig}`;
}

class Tokens {
  constructor() {
    this.fixed = {
      rw: randomToken('sbx_rw'),
      ro: randomToken('sbx_ro'),
      expired: randomToken('sbx_expired'),
    };
    this.signingKey = crypto.randomBytes(32);
    // token -> { kind: 'rw'|'ro', expiresAt: ms or Infinity }
    this.known = new Map([
      [this.fixed.rw, { kind: 'rw', expiresAt: Infinity }],
      [this.fixed.ro, { kind: 'ro', expiresAt: Infinity }],
      [this.fixed.expired, { kind: 'rw', expiresAt: 0 }],
    ]);
  }

  issue(clientId, lifetimeS) {
    const now = Date.now();
    const exp = now + lifetimeS * 1000;
    const token = jwt({
      sub: clientId, azp: clientId, iat: Math.floor(now / 1000), exp: Math.floor(exp / 1000),
      jti: crypto.randomUUID(), scope: 'sandbox',
    }, this.signingKey);
    this.known.set(token, { kind: 'rw', expiresAt: exp });
    return token;
  }

  // { ok: true, kind } or { ok: false, message } for the 401 body.
  check(authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization || '');
    if (!m) return { ok: false, message: 'Unauthorized: missing bearer token' };
    const entry = this.known.get(m[1]);
    if (!entry) return { ok: false, message: 'Unauthorized: invalid token' };
    if (Date.now() >= entry.expiresAt) return { ok: false, message: 'Unauthorized: token expired' };
    return { ok: true, kind: entry.kind };
  }
}

module.exports = { Tokens };
