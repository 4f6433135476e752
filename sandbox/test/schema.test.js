'use strict';
// The sandbox serves ION's subset exactly: schema.graphql must be equivalent
// to a reference copy of that subset (comments aside), when one is given as
// ION_SCHEMA_REFERENCE=FILE; a maintainer who keeps one runs this against it.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const { buildSchema, findBreakingChanges, findDangerousChanges, lexicographicSortSchema, printSchema, parse, print, visit } = require('graphql');
const { SDL } = require('../lib/schema');

const REFERENCE = process.env.ION_SCHEMA_REFERENCE || '';

// The schema's text without descriptions, types and fields in sorted order.
function canonical(sdl) {
  const noDocs = print(visit(parse(sdl), { enter(node) { return node.description ? { ...node, description: undefined } : undefined; } }));
  return printSchema(lexicographicSortSchema(buildSchema(noDocs)));
}

it('schema.graphql is equivalent to the reference subset', (t) => {
  if (!REFERENCE) return t.skip('ION_SCHEMA_REFERENCE is not set: no reference copy to compare with');
  if (!fs.existsSync(REFERENCE)) throw new Error(`ION_SCHEMA_REFERENCE: no file ${REFERENCE}`);
  const ref = fs.readFileSync(REFERENCE, 'utf8');
  const [a, b] = [buildSchema(SDL), buildSchema(ref)];
  assert.deepEqual([...findBreakingChanges(a, b), ...findBreakingChanges(b, a)], []);
  assert.deepEqual([...findDangerousChanges(a, b), ...findDangerousChanges(b, a)], []);
  assert.equal(canonical(SDL), canonical(ref));
});
