'use strict';
// Fault configuration and the decisions drawn from it. One PRNG stream per
// fault kind (see prng.js); every eligible request draws from every stream it
// is subject to, whether or not the rate is zero, so changing one rate does
// not shift another kind's sequence.

const { createStreams } = require('./prng');

// Every knob, its default and its kind. The CLI flag is the name with dashes.
const KNOBS = {
  seed: { default: 1, type: 'int' },
  graphql_latency_ms: { default: 0, type: 'nonneg' },
  storage_latency_ms: { default: 0, type: 'nonneg' },
  token_latency_ms: { default: 0, type: 'nonneg' },
  graphql_5xx_rate: { default: 0, type: 'rate' },
  graphql_429_rate: { default: 0, type: 'rate' },
  graphql_drop_rate: { default: 0, type: 'rate' },
  retry_after_s: { default: 1, type: 'nonneg' },
  storage_503_rate: { default: 0, type: 'rate' },
  storage_drop_rate: { default: 0, type: 'rate' },
  storage_expire_rate: { default: 0, type: 'rate' },
  strip_etag_rate: { default: 0, type: 'rate' },
  url_lifetime_s: { default: 300, type: 'positive' },
  token_lifetime_s: { default: 300, type: 'positive' },
  // Not a fault but a compatibility knob: see README ("Partial data").
  // On by default: aliased fields fail independently, as the sandbox's brief asks.
  partial_data: { default: true, type: 'bool' },
  // Off: __schema and __type are refused, as a server with introspection
  // disabled does (ION may be one), so a client's specs show it needs none.
  introspection: { default: true, type: 'bool' },
};

const STREAMS = [
  'graphql_5xx', 'graphql_5xx_status', 'graphql_429', 'graphql_drop',
  'storage_503', 'storage_drop', 'storage_expire', 'strip_etag',
];

function defaults() {
  const out = {};
  for (const [name, knob] of Object.entries(KNOBS)) out[name] = knob.default;
  return out;
}

// Checks and converts one value; throws an Error naming the knob.
function coerce(name, value) {
  const knob = KNOBS[name];
  if (!knob) throw new Error(`unknown fault knob: ${name}`);
  if (knob.type === 'bool') {
    if (value === true || value === 'true' || value === '1' || value === 1) return true;
    if (value === false || value === 'false' || value === '0' || value === 0) return false;
    throw new Error(`${name} must be a boolean`);
  }
  const n = Number(value);
  if (value === null || value === '' || !Number.isFinite(n)) throw new Error(`${name} must be a number`);
  if (knob.type === 'rate' && (n < 0 || n > 1)) throw new Error(`${name} must be between 0 and 1`);
  if (knob.type === 'nonneg' && n < 0) throw new Error(`${name} must be >= 0`);
  if (knob.type === 'positive' && n <= 0) throw new Error(`${name} must be > 0`);
  if (knob.type === 'int' && !Number.isInteger(n)) throw new Error(`${name} must be an integer`);
  return n;
}

function validate(patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new Error('fault config must be a JSON object');
  }
  const out = {};
  for (const [name, value] of Object.entries(patch)) out[name] = coerce(name, value);
  return out;
}

class Faults {
  constructor(startup) {
    this.startup = { ...defaults(), ...validate(startup || {}) };
    this.reset();
  }

  // Back to the startup configuration, PRNGs restarted from its seed.
  reset() {
    this.config = { ...this.startup };
    this.streams = createStreams(this.config.seed, STREAMS);
  }

  // Applies a subset; a seed in it restarts every stream.
  update(patch) {
    const clean = validate(patch);
    Object.assign(this.config, clean);
    if ('seed' in clean) this.streams = createStreams(this.config.seed, STREAMS);
    return { ...this.config };
  }

  get(name) {
    return this.config[name];
  }

  draw(stream, rate) {
    return this.streams[stream]() < rate;
  }

  // For one GraphQL POST: null, {kind: '429'}, {kind: '5xx', status} or
  // {kind: 'drop'}, in that order of precedence when several fire.
  graphqlFault() {
    const c = this.config;
    const is5xx = this.draw('graphql_5xx', c.graphql_5xx_rate);
    const pick = this.streams.graphql_5xx_status();
    const is429 = this.draw('graphql_429', c.graphql_429_rate);
    const isDrop = this.draw('graphql_drop', c.graphql_drop_rate);
    if (is5xx) return { kind: '5xx', status: [500, 502, 503, 504][Math.floor(pick * 4)] };
    if (is429) return { kind: '429' };
    if (isDrop) return { kind: 'drop' };
    return null;
  }

  // For one storage PUT: which faults fire. Several may; the gate applies
  // them in the order expire, 503, drop, and strips the ETag of a success.
  storageFaults() {
    const c = this.config;
    return {
      expire: this.draw('storage_expire', c.storage_expire_rate),
      slowDown: this.draw('storage_503', c.storage_503_rate),
      drop: this.draw('storage_drop', c.storage_drop_rate),
      stripEtag: this.draw('strip_etag', c.strip_etag_rate),
    };
  }
}

module.exports = { Faults, KNOBS, defaults, validate };
