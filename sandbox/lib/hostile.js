'use strict';
// Hostile answers on demand (POST /admin/hostile): one mode armed at a time,
// for the next `count` requests it applies to, then off by itself. Unlike the
// fault rates these are not random: a robustness spec arms exactly what it
// wants to see once and gets a well-behaved sandbox back right after.

// Modes by the side that serves them: GraphQL POSTs or storage PUTs.
const MODES = {
  malformed_json: 'graphql',
  html_200: 'graphql',
  truncated_body: 'graphql',
  huge_body: 'graphql',
  huge_body_chunked: 'graphql',
  data_null: 'graphql',
  missing_field: 'graphql',
  upload_url_file: 'graphql',
  upload_url_ftp: 'graphql',
  upload_url_http_downgrade: 'graphql',
  download_url_http_downgrade: 'graphql',
  content_type_crlf: 'graphql',
  mutation_503: 'graphql',
  redirect_put: 'storage',
  etag_huge: 'storage',
  slowloris: 'storage',
  stall_body: 'storage',
  // Text that made the client's patterns backtrack, and ids no client can
  // keep (hostile-graphql.js, hostile-storage.js say what each sends).
  error_message_backtrack: 'graphql',
  retry_after_backtrack: 'graphql',
  echo_credentials: 'graphql',
  attachment_id_nan: 'graphql',
  attachment_id_huge: 'graphql',
  attachment_id_escape: 'graphql',
  entity_id_huge: 'graphql',
  // Target lookups a client must not trust blindly (hostile-graphql.js).
  list_10000_edges: 'graphql',
  nodes_without_entity: 'graphql',
  s3_error_backtrack: 'storage',
  slowdown_retry_after_backtrack: 'storage',
};

// What the *_backtrack modes send: 1 MiB of text that made the client's
// patterns backtrack, and a Retry-After of digits, spaces and a letter
// (60,001 bytes, under libcurl's 100 KiB limit for one header line).
const BACKTRACK_BYTES = 1024 * 1024;
const BACKTRACK_RETRY_AFTER = `${'1'.repeat(30000)}${' '.repeat(30000)}x`;

// A downgrade needs an https URL to downgrade and a plain port to point at.
const NEEDS_TLS = new Set(['upload_url_http_downgrade', 'download_url_http_downgrade']);

class Hostile {
  constructor({ tls = false } = {}) {
    this.tls = tls;
    this.clear();
  }

  clear() {
    this.mode = null;
    this.remaining = 0;
  }

  // {"mode": NAME, "count": N} arms, {"mode": null} clears; throws on a bad one.
  arm(body) {
    if (body === null || typeof body !== 'object' || Array.isArray(body) || !('mode' in body)) {
      throw new Error('hostile: give {"mode": NAME, "count": N} or {"mode": null}');
    }
    if (body.mode === null) {
      this.clear();
      return this.state();
    }
    if (!Object.prototype.hasOwnProperty.call(MODES, body.mode)) {
      throw new Error(`hostile: unknown mode ${JSON.stringify(body.mode)}; known: ${Object.keys(MODES).join(', ')}`);
    }
    const count = body.count === undefined ? 1 : Number(body.count);
    if (!Number.isInteger(count) || count < 1) throw new Error('hostile: count must be an integer >= 1');
    if (NEEDS_TLS.has(body.mode) && !this.tls) throw new Error(`hostile: ${body.mode} needs a sandbox started with --tls`);
    this.mode = body.mode;
    this.remaining = count;
    return this.state();
  }

  state() {
    return this.mode ? { mode: this.mode, side: MODES[this.mode], remaining: this.remaining } : { mode: null };
  }

  // The mode armed for this side, or null. Only used() spends one: a request
  // the mode does not apply to (no uploadUrl to replace, ...) leaves it armed.
  peek(side) {
    return this.mode && MODES[this.mode] === side ? this.mode : null;
  }

  used() {
    this.remaining--;
    if (this.remaining <= 0) this.clear();
  }
}

module.exports = { Hostile, MODES, BACKTRACK_BYTES, BACKTRACK_RETRY_AFTER };
