'use strict';
// What the sandbox saw, for the admin endpoint: the benchmarks and specs
// measure a client by these (requests per file, connection reuse, ...).

function fresh() {
  return {
    graphql: {
      requests: 0,
      connections: 0,
      fields: {},
      status: {},
      faults: { '5xx': 0, '429': 0, drop: 0 },
      hostile: {},
      outage_resets: 0,
    },
    storage: {
      requests: 0,
      connections: 0,
      puts: 0,
      gets: 0,
      heads: 0,
      authorization_headers: 0,
      chunked_puts: 0,
      status: {},
      faults: { '503': 0, drop: 0, expire: 0, strip_etag: 0 },
      redirects_followed: 0,
      hostile: {},
      outage_resets: 0,
    },
    token: { requests: 0, not_found: 0 },
  };
}

class Counters {
  constructor() {
    this.reset();
  }

  // Replaces the whole tree: read counters.data at each use, never keep it.
  reset() {
    this.data = fresh();
  }

  status(side, code) {
    const s = this.data[side].status;
    s[code] = (s[code] || 0) + 1;
  }

  field(name) {
    const f = this.data.graphql.fields;
    f[name] = (f[name] || 0) + 1;
  }

  // A hostile answer given (see hostile.js), by mode.
  hostile(side, mode) {
    const h = this.data[side].hostile;
    h[mode] = (h[mode] || 0) + 1;
  }

  snapshot() {
    return JSON.parse(JSON.stringify(this.data));
  }
}

module.exports = { Counters };
