'use strict';
// --token-path: the token endpoint served at one of ION's two published paths
// (with or without Keycloak's /auth prefix), or both; the other answers 404.

const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const { start, request } = require('../testkit/sandbox');
const { parse } = require('../lib/cli');

const NOAUTH = '/realms/api-keys/protocol/openid-connect/token';
const AUTH = `/auth${NOAUTH}`;

function tokenAt(sb, p) {
  const { client_id, client_secret } = sb.state.oauth;
  const base = sb.state.graphql.replace(/\/graphql$/, '');
  return request(`${base}${p}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id, client_secret }).toString(),
  });
}

for (const [form, served, missing] of [
  [undefined, [NOAUTH], [AUTH]],
  ['noauth', [NOAUTH], [AUTH]],
  ['auth', [AUTH], [NOAUTH]],
  ['both', [NOAUTH, AUTH], []],
]) {
  describe(`--token-path ${form || '(default)'}`, () => {
    let sb;
    after(() => sb && sb.stop());

    it(`serves ${served.join(' and ')}${missing.length ? `, 404 on ${missing.join(', ')}` : ''}`, async () => {
      sb = await start(form ? ['--token-path', form] : []);
      assert.ok(sb.state.oauth.token_url.endsWith(served[0]), 'the state file names a served form');
      for (const p of served) {
        const r = await tokenAt(sb, p);
        assert.equal(r.status, 200, p);
        assert.equal(typeof JSON.parse(r.body).access_token, 'string');
      }
      for (const p of missing) assert.equal((await tokenAt(sb, p)).status, 404, p);
      const c = await sb.admin('/counters');
      assert.equal(c.token.requests, served.length);
      assert.equal(c.token.not_found, missing.length);
    });
  });
}

it('refuses an unknown --token-path form', () => {
  assert.throws(() => parse(['--token-path', 'keycloak']), /--token-path must be one of noauth, auth, both/);
});
