'use strict';
// --secrets-log FILE: every credential this sandbox hands out, one per line
// (the fixed tokens, the client secret, each token the token endpoint issues,
// each X-Amz-Signature it presigns), so a test run's output can be scanned
// for them (scripts/scan_secrets.sh). Appended, so several sandboxes of one
// run may share the file; created 0600.

const fs = require('fs');

function createSecretsLog(file) {
  if (!file) return { record() {}, recordUrl(u) { return u; } };
  const seen = new Set();
  const record = (value) => {
    if (typeof value !== 'string' || value === '' || seen.has(value)) return;
    seen.add(value);
    fs.appendFileSync(file, `${value}\n`, { mode: 0o600 });
  };
  // A presigned URL: its signature is the secret part.
  const recordUrl = (url) => {
    const m = /[?&]X-Amz-Signature=([^&]+)/.exec(url);
    if (m) record(m[1]);
    return url;
  };
  return { record, recordUrl };
}

module.exports = { createSecretsLog };
