'use strict';
// The list queries' answer: a Relay connection over the records that pass
// the filters, a page at a time. Cursors name an object id, so a page's
// endCursor still works after objects were created or renamed.

// Larger `first` values are cut to this: ION times out (502) on big pages,
// the sandbox just answers fewer edges, and pageInfo says more are left.
const MAX_FIRST = 100;

// { field: { eq, neq, in } }: every operator given must hold. An operator
// given as null is ignored, as is a field filter given as null.
function matches(record, filters) {
  for (const [field, ops] of Object.entries(filters || {})) {
    if (!ops) continue;
    const v = record[field];
    if (ops.eq != null && v !== ops.eq) return false;
    if (ops.neq != null && v === ops.neq) return false;
    if (ops.in != null && !ops.in.includes(v)) return false;
  }
  return true;
}

const encode = (kind, id) => Buffer.from(`${kind}:${id}`, 'utf8').toString('base64');

function decode(kind, cursor) {
  const m = /^([a-z]+):(\d{1,9})$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (!m || m[1] !== kind) throw new Error('Invalid cursor: give an endCursor this list answered');
  return Number(m[2]);
}

// sort: a list of <KEY>_ASC / <KEY>_DESC; the first one decides. Ids grow in
// creation order, so every key sorts by id here.
const descending = (sort) => Array.isArray(sort) && typeof sort[0] === 'string' && sort[0].endsWith('_DESC');

function connection(kind, records, { filters, sort, first, after }) {
  if (first != null && first < 0) throw new Error('first must not be negative');
  const desc = descending(sort);
  const list = records.filter((r) => matches(r, filters)).sort((a, b) => (desc ? b.id - a.id : a.id - b.id));
  let start = 0;
  if (after != null) {
    const id = decode(kind, after);
    start = list.findIndex((r) => (desc ? r.id < id : r.id > id));
    if (start < 0) start = list.length;
  }
  const size = Math.min(first == null ? MAX_FIRST : first, MAX_FIRST);
  const page = list.slice(start, start + size);
  const edges = page.map((node) => ({ node, cursor: encode(kind, node.id) }));
  return {
    edges,
    pageInfo: {
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
      hasNextPage: start + page.length < list.length,
      totalCount: list.length,
      count: edges.length,
    },
  };
}

module.exports = { connection, matches, MAX_FIRST };
