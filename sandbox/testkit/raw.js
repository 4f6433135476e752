'use strict';
// HTTP/1.1 over a bare socket, for the answers an HTTP client library hides
// or refuses: a body cut short, a status line sent one byte a second, a
// request body the server stops reading.

const net = require('net');
const tls = require('tls');

// Opens a TCP (or, for https, TLS trusting `ca`) connection to url's host.
function connect(url, ca) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const port = Number(u.port);
    const s = u.protocol === 'https:'
      ? tls.connect({ host: u.hostname, port, ca, servername: u.hostname === '127.0.0.1' ? undefined : u.hostname }, () => resolve(s))
      : net.connect({ host: u.hostname, port }, () => resolve(s));
    s.once('error', reject);
  });
}

function head(url, method, headers, length) {
  const u = new URL(url);
  const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  lines.push(`Content-Length: ${length}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

// Splits what a server sent into status, headers (lower-case) and body bytes.
function parse(bytes) {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return { status: null, headers: {}, body: Buffer.alloc(0), raw: bytes };
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: bytes.subarray(end + 4), raw: bytes };
}

// Sends one request with Connection: close and collects everything until the
// server closes: { status, headers, body (Buffer), raw }.
async function exchange(url, { method = 'POST', headers = {}, body = '', ca } = {}) {
  const s = await connect(url, ca);
  const chunks = [];
  s.on('data', (c) => chunks.push(c));
  const closed = new Promise((resolve) => s.on('close', resolve));
  s.on('error', () => {});
  const payload = Buffer.from(body);
  s.write(head(url, method, headers, payload.length));
  s.write(payload);
  await closed;
  return parse(Buffer.concat(chunks));
}

// Starts a request and returns the socket, for tests that watch it misbehave.
// The body is `length` bytes, written as fast as the socket takes them.
async function open(url, { method = 'PUT', headers = {}, length = 0, ca } = {}) {
  const s = await connect(url, ca);
  s.on('error', () => {});
  s.received = Buffer.alloc(0);
  s.on('data', (c) => { s.received = Buffer.concat([s.received, c]); });
  s.write(head(url, method, headers, length));
  if (length > 0) s.write(Buffer.alloc(length, 'b'));
  return s;
}

// Resolves once the socket has received at least n bytes.
function receive(s, n) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (s.received.length >= n) {
        s.off('data', check);
        s.off('close', closed);
        resolve(s.received);
      }
    };
    const closed = () => reject(new Error(`closed after ${s.received.length} of ${n} bytes`));
    s.on('data', check);
    s.once('close', closed);
    check();
  });
}

module.exports = { exchange, open, receive, parse };
