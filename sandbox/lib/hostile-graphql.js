'use strict';
// The hostile GraphQL answers (see hostile.js). Each is given in place of the
// real answer of a document that ran: a mutation under any of them IS
// recorded, as with a 500, so a client must not resend it.
//
// answer(mode, ...) sends the hostile answer and returns its HTTP status, or
// returns null without sending anything when the mode does not apply to this
// result (no uploadUrl to replace, ...), so it stays armed for the next one.

const { Readable, pipeline } = require('stream');
const { Kind } = require('graphql');

const { BACKTRACK_BYTES, BACKTRACK_RETRY_AFTER } = require('./hostile');
const { manyEdges, dropEntities } = require('./hostile-targets');

const HUGE_BYTES = 64 * 1024 * 1024;
const TRUNCATED_LENGTH = 1000;
const TRUNCATED_SENT = 100;

// What a captive portal or a misrouted proxy answers with a 200.
const LOGIN_HTML = '<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n'
  + '<body><h1>Sign in to continue</h1><form method="post"><input name="user"></form></body></html>\n';

// alias -> field name of the operation's root fields (fragments at the root
// are not looked into: clients send plain selections).
function rootFields(op) {
  return op.selectionSet.selections
    .filter((s) => s.kind === Kind.FIELD)
    .map((s) => ({ alias: s.alias ? s.alias.value : s.name.value, name: s.name.value }));
}

// The values of the root fields named `name` that came back as objects.
function rootValues(data, op, name) {
  if (!data) return [];
  return rootFields(op)
    .filter((f) => f.name === name && data[f.alias] && typeof data[f.alias] === 'object')
    .map((f) => data[f.alias]);
}

// Sets obj[key] = change(obj[key]) on each object that has the key; true if any did.
function replaceEach(objects, key, change) {
  let any = false;
  for (const o of objects) {
    if (o && typeof o[key] === 'string') {
      o[key] = change(o[key]);
      any = true;
    }
  }
  return any;
}

// Removes the first scalar met depth-first in obj; true if one was.
function removeFirstScalar(obj) {
  for (const [k, v] of Object.entries(obj)) {
    if (v === null || typeof v !== 'object') {
      delete obj[k];
      return true;
    }
    if (removeFirstScalar(v)) return true;
  }
  return false;
}

// The downloadUrl holders of a result: fileAttachment and createFileAttachment's payload.
function attachmentsOf(data, op) {
  return [
    ...rootValues(data, op, 'fileAttachment'),
    ...rootValues(data, op, 'createFileAttachment').map((p) => p.fileAttachment),
  ];
}

// Ids no client can keep: NaN and 1e999 are not JSON, but cjson decodes them
// (to NaN and inf), so they go into the text in place of RAW_MARKER.
const RAW_MARKER = '\u0000hostile-raw-id\u0000';
const RAW_IDS = { attachment_id_nan: 'NaN', attachment_id_huge: '1e999', entity_id_huge: '1e999' };
// An id that would clear the screen and forge a line of output if printed.
const ESCAPE_ID = '\u001b[2J\u001b]0;owned\u0007\r\nok    forged.jpg -> attachment 1';

// The fileAttachment of each createFileAttachment payload; the entity of each root value.
const createdOf = (data, op) => rootValues(data, op, 'createFileAttachment')
  .map((p) => p.fileAttachment).filter((o) => o && typeof o === 'object');
const entitiesOf = (data, op) => (data ? rootFields(op).map((f) => data[f.alias]) : [])
  .filter((v) => v && typeof v === 'object' && v.entity && typeof v.entity === 'object')
  .map((v) => v.entity);

// The list queries, and every root field that answers targets.
const LIST_ROOTS = ['runs', 'parts', 'procedures', 'steps'];
const TARGET_ROOTS = ['runStep', 'run', 'procedure', 'step', 'part', 'runStepField', ...LIST_ROOTS];
const rootValuesOf = (data, op, names) => names.flatMap((name) => rootValues(data, op, name));

// Sets o.id = value on each object; true if there was one.
function setIds(objects, value) {
  for (const o of objects) o.id = value;
  return objects.length > 0;
}

// An answer to requestFileUploadUrl that echoes what must never be shown: the
// signed URL (raw, percent-encoded, in data too), the bearer token, and the
// OAuth client secret (bare and as URL userinfo). Each alias fails with it.
function echoCredentials(req, result, op, oauthClient) {
  const urls = rootValues(result.data, op, 'requestFileUploadUrl').map((u) => u.uploadUrl)
    .filter((u) => typeof u === 'string');
  if (!urls.length) return null;
  const url = urls[0];
  const token = String(req.headers.authorization || '').replace(/^Bearer\s+/i, '');
  const { client_id: id, client_secret: secret } = oauthClient || {};
  const data = { echoed: { downloadUrl: url, encoded: encodeURIComponent(url) } };
  const errors = rootFields(op).map((f) => {
    data[f.alias] = null;
    return {
      message: `upload refused: token ${token} may not sign ${url}; client ${id} has secret ${secret}`,
      path: [f.alias],
      extensions: { token, clientSecret: secret, proxy: `https://${id}:${secret}@${new URL(url).host}/`, url },
    };
  });
  return { data, errors };
}

