'use strict';
// The sandbox's memory for N registered attachments (issue 16: it must hold
// 1,000,000): issues and registers N keys in sandbox/lib/attachments.js the
// way createFileAttachment does, then prints heap and RSS after a full GC.
//   node --expose-gc bench/sandbox_memory.js [N] [path/to/attachments.js]
// (the second argument measures another version, e.g. one from `git show`).
const path = require('path');
const crypto = require('crypto');

const n = Number(process.argv[2] || 1000000);
const { Attachments } = require(path.resolve(process.argv[3] || path.join(__dirname, '../sandbox/lib/attachments.js')));
if (!global.gc) throw new Error('run with node --expose-gc');

const usage = () => {
  global.gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss };
};
const before = usage();
const a = new Attachments();
for (let i = 0; i < n; i++) {
  const name = `log-${i}.txt`;
  const key = `uploads/${crypto.randomBytes(12).toString('hex')}/${name}`;
  a.issue(key, name, 'text/plain');
  a.add({ filename: name, s3Key: key, s3Etag: crypto.randomBytes(16).toString('hex'),
    entityId: String((i % 520) + 1), contentType: 'text/plain' });
}
const after = usage();
const t0 = process.hrtime.bigint();
for (let i = 0; i < 100000; i++) a.get(4242 + ((i * 997) % n));
const getUs = Number(process.hrtime.bigint() - t0) / 1e3 / 1e5;
console.log(`${n} attachments: ${Math.round((after.heap - before.heap) / n)} bytes each (heap and buffers),` +
  ` RSS ${Math.round(after.rss / 2 ** 20)} MiB, get ${getUs.toFixed(2)} us`);
