'use strict';
// Bearer tokens on /graphql and the OAuth2 client-credentials endpoint.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { start, request } = require('../testkit/sandbox');

function tokenRequest(sb, form, headers = {}) {
  return request(sb.state.oauth.token_url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  }).then((r) => ({ ...r, json: JSON.parse(r.body) }));
}

describe('auth', () => {
  let sb;
  before(async () => { sb = await start(['--token-lifetime-s', '1']); });
  after(() => sb.stop());

  const QUERY = '{ runStep(id: 1) { entity { id } } }';

  for (const [name, token] of [['missing', null], ['unknown', 'sbx_rw_not-a-real-token']]) {
    it(`answers a ${name} token with 401 and a JSON errors body`, async () => {
      const r = await sb.gql(QUERY, {}, { token });
      assert.equal(r.status, 401);
      assert.match(r.headers['content-type'], /application\/json/);
      assert.equal(typeof r.json.errors[0].message, 'string');
    });
  }

  it('answers the expired token with 401 "expired"', async () => {
    const r = await sb.gql(QUERY, {}, { token: sb.tokens.expired });
    assert.equal(r.status, 401);
    assert.match(r.json.errors[0].message, /expired/);
  });

  it('lets the read-only token read and request URLs', async () => {
    const r = await sb.gql('{ runStep(id: 1) { entity { id } } requestFileUploadUrl(filename: "a.txt") { s3Key } }', {}, { token: sb.tokens.ro });
    assert.equal(r.status, 200);
    assert.equal(r.json.errors, undefined);
  });

  it('refuses createFileAttachment to the read-only token: a permission error with path, HTTP 200', async () => {
    const r = await sb.gql(
      'mutation($i: CreateFileAttachmentInput!) { mine: createFileAttachment(input: $i) { fileAttachment { id } } }',
      { i: { filename: 'a', s3Key: 'uploads/x/a', s3Etag: 'e', entityId: '7' } },
      { token: sb.tokens.ro },
    );
    assert.equal(r.status, 200);
    assert.match(r.json.errors[0].message, /[Pp]ermission/);
    assert.deepEqual(r.json.errors[0].path, ['mine']);
  });

  it('issues tokens for client credentials (form body or HTTP Basic) that work and then expire', async () => {
    const { client_id, client_secret } = sb.state.oauth;
    const r = await tokenRequest(sb, { grant_type: 'client_credentials', client_id, client_secret, audience: 'ignored' });
    assert.equal(r.status, 200);
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(r.json.expires_in, 1);
    assert.equal(r.json.access_token.split('.').length, 3, 'JWT-shaped');
    assert.equal((await sb.gql(QUERY, {}, { token: r.json.access_token })).status, 200);

    const basic = Buffer.from(`${client_id}:${client_secret}`).toString('base64');
    const b = await tokenRequest(sb, { grant_type: 'client_credentials' }, { Authorization: `Basic ${basic}` });
    assert.equal(b.status, 200);

    // The lifetime has to run out for real.
    await new Promise((res) => setTimeout(res, 1100));
    const late = await sb.gql(QUERY, {}, { token: r.json.access_token });
    assert.equal(late.status, 401);
    assert.match(late.json.errors[0].message, /expired/);
    assert.equal((await sb.admin('/counters')).token.requests, 2);
  });

  it('refuses a wrong secret with 401 invalid_client, and other grants with 400', async () => {
    const { client_id } = sb.state.oauth;
    const r = await tokenRequest(sb, { grant_type: 'client_credentials', client_id, client_secret: 'wrong' });
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'invalid_client');
    const g = await tokenRequest(sb, { grant_type: 'password', client_id, client_secret: 'wrong' });
    assert.equal(g.status, 400);
    assert.equal(g.json.error, 'unsupported_grant_type');
  });
});
