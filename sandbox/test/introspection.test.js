'use strict';
// Introspection is answered by default and refused with --no-introspection
// (or the knob introspection: false), as a server that disables it does.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('../testkit/sandbox');

const SCHEMA = '{ __schema { mutationType { fields { name type { kind } } } } }';
const TYPE = '{ __type(name: "RunsInputFilters") { name inputFields { name } } }';
const NESTED = '{ runs(first: 1) { edges { node { id } } } meta: __schema { queryType { name } } }';

describe('introspection', () => {
  let on;
  let off;
  before(async () => { [on, off] = await Promise.all([start(), start(['--no-introspection'])]); });
  after(() => Promise.all([on.stop(), off.stop()]));

  it('is answered by default', async () => {
    const s = await on.gql(SCHEMA);
    assert.equal(s.status, 200);
    assert.deepEqual(s.json.data.__schema.mutationType.fields.map((f) => f.name), ['createFileAttachment']);
    const t = await on.gql(TYPE);
    assert.deepEqual(t.json.data.__type.inputFields.map((f) => f.name), ['id', 'title', 'status', 'procedureId']);
  });

  it('is refused with --no-introspection: HTTP 400, a GraphQL error naming the field, nothing run', async () => {
    for (const [doc, field] of [[SCHEMA, '__schema'], [TYPE, '__type'], [NESTED, '__schema']]) {
      const r = await off.gql(doc);
      assert.equal(r.status, 400, doc);
      assert.equal(r.json.data, undefined);
      assert.deepEqual(r.json.errors.map((e) => e.message), [`Cannot query '${field}': introspection is disabled.`]);
      assert.ok(r.json.errors[0].locations.length > 0);
    }
    assert.deepEqual((await off.admin('/counters')).graphql.fields, {}, 'no field ran');
    // Everything else is served; __typename too.
    const r = await off.gql('{ runStep(id: 1) { __typename id entity { id } } }');
    assert.deepEqual(r.json, { data: { runStep: { __typename: 'RunStep', id: 1, entity: { id: '7' } } } });
  });

  it('follows the knob at run time; reset restores the startup setting', async () => {
    assert.equal((await on.admin('/faults')).introspection, true);
    await on.faults({ introspection: false });
    assert.equal((await on.gql(SCHEMA)).status, 400);
    await on.reset();
    assert.equal((await on.gql(SCHEMA)).status, 200);
    assert.equal((await off.admin('/faults')).introspection, false);
    await off.faults({ introspection: true });
    assert.equal((await off.gql(SCHEMA)).status, 200);
    await off.reset();
    assert.equal((await off.gql(SCHEMA)).status, 400, 'the flag is the startup setting');
  });
});
