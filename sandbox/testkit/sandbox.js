'use strict';
// Starts a sandbox for one test file and talks to it. start() spawns
// server.js on free ports and resolves when the state file appears (the
// server writes it only once both servers accept connections).

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const https = require('https');

const SERVER = path.join(__dirname, '..', 'server.js');

function waitForFile(file, child, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const onExit = (code) => reject(new Error(`sandbox exited (${code}) before ready: ${stderr}`));
    child.once('exit', onExit);
    // A readiness probe: look for the file until it exists, give up on timeout.
    const probe = () => {
      if (fs.existsSync(file)) {
        child.off('exit', onExit);
        return resolve(JSON.parse(fs.readFileSync(file, 'utf8')));
      }
      if (Date.now() - started > timeoutMs) {
        child.kill('SIGKILL');
        return reject(new Error(`sandbox not ready after ${timeoutMs} ms: ${stderr}`));
      }
      return setTimeout(probe, 20);
    };
    probe();
  });
}

async function start(args = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-test-'));
  const stateFile = path.join(dir, 'state.json');
  // --parent-pid: should this process die without stopping it, it goes too.
  const child = spawn(process.execPath, [SERVER, '--state', stateFile, '--parent-pid', String(process.pid), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const state = await waitForFile(stateFile, child);
  const sb = new Client(state);
  sb.child = child;
  sb.dir = dir;
  sb.stateFile = stateFile;
  sb.stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => {
      fs.rmSync(dir, { recursive: true, force: true });
      resolve(code);
    });
    child.kill('SIGTERM');
  });
  return sb;
}

// A spec file's usual sandbox, given node:test's hooks: started before its
// tests (GET /admin/dataset read once into .ds), reset before each test when
// beforeEach is given, stopped after. Use the answer's .sb and .ds in tests.
function perSuite({ before, after, beforeEach }, args = []) {
  const ctx = { sb: null, ds: null };
  before(async () => {
    ctx.sb = await start(args);
    ctx.ds = await ctx.sb.admin('/dataset');
  });
  after(() => ctx.sb.stop());
  if (beforeEach) beforeEach(() => ctx.sb.reset());
  return ctx;
}

// Raw HTTP with full control over headers and body framing. Resolves with
// { status, headers, body } or rejects with the socket error. https URLs
// trust `ca` (the PEM of a --tls sandbox's CA).
function request(url, { method = 'GET', headers = {}, body, chunked = false, agent = false, ca, maxHeaderSize } = {}) {
  return new Promise((resolve, reject) => {
    const tls = String(url).startsWith('https:');
    const opts = { method, headers, agent, ...(tls && ca ? { ca } : {}), ...(maxHeaderSize ? { maxHeaderSize } : {}) };
    const req = (tls ? https : http).request(url, opts, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined && !chunked && !('content-length' in lower(headers)) && !('Content-Length' in headers)) {
      req.setHeader('Content-Length', Buffer.byteLength(body));
    }
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// A readiness probe: calls probe() every 20 ms until it resolves truthy, and
// resolves with that value; rejects after timeoutMs with the last error.
async function waitUntil(probe, { timeoutMs = 10000, what = 'condition' } = {}) {
  const started = Date.now();
  let last;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`${what} not met after ${timeoutMs} ms${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const lower = (h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

class Client {
  constructor(state) {
    this.state = state;
    this.tokens = state.tokens;
    this.ca = state.ca_file ? fs.readFileSync(state.ca_file) : undefined;
  }

  // A GraphQL POST; returns { status, headers, json, body }.
  async gql(query, variables = {}, { token = this.tokens.rw, headers = {} } = {}) {
    const h = { 'Content-Type': 'application/json', ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    const r = await request(this.state.graphql, { method: 'POST', headers: h, body: JSON.stringify({ query, variables }), ca: this.ca });
    let json;
    try { json = JSON.parse(r.body); } catch { json = undefined; }
    return { ...r, json };
  }

  async admin(p, { method = 'GET', body } = {}) {
    const r = await request(`${this.state.admin}${p}`, {
      method,
      headers: body !== undefined ? { 'Content-Type': 'application/json' } : {},
      body: body !== undefined ? JSON.stringify(body) : undefined,
      ca: this.ca,
    });
    return JSON.parse(r.body);
  }

  reset() {
    return this.admin('/reset', { method: 'POST' });
  }

  faults(config) {
    return this.admin('/faults', { method: 'POST', body: config });
  }

  async uploadUrl(filename) {
    const r = await this.gql(
      'query($f: String!) { requestFileUploadUrl(filename: $f) { uploadUrl s3Key contentType } }',
      { f: filename },
    );
    if (!r.json || !r.json.data) throw new Error(`requestFileUploadUrl failed: ${r.status} ${r.body}`);
    return r.json.data.requestFileUploadUrl;
  }

  put(url, body, headers = {}, opts = {}) {
    return request(url, { method: 'PUT', headers, body, ca: this.ca, ...opts });
  }

  // Starts or ends an outage (POST /admin/outage); answers its state.
  outage(target, mode, seconds) {
    return this.admin('/outage', { method: 'POST', body: { target, mode, seconds } });
  }

  // Arms a hostile mode (POST /admin/hostile); answers the armed state.
  hostile(mode, count) {
    return this.admin('/hostile', { method: 'POST', body: count === undefined ? { mode } : { mode, count } });
  }

  register(input, { token } = {}) {
    return this.gql(
      'mutation($i: CreateFileAttachmentInput!) { createFileAttachment(input: $i) { fileAttachment { id filename entityId s3Key contentType downloadUrl } } }',
      { i: input },
      { token },
    );
  }

  // The three steps with a well-behaved client: URL, PUT, register.
  async upload(filename, body, entityId, { validateUpload = true } = {}) {
    const u = await this.uploadUrl(filename);
    const put = await this.put(u.uploadUrl, body, { 'Content-Type': u.contentType });
    if (put.status !== 200) throw new Error(`PUT failed: ${put.status} ${put.body}`);
    const etag = put.headers.etag.replace(/"/g, '');
    const r = await this.register({ filename, s3Key: u.s3Key, s3Etag: etag, entityId, validateUpload });
    return { url: u, etag, result: r };
  }
}

module.exports = { start, perSuite, request, waitUntil, SERVER, Client };
