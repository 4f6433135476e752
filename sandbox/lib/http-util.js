'use strict';
// Small helpers shared by the HTTP handlers.

function readBody(req, limit = 10 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A URL safe to show a person: the query of a presigned URL is a credential.
function redactUrl(url) {
  const i = String(url).indexOf('?');
  return i < 0 ? String(url) : `${String(url).slice(0, i)}?…`;
}

module.exports = { readBody, sendJson, sleep, redactUrl };
