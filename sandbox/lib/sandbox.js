'use strict';
// Assembles one sandbox: s3rver behind the gate, and the API server (GraphQL,
// token endpoint, admin) on one port. start() resolves once both listen.

const http = require('http');
const https = require('https');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Storage } = require('./storage');
const { Gate } = require('./gate');
const { Faults } = require('./faults');
const { Counters } = require('./counters');
const { Tokens } = require('./tokens');
const { Attachments } = require('./attachments');
const { Outage } = require('./outage');
const { loadCredentials, AttachmentLog } = require('./persist');
const { Hostile } = require('./hostile');
const { Targets } = require('./targets');
const { createCertificates } = require('./tls');
const { createSecretsLog } = require('./secrets-log');
const { createRoot } = require('./resolvers');
const { createGraphqlHandler } = require('./graphql-http');
const { createAdminHandler } = require('./admin');
const { tokenPaths, isOtherTokenPath, createClient, createTokenHandler } = require('./oauth');
const { sendJson } = require('./http-util');

class Sandbox {
  constructor(opts = {}) {
    this.opts = opts;
    this.log = opts.verbose ? (m) => process.stderr.write(`sandbox: ${m}\n`) : () => {};
    this.faults = new Faults(opts.faults);
    this.counters = new Counters();
    this.outage = new Outage({ counters: this.counters, log: this.log });
    // --directory: the same site after a restart (persist.js); new otherwise.
    let saved = null;
    if (opts.directory) {
      fs.mkdirSync(opts.directory, { recursive: true });
      saved = loadCredentials(opts.directory, () => ({ tokens: new Tokens().toJSON(), client: createClient() }));
    }
    this.tokens = new Tokens(saved && saved.tokens);
    this.attachments = new Attachments({ log: opts.directory && new AttachmentLog(opts.directory) });
    this.hostile = new Hostile({ tls: !!opts.tls });
    this.targets = new Targets();
    this.client = saved ? { ...saved.client } : createClient();
    this.watchSecrets(createSecretsLog(opts.secretsLog));
  }

  // --secrets-log: what is issued from now on is written down as it is made.
  watchSecrets(secrets) {
    for (const t of Object.values(this.tokens.fixed)) secrets.record(t);
    secrets.record(this.client.client_secret);
    const issue = this.tokens.issue.bind(this.tokens);
    this.tokens.issue = (...a) => {
      const t = issue(...a);
      secrets.record(t);
      return t;
    };
    this.secrets = secrets;
  }

  async start() {
    const o = this.opts;
    // Our own temp dir unless one is given; only ours is removed at stop.
    this.ownDir = !o.directory;
    this.dir = o.directory || fs.mkdtempSync(path.join(os.tmpdir(), 'ion-sandbox-'));
    const objects = path.join(this.dir, 'objects');
    const spool = path.join(this.dir, 'spool');
    fs.mkdirSync(objects, { recursive: true });
    fs.mkdirSync(spool, { recursive: true });
    // Certificates in a temp dir of their own, removed at stop even when
    // --directory is kept.
    let tls = null;
    if (o.tls) {
      this.tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ion-sandbox-tls-'));
      tls = await createCertificates(this.tlsDir);
    }
    const scheme = tls ? 'https' : 'http';

    this.storage = new Storage({ directory: objects, port: o.s3rverPort || 0 });
    for (const name of ['presignPut', 'presignGet']) {
      const sign = this.storage[name].bind(this.storage);
      this.storage[name] = async (...a) => this.secrets.recordUrl(await sign(...a));
    }
    const backendPort = await this.storage.start();
    this.gate = new Gate({
      backendPort, faults: this.faults, counters: this.counters, log: this.log, tmpDir: spool,
      hostile: this.hostile, tls: tls && { key: tls.key, cert: tls.cert },
    });
    const storagePort = await this.gate.listen(o.storagePort || 0);
    const storageUrl = `${scheme}://127.0.0.1:${storagePort}`;
    const storagePlain = tls ? `http://127.0.0.1:${await this.gate.listenPlain(0)}` : null;
    this.outage.attach('storage', this.gate.server);
    if (tls) this.outage.attach('storage', this.gate.plain);
    this.storage.setPublicEndpoint(storageUrl);

    const deps = {
      tokens: this.tokens, faults: this.faults, counters: this.counters, log: this.log,
      attachments: this.attachments, storage: this.storage, client: this.client, hostile: this.hostile,
      outage: this.outage, targets: this.targets,
    };
    const urls = { storageUrl, storagePlainUrl: storagePlain };
    const graphql = createGraphqlHandler({ ...deps, urls, root: createRoot(deps) });
    const admin = createAdminHandler(deps);
    const token = createTokenHandler(deps);
    const served = tokenPaths(o.tokenPath);
    const handle = (req, res) => {
      const p = req.url.split('?')[0];
      // An outage of GraphQL takes the token endpoint with it; admin answers.
      if (!(p === '/admin' || p.startsWith('/admin/')) && this.outage.cut('graphql', req)) return undefined;
      const handler = p === '/graphql' ? graphql
        : served.includes(p) ? token
          : p === '/admin' || p.startsWith('/admin/') ? admin
            : null;
      if (!handler && isOtherTokenPath(p)) this.counters.data.token.not_found++;
      if (!handler) return sendJson(res, 404, { errors: [{ message: `Not found: ${p}` }] });
      return handler(req, res).catch((err) => {
        this.log(`internal error: ${err.stack}`);
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal sandbox error' }] });
        else res.destroy();
      });
    };
    this.api = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handle) : http.createServer(handle);
    this.api.on('connection', () => { this.counters.data.graphql.connections++; });
    const apiPort = await new Promise((resolve, reject) => {
      this.api.once('error', reject);
      this.api.listen(o.graphqlPort || 0, '127.0.0.1', () => resolve(this.api.address().port));
    });
    this.outage.attach('graphql', this.api);

    const base = `${scheme}://127.0.0.1:${apiPort}`;
    this.endpoints = {
      graphql: `${base}/graphql`,
      storage: storageUrl,
      admin: `${base}/admin`,
      tokens: { ...this.tokens.fixed },
      oauth: { token_url: `${base}${served[0]}`, ...this.client },
      pid: process.pid,
      // Where stored objects live; removed at stop unless --directory gave it.
      directory: this.dir,
    };
    // Only with --tls, so a plain run's state file is as it always was.
    if (tls) {
      this.endpoints.ca_file = tls.caFile;
      this.endpoints.storage_plain = storagePlain;
    }
    if (o.outage) await this.outage.set(o.outage); // --outage: down from the start
    return this.endpoints;
  }

  async stop() {
    this.outage.stop();
    const closing = [];
    if (this.api) {
      this.api.closeAllConnections();
      closing.push(new Promise((r) => this.api.close(() => r())));
    }
    if (this.gate) closing.push(this.gate.close());
    if (this.storage) closing.push(this.storage.stop());
    await Promise.allSettled(closing);
    this.attachments.close();
    if (this.ownDir && this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    if (this.tlsDir) fs.rmSync(this.tlsDir, { recursive: true, force: true });
  }
}

module.exports = { Sandbox };
