'use strict';
// Hostile GraphQL answers (POST /admin/hostile): each fires for exactly
// `count` requests it applies to, then the sandbox answers normally again.

const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const { start } = require('../testkit/sandbox');
const raw = require('../testkit/raw');
const { BACKTRACK_BYTES, BACKTRACK_RETRY_AFTER } = require('../lib/hostile');
const { ESCAPE_ID } = require('../lib/hostile-graphql');
const { MANY_EDGES, FAKE_ID, FAKE_ENTITY } = require('../lib/hostile-targets');

const URL_QUERY = '{ requestFileUploadUrl(filename: "a.jpg") { uploadUrl s3Key contentType } }';
const TARGET_QUERY = '{ runStep(id: 1) { id entity { id } } }';
const HUGE = 64 * 1024 * 1024;

describe('hostile GraphQL answers', () => {
  let sb;
  before(async () => { sb = await start(); });
  after(() => sb.stop());
  beforeEach(() => sb.reset());

  // One GraphQL POST over a bare socket: what the server sent, byte for byte.
  const post = (query, token = sb.tokens.rw) => raw.exchange(sb.state.graphql, {
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  const json = (r) => JSON.parse(r.body.toString('utf8'));

  // Arms mode for `count` requests, checks each is hostile, then that it is
  // off (GET /admin/hostile, counters) and the next answer is the real one.
  async function firesExactly(mode, count, send, isHostile) {
    const before = (await sb.admin('/counters')).graphql.hostile[mode] || 0;
    assert.deepEqual(await sb.hostile(mode, count), { mode, side: 'graphql', remaining: count });
    for (let i = 0; i < count; i++) {
      const r = await send();
      assert.ok(isHostile(r), `${mode} #${i + 1}: ${r.raw ? r.raw.subarray(0, 300) : ''}`);
    }
    assert.deepEqual(await sb.admin('/hostile'), { mode: null });
    const normal = await send();
    assert.equal(normal.status, 200);
    assert.ok(!isHostile(normal), `${mode} is off after ${count}`);
    assert.ok(json(normal).data, 'a real answer');
    assert.equal((await sb.admin('/counters')).graphql.hostile[mode] - before, count);
  }

  it('arms with count 1 by default, shows what is armed, clears with null, refuses bad ones', async () => {
    assert.deepEqual(await sb.admin('/hostile'), { mode: null });
    assert.deepEqual(await sb.hostile('data_null'), { mode: 'data_null', side: 'graphql', remaining: 1 });
    assert.deepEqual(await sb.admin('/hostile'), { mode: 'data_null', side: 'graphql', remaining: 1 });
    assert.deepEqual(await sb.hostile(null), { mode: null });
    assert.ok(json(await post(TARGET_QUERY)).data.runStep);
    assert.match((await sb.hostile('nope')).error, /unknown mode/);
    assert.match((await sb.hostile('html_200', 0)).error, /count/);
    assert.match((await sb.hostile('upload_url_http_downgrade')).error, /needs a sandbox started with --tls/);
    assert.deepEqual(await sb.admin('/hostile'), { mode: null });
    await sb.hostile('html_200', 5);
    await sb.reset();
    assert.deepEqual(await sb.admin('/hostile'), { mode: null }, 'reset clears it');
  });

  it('is applied after auth: a 401 does not spend it', async () => {
    await sb.hostile('data_null', 1);
    assert.equal((await post(TARGET_QUERY, 'bad')).status, 401);
    assert.deepEqual(json(await post(TARGET_QUERY)), { data: null });
  });

  it('malformed_json: 200 {"data": {', () => firesExactly('malformed_json', 2, () => post(TARGET_QUERY),
    (r) => r.status === 200 && r.body.toString() === '{"data": {'));

  it('html_200: a 200 HTML page', () => firesExactly('html_200', 2, () => post(TARGET_QUERY),
    (r) => r.status === 200 && /^text\/html/.test(r.headers['content-type']) && /<html>/.test(r.body)));

  it('truncated_body: Content-Length 1000, 100 bytes, then the connection closes', () => firesExactly('truncated_body', 2,
    () => post(TARGET_QUERY),
    (r) => r.status === 200 && r.headers['content-length'] === '1000' && r.body.length === 100));

  it('data_null: 200 {"data": null} without errors', () => firesExactly('data_null', 2, () => post(TARGET_QUERY),
    (r) => r.status === 200 && r.body.toString() === '{"data":null}'));

  it('mutation_503: 503 after the mutation ran; a query is left alone and the mode stays armed', async () => {
    await sb.hostile('mutation_503', 1);
    assert.equal((await post(TARGET_QUERY)).status, 200);
    assert.equal((await sb.admin('/hostile')).remaining, 1);
    const before = (await sb.admin('/attachments')).length;
    const reg = await sb.register({ filename: 'f', s3Key: 'uploads/x/f', s3Etag: 'e', entityId: '7', validateUpload: false });
    assert.equal(reg.status, 503);
    assert.equal((await sb.admin('/attachments')).length - before, 1, 'the registration was recorded');
    assert.deepEqual(await sb.admin('/hostile'), { mode: null });
    assert.equal((await sb.admin('/counters')).graphql.hostile.mutation_503, 1);
  });

  it('missing_field: uploadUrl removed, else the first scalar of the first root field', async () => {
    await firesExactly('missing_field', 2, () => post(URL_QUERY), (r) => {
      const u = json(r).data.requestFileUploadUrl;
      return !('uploadUrl' in u) && typeof u.s3Key === 'string' && typeof u.contentType === 'string';
    });
    await firesExactly('missing_field', 1, () => post(TARGET_QUERY), (r) => {
      const t = json(r).data.runStep;
      return !('id' in t) && t.entity.id === '7';
    });
    // Nested: createFileAttachment's first scalar is fileAttachment.id.
    await sb.hostile('missing_field', 1);
    const reg = await sb.register({ filename: 'f', s3Key: 'uploads/x/f', s3Etag: 'e', entityId: '7', validateUpload: false });
    const fa = reg.json.data.createFileAttachment.fileAttachment;
    assert.equal('id' in fa, false);
    assert.equal(fa.filename, 'f');
    // Nothing to remove (a null target): not spent.
    await sb.hostile('missing_field', 1);
    assert.deepEqual(json(await post('{ runStep(id: 999) { id } }')), { data: { runStep: null } });
    assert.equal((await sb.admin('/hostile')).remaining, 1);
  });

  for (const [mode, want] of [
    ['upload_url_file', (u) => u.uploadUrl === 'file:///etc/passwd'],
    ['upload_url_ftp', (u, sbx) => u.uploadUrl === `ftp://127.0.0.1:${new URL(sbx.state.storage).port}/x`],
    ['content_type_crlf', (u) => u.contentType === 'image/jpeg\r\nX-Injected: 1' && /^http:/.test(u.uploadUrl)],
  ]) {
    it(`${mode}: only documents with requestFileUploadUrl spend it`, async () => {
      await sb.hostile(mode, 2);
      assert.equal(json(await post(TARGET_QUERY)).data.runStep.id, 1, 'another query is left alone');
      assert.equal((await sb.admin('/hostile')).remaining, 2);
      await sb.hostile(null);
      await firesExactly(mode, 2, () => post(URL_QUERY), (r) => want(json(r).data.requestFileUploadUrl, sb));
    });
  }

  it('applies to every aliased requestFileUploadUrl of one document, spending one', async () => {
    await sb.hostile('upload_url_file', 1);
    const r = json(await post('{ a: requestFileUploadUrl(filename: "a.txt") { uploadUrl } b: requestFileUploadUrl(filename: "b.txt") { uploadUrl } }'));
    assert.deepEqual(r.data, { a: { uploadUrl: 'file:///etc/passwd' }, b: { uploadUrl: 'file:///etc/passwd' } });
    assert.deepEqual(await sb.admin('/hostile'), { mode: null });
  });

  it('runs the document: a mutation under a hostile answer is recorded', async () => {
    await sb.hostile('malformed_json', 1);
    const r = await sb.register({ filename: 'f', s3Key: 'uploads/x/f', s3Etag: 'e', entityId: '7', validateUpload: false });
    assert.equal(r.json, undefined);
    assert.equal((await sb.admin('/attachments')).length, 1);
  });

  // Streams the answer and keeps only its size and ends: 64 MiB need not be held.
  function fetchHuge() {
    return new Promise((resolve, reject) => {
      const req = http.request(sb.state.graphql, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sb.tokens.rw}` },
      }, (res) => {
        let size = 0;
        let first = '';
        let last = Buffer.alloc(0);
        res.on('data', (c) => {
          if (first.length < 200) first += c.subarray(0, 200).toString();
          size += c.length;
          last = Buffer.concat([last, c]).subarray(-200);
        });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, size, first, last: last.toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ query: TARGET_QUERY }));
    });
  }

  for (const [mode, framing] of [['huge_body', (h) => h['content-length'] === String(HUGE)],
    ['huge_body_chunked', (h) => h['transfer-encoding'] === 'chunked' && h['content-length'] === undefined]]) {
    it(`${mode}: a valid JSON answer of 64 MiB, the real data first`, async () => {
      await sb.hostile(mode, 2);
      for (let i = 0; i < 2; i++) {
        const r = await fetchHuge();
        assert.equal(r.status, 200);
        assert.ok(framing(r.headers), JSON.stringify(r.headers));
        assert.equal(r.size, HUGE);
        assert.ok(r.first.startsWith('{"data":{"runStep":{"id":1,"entity":{"id":"7"}}},"extensions":{"padding":"xxx'), r.first);
        assert.ok(r.last.endsWith('xxx"}}'));
      }
      const normal = await fetchHuge();
      assert.equal(normal.size, Buffer.byteLength('{"data":{"runStep":{"id":1,"entity":{"id":"7"}}}}'));
      assert.equal((await sb.admin('/counters')).graphql.hostile[mode], 2);
    });
  }

  it('error_message_backtrack: 200, data null, one error whose message is 1 MiB of "eyJ"', () => firesExactly(
    'error_message_backtrack', 2, () => post(TARGET_QUERY), (r) => {
      const j = r.status === 200 && json(r);
      return j && j.data === null && j.errors.length === 1
        && j.errors[0].message.length === 3 * Math.floor(BACKTRACK_BYTES / 3) && /^(eyJ)+$/.test(j.errors[0].message);
    }));

  it('retry_after_backtrack: a 429 with a 60,001-byte Retry-After, on queries only', async () => {
    await sb.hostile('retry_after_backtrack', 1);
    await sb.register({ filename: 'f', s3Key: 'uploads/x/f', s3Etag: 'e', entityId: '7', validateUpload: false });
    assert.equal((await sb.admin('/hostile')).remaining, 1, 'a mutation leaves it armed');
    await sb.hostile(null);
    await firesExactly('retry_after_backtrack', 2, () => post(TARGET_QUERY),
      (r) => r.status === 429 && r.headers['retry-after'] === BACKTRACK_RETRY_AFTER);
  });

  it('echo_credentials: requestFileUploadUrl fails with the signed URL, token and client secret in it', async () => {
    await sb.hostile('echo_credentials', 1);
    assert.equal(json(await post(TARGET_QUERY)).data.runStep.id, 1, 'another query is left alone');
    const r = json(await post(URL_QUERY));
    const e = r.errors[0];
    assert.deepEqual(e.path, ['requestFileUploadUrl']);
    assert.equal(r.data.requestFileUploadUrl, null);
    assert.match(r.data.echoed.downloadUrl, /X-Amz-Signature=[0-9a-f]{64}/);
    assert.equal(decodeURIComponent(r.data.echoed.encoded), r.data.echoed.downloadUrl);
    assert.ok(e.message.includes(sb.tokens.rw) && e.message.includes(r.data.echoed.downloadUrl));
    assert.ok(e.message.includes(sb.state.oauth.client_secret));
    assert.equal(e.extensions.proxy, `https://${sb.state.oauth.client_id}:${sb.state.oauth.client_secret}@${new URL(e.extensions.url).host}/`);
    assert.deepEqual(await sb.admin('/hostile'), { mode: null });
  });

  for (const [mode, raw] of [['attachment_id_nan', 'NaN'], ['attachment_id_huge', '1e999']]) {
    it(`${mode}: createFileAttachment's id is ${raw} (not JSON; cjson reads it), the attachment is recorded`, async () => {
      await sb.hostile(mode, 1);
      assert.equal(json(await post(TARGET_QUERY)).data.runStep.id, 1, 'a query is left alone');
      const r = await sb.register({ filename: 'f', s3Key: 'uploads/x/f', s3Etag: 'e', entityId: '7', validateUpload: false });
      assert.match(r.body.toString(), new RegExp(`"fileAttachment":\\{"id":${raw},"filename":"f"`));
      assert.equal((await sb.admin('/attachments')).length, 1);
      assert.deepEqual(await sb.admin('/hostile'), { mode: null });
    });
  }

  it('attachment_id_escape: createFileAttachment\'s id is a string with ESC, BEL, CR and LF', async () => {
    await sb.hostile('attachment_id_escape', 1);
    const r = await sb.register({ filename: 'f', s3Key: 'uploads/x/f', s3Etag: 'e', entityId: '7', validateUpload: false });
    assert.equal(r.json.data.createFileAttachment.fileAttachment.id, ESCAPE_ID);
  });

  it('entity_id_huge: every entity { id } of a lookup is 1e999', () => firesExactly('entity_id_huge', 1,
    () => post('{ a: runStep(id: 1) { entity { id } } b: run(id: 1) { entity { id } } }'),
    (r) => r.body.toString() === '{"data":{"a":{"entity":{"id":1e999}},"b":{"entity":{"id":1e999}}}}'));

  const LIST = '{ runs(filters: { title: { eq: "Bracket assembly" } }, first: 2) '
    + '{ edges { cursor node { id title entityId entity { id } } } pageInfo { hasNextPage endCursor totalCount count } } }';

  it('list_10000_edges: a list query answered with 10,000 edges of distinct ids; other documents left alone', async () => {
    await sb.hostile('list_10000_edges', 1);
    assert.ok(json(await post(TARGET_QUERY)).data.runStep, 'a lookup by id is left alone');
    assert.deepEqual(json(await post('{ runs(filters: { title: { eq: "nothing" } }) { edges { node { id } } } }')).data.runs.edges, [],
      'no edge to copy: left alone');
    await firesExactly('list_10000_edges', 1, () => post(LIST), (r) => {
      const runs = json(r).data && json(r).data.runs;
      if (!runs || runs.edges.length !== MANY_EDGES) return false;
      assert.deepEqual(runs.pageInfo, { hasNextPage: false, endCursor: runs.edges[MANY_EDGES - 1].cursor, totalCount: MANY_EDGES, count: MANY_EDGES });
      assert.equal(runs.edges[0].node.id, 13, 'the real first edge');
      for (const key of ['id', 'entityId', 'cursor']) {
        const values = runs.edges.map((e) => (key === 'cursor' ? e.cursor : e.node[key]));
        assert.equal(new Set(values).size, MANY_EDGES, `distinct ${key}s`);
      }
      assert.ok(runs.edges.every((e) => e.node.title === 'Bracket assembly' && e.node.entity.id === e.node.entityId));
      assert.deepEqual(runs.edges[1].node, { id: FAKE_ID + 1, title: 'Bracket assembly', entityId: String(FAKE_ENTITY + 1), entity: { id: String(FAKE_ENTITY + 1) } });
      return true;
    });
  });

  it('nodes_without_entity: no entity or entityId in list nodes, a run\'s steps and lookups', async () => {
    await sb.hostile('nodes_without_entity', 1);
    assert.ok(json(await post(URL_QUERY)).data.requestFileUploadUrl.uploadUrl, 'no target: left alone');
    await firesExactly('nodes_without_entity', 2, () => post(LIST), (r) => {
      const { edges } = json(r).data.runs;
      return edges.length === 2 && edges.every((e) => e.node.id && e.node.title && !('entity' in e.node) && !('entityId' in e.node));
    });
    await sb.hostile('nodes_without_entity', 1);
    const r = json(await post('{ run(id: 2) { id entityId steps { id title entity { id } fields { name entityId } } } runStep(id: 1) { id entity { id } } }'));
    assert.deepEqual(r.data, {
      run: { id: 2, steps: [
        { id: 5, title: 'Receiving inspection', fields: [{ name: 'Photo' }, { name: 'Notes' }] },
        { id: 6, title: 'Final test', fields: [] }, { id: 7, title: 'Rework', fields: [] }, { id: 8, title: 'Final test', fields: [] },
      ] },
      runStep: { id: 1 },
    });
  });

  it('yields to a fault that takes the request: not spent', async () => {
    await sb.faults({ graphql_429_rate: 1 });
    await sb.hostile('data_null', 1);
    assert.equal((await post(TARGET_QUERY)).status, 429);
    await sb.faults({ graphql_429_rate: 0 });
    assert.deepEqual(json(await post(TARGET_QUERY)), { data: null });
  });
});
