'use strict';
// S3's XML error bodies, for the refusals the gate makes itself.

const crypto = require('crypto');

const escapeXml = (s) => String(s).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function errorXml(code, message, extra = {}) {
  const fields = Object.entries(extra).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('');
  const requestId = crypto.randomBytes(8).toString('hex').toUpperCase();
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${fields}`
    + `<RequestId>${requestId}</RequestId></Error>`;
}

const ERRORS = {
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  OnlyOneAuth: [400, 'Only one auth mechanism allowed; only the X-Amz-Algorithm query '
    + 'parameter, Signature query string parameter or the Authorization header should be specified'],
  AccessDenied: [403, 'Access Denied'],
  Expired: [403, 'Request has expired'],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  InvalidDigest: [400, 'The Content-MD5 you specified was invalid.'],
  HeadersNotSigned: [403, 'There were headers present in the request which were not signed'],
  SlowDown: [503, 'Please reduce your request rate.'],
  TemporaryRedirect: [307, 'Please re-send this request to the specified temporary endpoint. '
    + 'Continue to use the original request endpoint for future requests.'],
};

// The S3 code of each entry above (two share AccessDenied, one InvalidArgument).
const CODES = {
  OnlyOneAuth: 'InvalidArgument',
  Expired: 'AccessDenied',
  HeadersNotSigned: 'AccessDenied',
};

function s3Error(name, extra) {
  const [status, message] = ERRORS[name];
  return { status, body: errorXml(CODES[name] || name, message, extra) };
}

module.exports = { s3Error, errorXml };
