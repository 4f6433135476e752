'use strict';
// Root resolvers for the served schema. Each failure is thrown, so graphql-js
// reports it in errors[] with the field's path (its alias when aliased).
// The messages below are what clients match on: keep them stable.

const crypto = require('crypto');
const { connection } = require('./connection');
const { contentTypeFor } = require('./content-type');
const { keySafe } = require('./attachment-table');

// ETags are compared as S3 clients do: quotes and a weak prefix dropped,
// hex case ignored.
const normEtag = (s) => String(s).trim().replace(/^W\//, '').replace(/"/g, '').toLowerCase();

function createRoot({ storage, attachments, faults, targets }) {
  const target = (type) => ({ id }) => targets.get(type, id);
  const list = (type) => (args) => connection(type, targets.list(type), args);

  async function withDownloadUrl(att) {
    const downloadUrl = await storage.presignGet(att.s3Key, faults.get('url_lifetime_s'));
    return { ...att, downloadUrl };
  }

  return {
    async requestFileUploadUrl({ filename }) {
      if (filename.trim() === '') throw new Error('filename must not be empty');
      const s3Key = `uploads/${crypto.randomBytes(12).toString('hex')}/${keySafe(filename)}`;
      const contentType = contentTypeFor(filename);
      const uploadUrl = await storage.presignPut(s3Key, contentType, faults.get('url_lifetime_s'));
      attachments.issue(s3Key, filename, contentType);
      return { uploadUrl, s3Key, contentType };
    },

    async fileAttachment({ id }) {
      const att = attachments.get(id);
      return att ? withDownloadUrl(att) : null;
    },

    runStep: target('runStep'),
    run: target('run'),
    procedure: target('procedure'),
    step: target('step'),
    part: target('part'),
    runStepField: target('runStepField'),
    runs: list('run'),
    parts: list('part'),
    procedures: list('procedure'),
    steps: list('step'),

    async createFileAttachment({ input }, ctx) {
      if (ctx.tokenKind !== 'rw') {
        throw new Error('Permission denied: token may not attach files');
      }
      const { filename, s3Key, s3Etag, entityId, validateUpload } = input;
      if (!targets.entityExists(entityId)) throw new Error(`Entity not found: ${entityId}`);
      const readOnly = targets.readOnlyReason(entityId);
      if (readOnly) throw new Error(`Permission denied: ${readOnly}`);
      if (validateUpload) {
        const head = await storage.head(s3Key);
        if (!head) throw new Error(`Upload validation failed: object not found: ${s3Key}`);
        if (normEtag(head.etag) !== normEtag(s3Etag)) {
          throw new Error(`Upload validation failed: ETag mismatch for ${s3Key}`);
        }
      }
      const contentType = attachments.issuedContentType(s3Key) ?? contentTypeFor(s3Key);
      const att = attachments.add({ filename, s3Key, s3Etag: normEtag(s3Etag), entityId, contentType });
      return { fileAttachment: await withDownloadUrl(att) };
    },
  };
}

module.exports = { createRoot, normEtag };
