'use strict';
// Content type from the filename's extension, as ION derives it. Unknown or
// missing extensions get application/octet-stream.

const path = require('path');

const BY_EXTENSION = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif',
  webp: 'image/webp', bmp: 'image/bmp', tif: 'image/tiff', tiff: 'image/tiff',
  svg: 'image/svg+xml', heic: 'image/heic',
  pdf: 'application/pdf', json: 'application/json', xml: 'application/xml',
  zip: 'application/zip', gz: 'application/gzip', tar: 'application/x-tar',
  '7z': 'application/x-7z-compressed',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  txt: 'text/plain', log: 'text/plain', csv: 'text/csv', tsv: 'text/tab-separated-values',
  md: 'text/markdown', html: 'text/html', htm: 'text/html',
  mp4: 'video/mp4', mov: 'video/quicktime', avi: 'video/x-msvideo',
  mp3: 'audio/mpeg', wav: 'audio/wav',
  stl: 'model/stl', step: 'model/step', stp: 'model/step',
};

function contentTypeFor(filename) {
  const ext = path.extname(String(filename)).slice(1).toLowerCase();
  return BY_EXTENSION[ext] || 'application/octet-stream';
}

module.exports = { contentTypeFor };
