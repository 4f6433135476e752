'use strict';
// Outages: GraphQL (the API port), storage (the gate) or both down for a
// time, as a client sees a dead site or a dropped VPN:
//   refuse  the listener is closed: connections are refused (ECONNREFUSED);
//           on the API port that includes /admin and the token endpoint,
//           so such an outage ends only when its time runs out
//   reset   connections are accepted then reset (ECONNRESET) before anything
//           runs; on the API port /admin still answers (decided per request)
// Either way the connections open when it starts are cut. When it ends the
// listeners take the same ports again.

const TARGETS = { graphql: ['graphql'], storage: ['storage'], both: ['graphql', 'storage'] };
const MODES = ['refuse', 'reset'];
const MAX_SECONDS = 86400;

// { target, mode, seconds } checked; throws an Error saying what is wrong.
function validate(spec) {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new Error('outage must be a JSON object {"target", "mode", "seconds"}');
  }
  for (const k of Object.keys(spec)) {
    if (!['target', 'mode', 'seconds'].includes(k)) throw new Error(`unknown outage field: ${k}`);
  }
  if (!TARGETS[spec.target]) throw new Error('outage target must be graphql, storage or both');
  const mode = spec.mode === undefined ? 'refuse' : spec.mode;
  if (!MODES.includes(mode)) throw new Error('outage mode must be refuse or reset');
  const seconds = Number(spec.seconds);
  if (spec.seconds === undefined || spec.seconds === null || spec.seconds === '' || !Number.isFinite(seconds)
      || seconds < 0 || seconds > MAX_SECONDS) {
    throw new Error(`outage seconds must be a number from 0 (end it now) to ${MAX_SECONDS}`);
  }
  return { target: spec.target, mode, seconds };
}

// The --outage flag: TARGET:MODE:SECONDS, e.g. both:refuse:30.
function parseFlag(s) {
  const parts = String(s).split(':');
  if (parts.length !== 3) throw new Error('--outage must be TARGET:MODE:SECONDS, e.g. storage:reset:30');
  return validate({ target: parts[0], mode: parts[1], seconds: parts[2] });
}

class Outage {
  constructor({ counters, log }) {
    this.counters = counters;
    this.log = log || (() => {});
    this.sides = { graphql: null, storage: null }; // { mode, until, timer }
    this.servers = { graphql: [], storage: [] }; // { server, port }
  }

  // A listener of side, on the port it took; call once it listens.
  attach(side, server) {
    this.servers[side].push({ server, port: server.address().port });
    server.on('connection', (socket) => {
      const o = this.sides[side];
      // The API port decides per request (admin passes); storage at once.
      if (o && o.mode === 'reset' && side === 'storage') this.reset(side, socket);
    });
  }

  reset(side, socket) {
    this.counters.data[side].outage_resets++;
    socket.resetAndDestroy();
  }

  // The mode in force for side, or null.
  mode(side) {
    return this.sides[side] ? this.sides[side].mode : null;
  }

  // For a request on side: true when it was cut (the caller stops there).
  cut(side, req) {
    if (!this.sides[side]) return false;
    this.reset(side, req.socket);
    return true;
  }

  state() {
    const out = {};
    for (const [side, o] of Object.entries(this.sides)) {
      out[side] = o ? { mode: o.mode, remaining_s: Math.max(0, (o.until - Date.now()) / 1000) } : null;
    }
    return out;
  }

  // Starts (or, with seconds 0, ends) an outage; answers the state.
  async set(spec) {
    const { target, mode, seconds } = validate(spec);
    for (const side of TARGETS[target]) {
      await this.end(side);
      if (seconds > 0) await this.begin(side, mode, seconds);
    }
    this.log(`outage: ${JSON.stringify(this.state())}`);
    return this.state();
  }

  async begin(side, mode, seconds) {
    const o = { mode, until: Date.now() + seconds * 1000 };
    o.timer = setTimeout(() => {
      this.end(side).catch((err) => this.log(`outage end: ${err.message}`));
    }, seconds * 1000);
    this.sides[side] = o;
    for (const { server } of this.servers[side]) {
      if (mode === 'refuse') server.close(); // stops accepting; existing ones are cut below
      // The API's own admin request is in flight on one of its connections.
      if (side === 'storage') server.closeAllConnections();
      else server.closeIdleConnections();
    }
  }

  async end(side) {
    const o = this.sides[side];
    if (!o) return;
    clearTimeout(o.timer);
    this.sides[side] = null;
    if (o.mode !== 'refuse') return;
    await Promise.all(this.servers[side].map(({ server, port }) => relisten(server, port, this.log)));
    this.log(`outage: ${side} listens again`);
  }

  // At exit: no timer left to fire, no listener reopened.
  stop() {
    for (const side of Object.keys(this.sides)) {
      if (this.sides[side]) clearTimeout(this.sides[side].timer);
      this.sides[side] = null;
    }
  }

  async endAll() {
    await this.end('graphql');
    await this.end('storage');
  }
}

// The same port again; it was ours a moment ago, so a failure is retried a
// few times (a client's connection in TIME_WAIT does not block it).
async function relisten(server, port, log) {
  for (let attempt = 1; ; attempt++) {
    try {
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      return;
    } catch (err) {
      if (attempt >= 50) throw err;
      log(`outage: port ${port} not free yet (${err.code}), again in 100 ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

module.exports = { Outage, validate, parseFlag };
