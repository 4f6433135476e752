'use strict';
// --tls: a CA made at start and a server certificate for 127.0.0.1 and
// localhost signed by it, with the openssl CLI (Node cannot issue X.509).
// EC P-256 keys, so the four commands take milliseconds. New every run: a
// client trusts the run's CA through ca_file in the state file, never the
// system store.

const { execFile } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

function openssl(args, cwd) {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd }, (err, stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args[0]}: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}

const EC_KEY = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];

const SERVER_EXT = [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature',
  'extendedKeyUsage = serverAuth',
  'subjectAltName = IP:127.0.0.1, DNS:localhost',
  '',
].join('\n');

// Writes ca.pem, server.key and server.pem into dir (created, mode 0700);
// answers { caFile, key, cert } with key and cert as Buffers for https.
async function createCertificates(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const days = '7';
  await openssl([...EC_KEY, '-out', 'ca.key'], dir);
  await openssl(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', days,
    '-subj', '/CN=ion-upload sandbox CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', 'ca.pem'], dir);
  await openssl([...EC_KEY, '-out', 'server.key'], dir);
  await openssl(['req', '-new', '-key', 'server.key', '-subj', '/CN=127.0.0.1', '-out', 'server.csr'], dir);
  fs.writeFileSync(path.join(dir, 'server.ext'), SERVER_EXT);
  // A random serial: a client caching certificates never sees two alike.
  const serial = `0x${crypto.randomBytes(16).toString('hex').replace(/^./, '1')}`;
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
    '-set_serial', serial, '-days', days, '-sha256', '-extfile', 'server.ext', '-out', 'server.pem'], dir);
  // The CA key is not needed any more; nobody should sign with it.
  fs.rmSync(path.join(dir, 'ca.key'), { force: true });
  return {
    caFile: path.join(dir, 'ca.pem'),
    key: fs.readFileSync(path.join(dir, 'server.key')),
    cert: fs.readFileSync(path.join(dir, 'server.pem')),
  };
}

module.exports = { createCertificates };