// Modes that edit the real result: each returns true when it changed something.
function editors({ storageUrl, storagePlainUrl }) {
  const uploads = (data, op) => rootValues(data, op, 'requestFileUploadUrl');
  const downgrade = (url) => (storagePlainUrl && url.startsWith(`${storageUrl}/`)
    ? storagePlainUrl + url.slice(storageUrl.length)
    : url.replace(/^https:/, 'http:'));
  const storagePort = new URL(storageUrl).port;
  return {
    missing_field(data, op) {
      if (!data) return false;
      const withUrl = uploads(data, op).filter((u) => 'uploadUrl' in u);
      if (withUrl.length) {
        for (const u of withUrl) delete u.uploadUrl;
        return true;
      }
      const first = rootFields(op)[0];
      const value = first && data[first.alias];
      return !!value && typeof value === 'object' && removeFirstScalar(value);
    },
    upload_url_file: (data, op) => replaceEach(uploads(data, op), 'uploadUrl', () => 'file:///etc/passwd'),
    upload_url_ftp: (data, op) => replaceEach(uploads(data, op), 'uploadUrl', () => `ftp://127.0.0.1:${storagePort}/x`),
    upload_url_http_downgrade: (data, op) => replaceEach(uploads(data, op), 'uploadUrl', downgrade),
    download_url_http_downgrade: (data, op) => replaceEach(attachmentsOf(data, op), 'downloadUrl', downgrade),
    content_type_crlf: (data, op) => replaceEach(uploads(data, op), 'contentType', () => 'image/jpeg\r\nX-Injected: 1'),
    attachment_id_nan: (data, op) => setIds(createdOf(data, op), RAW_MARKER),
    attachment_id_huge: (data, op) => setIds(createdOf(data, op), RAW_MARKER),
    attachment_id_escape: (data, op) => setIds(createdOf(data, op), ESCAPE_ID),
    entity_id_huge: (data, op) => setIds(entitiesOf(data, op), RAW_MARKER),
    list_10000_edges: (data, op) => manyEdges(rootValuesOf(data, op, LIST_ROOTS)),
    nodes_without_entity: (data, op) => dropEntities(rootValuesOf(data, op, TARGET_ROOTS)),
  };
}

function sendRaw(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

// A valid JSON body of exactly HUGE_BYTES: the real result, then padding in
// extensions, streamed in 64 KiB pieces so the sandbox never holds it whole.
function sendHuge(res, result, withLength) {
  const json = JSON.stringify(result);
  const head = Buffer.from(`${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"extensions":{"padding":"`);
  const tail = Buffer.from('"}}');
  let left = HUGE_BYTES - head.length - tail.length;
  const piece = Buffer.alloc(64 * 1024, 'x');
  function* parts() {
    yield head;
    while (left > 0) {
      const n = Math.min(left, piece.length);
      left -= n;
      yield n === piece.length ? piece : piece.subarray(0, n);
    }
    yield tail;
  }
  const headers = { 'Content-Type': 'application/json; charset=utf-8' };
  if (withLength) headers['Content-Length'] = HUGE_BYTES;
  res.writeHead(200, headers);
  // A client that gives up closes the socket; pipeline then stops the stream.
  pipeline(Readable.from(parts(), { objectMode: false }), res, () => {});
}

// Headers promise TRUNCATED_LENGTH bytes; TRUNCATED_SENT arrive, then FIN.
function sendTruncated(req, res, result) {
  const body = Buffer.from(JSON.stringify(result).padEnd(TRUNCATED_LENGTH, ' ')).subarray(0, TRUNCATED_LENGTH);
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': TRUNCATED_LENGTH });
  res.write(body.subarray(0, TRUNCATED_SENT), () => req.socket.end());
}

function createHostileGraphql(urls, { oauthClient } = {}) {
  const edit = editors(urls);
  return function answer(mode, { req, res, result, op }) {
    switch (mode) {
      case 'malformed_json':
        sendRaw(res, 200, 'application/json; charset=utf-8', '{"data": {');
        return 200;
      case 'html_200':
        sendRaw(res, 200, 'text/html; charset=utf-8', LOGIN_HTML);
        return 200;
      case 'truncated_body':
        sendTruncated(req, res, result);
        return 200;
      case 'huge_body':
      case 'huge_body_chunked':
        sendHuge(res, result, mode === 'huge_body');
        return 200;
      case 'data_null':
        sendRaw(res, 200, 'application/json; charset=utf-8', '{"data":null}');
        return 200;
      case 'mutation_503':
        // What Envoy sends when the backend ran the request and the
        // connection to it broke before the answer ("upstream reset").
        if (op.operation !== 'mutation') return null;
        sendRaw(res, 503, 'application/json; charset=utf-8', '{"errors":[{"message":"Service Unavailable"}]}');
        return 503;
      case 'error_message_backtrack':
        sendRaw(res, 200, 'application/json; charset=utf-8',
          JSON.stringify({ data: null, errors: [{ message: 'eyJ'.repeat(Math.floor(BACKTRACK_BYTES / 3)) }] }));
        return 200;
      case 'retry_after_backtrack': {
        // A 429 says "not run": true of a query only (a mutation here did run).
        if (op.operation === 'mutation') return null;
        const body = JSON.stringify({ errors: [{ message: 'Too Many Requests' }] });
        res.writeHead(429, {
          'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Retry-After': BACKTRACK_RETRY_AFTER,
        });
        res.end(body);
        return 429;
      }
      case 'echo_credentials': {
        const echo = echoCredentials(req, result, op, oauthClient);
        if (!echo) return null;
        sendRaw(res, 200, 'application/json; charset=utf-8', JSON.stringify(echo));
        return 200;
      }
      default: {
        const copy = JSON.parse(JSON.stringify(result));
        if (!edit[mode] || !edit[mode](copy.data, op)) return null;
        let text = JSON.stringify(copy);
        if (RAW_IDS[mode]) text = text.split(JSON.stringify(RAW_MARKER)).join(RAW_IDS[mode]);
        sendRaw(res, 200, 'application/json; charset=utf-8', text);
        return 200;
      }
    }
  };
}

module.exports = { createHostileGraphql, ESCAPE_ID, HUGE_BYTES, TRUNCATED_LENGTH, TRUNCATED_SENT };
