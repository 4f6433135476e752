'use strict';
// The object store: s3rver (real S3 protocol, verifies SigV4) on a private
// loopback port, the presigner that signs URLs for the gate's public port,
// and an internal S3 client the sandbox uses for its own HEAD/GET (validate,
// admin), which goes straight to s3rver so it is neither faulted nor counted.

// The SDK warns once that versions released after January 2027 need Node 22;
// ours is pinned by package-lock.json, so the warning only adds noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const fs = require('fs');
const path = require('path');
const S3rver = require('@20minutes/s3rver');
const {
  S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, DeleteObjectCommand,
} = require('@aws-sdk/client-s3');
const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');

const BUCKET = 'ion-files';
// s3rver's built-in account; any other key is refused as InvalidAccessKeyId.
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REGION = 'us-east-1';

function s3Client(endpoint) {
  return new S3Client({
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    forcePathStyle: true,
    // Otherwise SDK 3.7xx+ adds CRC32 checksum parameters to presigned PUTs,
    // which a plain client (curl, the guide's httpx) does not send.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

class Storage {
  constructor({ directory, port = 0 }) {
    this.directory = directory;
    this.port = port;
  }

  async start() {
    this.s3rver = new S3rver({
      address: '127.0.0.1',
      port: this.port,
      silent: true,
      directory: this.directory,
      configureBuckets: [{ name: BUCKET }],
    });
    const { port } = await this.s3rver.run();
    this.backendPort = port;
    this.internal = s3Client(`http://127.0.0.1:${port}`);
    return port;
  }

  // Called once the gate listens: URLs are signed for the host clients use,
  // and the gate forwards the Host header unchanged, so s3rver checks the
  // signature against the same host.
  setPublicEndpoint(url) {
    this.publicUrl = url;
    this.presigner = s3Client(url);
  }

  presignPut(key, contentType, expiresIn) {
    return getSignedUrl(
      this.presigner,
      new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentType: contentType }),
      // Content-Type is hoisted to the query unless named here; S3 then
      // ignores the header. Signing it makes a wrong Content-Type a 403.
      { expiresIn, signableHeaders: new Set(['content-type']) },
    );
  }

  presignGet(key, expiresIn) {
    return getSignedUrl(this.presigner, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn });
  }

  // { size, etag (unquoted), contentType } or null when the object is missing.
  async head(key) {
    try {
      const r = await this.headOnce(key);
      return {
        size: Number(r.ContentLength),
        etag: String(r.ETag || '').replace(/"/g, ''),
        contentType: r.ContentType,
      };
    } catch (err) {
      const status = err.$metadata && err.$metadata.httpStatusCode;
      if (status === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey') return null;
      throw err;
    }
  }

  // A HEAD is safe to repeat: a pooled keep-alive connection that s3rver
  // closed as idle just as it was reused fails with ECONNRESET (seen when a
  // slow client, under valgrind, left the pool idle for seconds).
  async headOnce(key) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.internal.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      } catch (err) {
        const reset = err.code === 'ECONNRESET' || err.code === 'EPIPE' || /socket hang up|ECONNRESET/.test(err.message);
        if (!reset || attempt >= 3) throw err;
      }
    }
  }

  // Replaces an object's bytes behind the client's back (admin tampering):
  // { size, etag } of the new object.
  async overwrite(key, body) {
    const r = await this.internal.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    return { size: body.length, etag: String(r.ETag || '').replace(/"/g, '') };
  }

  async remove(key) {
    await this.internal.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  }

  // Empties the store and recreates the bucket. The old objects are moved
  // aside (one rename) and deleted in the background: s3rver's own reset
  // deletes them synchronously, which after thousands of objects blocked the
  // sandbox for seconds (a spec's reset timed out on a loaded machine).
  async reset() {
    this.resets = (this.resets || 0) + 1;
    const trash = path.join(path.dirname(this.directory), `trash-${process.pid}-${this.resets}`);
    fs.renameSync(this.directory, trash);
    fs.mkdirSync(this.directory);
    fs.promises.rm(trash, { recursive: true, force: true }).catch(() => {});
    await this.s3rver.configureBuckets();
  }

  async stop() {
    if (this.s3rver && this.s3rver.httpServer) {
      this.s3rver.httpServer.closeAllConnections();
      await this.s3rver.close();
    }
  }
}

module.exports = { Storage, BUCKET };
