'use strict';
// The sandbox serves ION's subset exactly: schema.graphql must be equivalent
// to ../shared/reference/ion-subset.graphql (comments aside).

const { it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { buildSchema, findBreakingChanges, findDangerousChanges, lexicographicSortSchema, printSchema, parse, print, visit } = require('graphql');
const { SDL } = require('../lib/schema');

const REFERENCE = path.join(__dirname, '..', '..', '..', 'shared', 'reference', 'ion-subset.graphql');

// The schema's text without descriptions, types and fields in sorted order.
function canonical(sdl) {
  const noDocs = print(visit(parse(sdl), { enter(node) { return node.description ? { ...node, description: undefined } : undefined; } }));
  return printSchema(lexicographicSortSchema(buildSchema(noDocs)));
}

it('schema.graphql is equivalent to the reference subset', (t) => {
  if (!fs.existsSync(REFERENCE)) return t.skip(`no ${REFERENCE}`);
  const ref = fs.readFileSync(REFERENCE, 'utf8');
  const [a, b] = [buildSchema(SDL), buildSchema(ref)];
  assert.deepEqual([...findBreakingChanges(a, b), ...findBreakingChanges(b, a)], []);
  assert.deepEqual([...findDangerousChanges(a, b), ...findDangerousChanges(b, a)], []);
  assert.equal(canonical(SDL), canonical(ref));
});
