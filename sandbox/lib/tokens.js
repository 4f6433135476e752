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

// The claims of a token signed with key, or null (forged, or not a JWT).
function verifyJwt(token, key) {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const want = crypto.createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2], 'base64url');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) return null;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

class Tokens {
  // saved: what toJSON() gave a run before (--directory), to be the same
  // site again after a restart; new tokens and key otherwise.
  constructor(saved) {
    this.fixed = saved ? { ...saved.fixed } : {
      rw: randomToken('sbx_rw'),
      ro: randomToken('sbx_ro'),
      expired: randomToken('sbx_expired'),
    };
    this.signingKey = saved ? Buffer.from(saved.signing_key, 'hex') : crypto.randomBytes(32);
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

  toJSON() {
    return { fixed: this.fixed, signing_key: this.signingKey.toString('hex') };
  }

  // { ok: true, kind } or { ok: false, message } for the 401 body.
  check(authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization || '');
    if (!m) return { ok: false, message: 'Unauthorized: missing bearer token' };
    let entry = this.known.get(m[1]);
    if (!entry) {
      // Issued before a restart on the same --directory: the key vouches for it.
      const claims = verifyJwt(m[1], this.signingKey);
      if (claims && Number.isFinite(claims.exp)) entry = { kind: 'rw', expiresAt: claims.exp * 1000 };
    }
    if (!entry) return { ok: false, message: 'Unauthorized: invalid token' };
    if (Date.now() >= entry.expiresAt) return { ok: false, message: 'Unauthorized: token expired' };
    return { ok: true, kind: entry.kind };
  }
}

module.exports = { Tokens };
