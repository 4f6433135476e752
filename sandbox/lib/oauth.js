'use strict';
// The OAuth2 client-credentials token endpoint, shaped like ION's Keycloak
// realm: form-encoded POST in, {access_token, token_type, expires_in} out.

const crypto = require('crypto');
const { readBody, sendJson } = require('./http-util');

const TOKEN_PATH = '/realms/api-keys/protocol/openid-connect/token';
// ION's manual gives the token URL with Keycloak's old /auth prefix, its
// examples without (since 2024). --token-path picks which this sandbox serves.
const TOKEN_PATH_FORMS = {
  noauth: [TOKEN_PATH],
  auth: [`/auth${TOKEN_PATH}`],
  both: [TOKEN_PATH, `/auth${TOKEN_PATH}`],
};

// The token paths served for a --token-path value (default: noauth, the
// sandbox's form before the flag existed).
function tokenPaths(mode = 'noauth') {
  const paths = TOKEN_PATH_FORMS[mode];
  if (!paths) throw new Error(`--token-path must be one of ${Object.keys(TOKEN_PATH_FORMS).join(', ')}`);
  return paths;
}

// A request for a token path form this sandbox does not serve (it gets 404).
function isOtherTokenPath(p) {
  return p === TOKEN_PATH || p === `/auth${TOKEN_PATH}`;
}

function sameSecret(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function createClient() {
  return { client_id: 'ion-upload-sandbox', client_secret: crypto.randomBytes(24).toString('base64url') };
}

function createTokenHandler({ client, tokens, faults, counters }) {
  return async function handle(req, res) {
    counters.data.token.requests++;
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'invalid_request' }, { Allow: 'POST' });
    let form;
    try {
      form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
    } catch {
      return sendJson(res, 400, { error: 'invalid_request' });
    }
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    // RFC 6749 also allows the credentials in HTTP Basic auth.
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization || '');
    if (basic) {
      const [u, ...p] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      id = decodeURIComponent(u);
      secret = decodeURIComponent(p.join(':'));
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return sendJson(res, 400, { error: 'unsupported_grant_type' });
    }
    if (id !== client.client_id || !sameSecret(secret || '', client.client_secret)) {
      return sendJson(res, 401, { error: 'invalid_client', error_description: 'Invalid client credentials' });
    }
    const lifetime = faults.get('token_lifetime_s');
    // A slow identity provider: the token is answered this much later.
    const latency = faults.get('token_latency_ms');
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    return sendJson(res, 200, {
      access_token: tokens.issue(id, lifetime),
      token_type: 'Bearer',
      expires_in: lifetime,
      scope: 'sandbox',
    }, { 'Cache-Control': 'no-store' });
  };
}

module.exports = { TOKEN_PATH, tokenPaths, isOtherTokenPath, createClient, createTokenHandler };
