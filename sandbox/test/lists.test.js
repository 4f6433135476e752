'use strict';
// The list queries (runs, parts, procedures, steps): filters as GraphQL
// literals, cursor pagination, ambiguous titles, and a title that breaks a
// careless literal.

const { describe, it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { parse, Kind } = require('graphql');
const { perSuite } = require('../testkit/sandbox');

// A GraphQL string literal: backslash and quote escaped, control characters
// (newline, tab, ...) as \uXXXX. What a careful client's serializer does.
const literal = (s) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)
  .replace(/[\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;

describe('list queries', () => {
  const suite = perSuite({ before, after, beforeEach });

  // The ids a list query answers, with its pageInfo; fails on any error.
  async function ids(root, args, extra = '') {
    const page = 'pageInfo { hasNextPage endCursor totalCount count }';
    const r = await suite.sb.gql(`{ ${root}(${args}) { edges { cursor node { id ${extra} } } ${page} } }`);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.errors, undefined, r.body);
    const c = r.json.data[root];
    return { ids: c.edges.map((e) => e.node.id), edges: c.edges, pageInfo: c.pageInfo };
  }
  const where = (list, pred) => list.filter(pred).map((o) => o.id);

  it('filter strings by eq, neq and in', async () => {
    assert.deepEqual((await ids('runs', 'filters: { title: { eq: "Bracket assembly" } }')).ids, [13, 14, 15]);
    assert.deepEqual((await ids('parts', 'filters: { partNumber: { in: ["PN-77", "PN-1003"] } }')).ids, [3, 7, 8, 9]);
    assert.deepEqual((await ids('parts', 'filters: { partNumber: { eq: "PN-77" }, revision: { neq: "A" } }')).ids, [8, 9]);
    assert.deepEqual((await ids('procedures', 'filters: { title: { eq: "Harness assembly" } }')).ids, [3, 4]);
    const notFinal = await ids('steps', 'filters: { title: { neq: "Final test" } }, first: 100');
    assert.deepEqual(notFinal.ids, where(suite.ds.steps, (s) => s.title !== 'Final test'));
    assert.ok(notFinal.ids.length > 0 && notFinal.ids.length < 100);
    // Exact and case-sensitive: no prefix, no other case.
    assert.deepEqual((await ids('runs', 'filters: { title: { eq: "bracket assembly" } }')).ids, []);
    assert.deepEqual((await ids('runs', 'filters: { title: { eq: "Bracket" } }')).ids, []);
    assert.deepEqual((await ids('runs', 'filters: { title: { in: [] } }')).ids, []);
  });

  it('filter ints by eq, neq and in', async () => {
    assert.deepEqual((await ids('runs', 'filters: { id: { in: [50, 1, 7, 999] } }')).ids, [1, 7, 50]);
    assert.deepEqual((await ids('runs', 'filters: { procedureId: { eq: 2 } }')).ids, where(suite.ds.runs, (r) => r.procedureId === 2));
    const steps = await ids('steps', 'filters: { procedureId: { eq: 2 }, title: { eq: "Final test" } }');
    assert.deepEqual(steps.ids, where(suite.ds.steps, (s) => s.procedureId === 2 && s.title === 'Final test'));
    assert.equal(steps.ids.length, 2, 'procedure 2 has "Final test" twice');
    const all = await ids('parts', 'filters: { id: { neq: 3 } }');
    assert.equal(all.pageInfo.totalCount, 49);
    assert.ok(!all.ids.includes(3));
  });

  it('filter the run status by enum literals', async () => {
    const inProgress = await ids('runs', 'filters: { status: { eq: IN_PROGRESS } }', 'status');
    assert.deepEqual(inProgress.ids, where(suite.ds.runs, (r) => r.status === 'IN_PROGRESS'));
    assert.ok(inProgress.edges.every((e) => e.node.status === 'IN_PROGRESS'));
    assert.ok(inProgress.ids.length > 1);
    assert.deepEqual((await ids('runs', 'filters: { status: { in: [TODO, CANCELED] } }')).ids,
      where(suite.ds.runs, (r) => r.status === 'TODO' || r.status === 'CANCELED'));
    assert.deepEqual((await ids('runs', 'filters: { status: { neq: COMPLETE } }')).ids,
      where(suite.ds.runs, (r) => r.status !== 'COMPLETE'));
    // A serial run twice (a retest): the status picks one.
    assert.deepEqual((await ids('runs', 'filters: { title: { eq: "SN004512 final test" } }')).ids, [2, 18]);
    assert.deepEqual((await ids('runs', 'filters: { title: { eq: "SN004512 final test" }, status: { eq: IN_PROGRESS } }')).ids, [18]);
    // A string is not an enum value: the document does not validate.
    const r = await suite.sb.gql('{ runs(filters: { status: { eq: "IN_PROGRESS" } }) { edges { node { id } } } }');
    assert.equal(r.status, 400);
    assert.match(r.json.errors[0].message, /Enum "RunStatus" cannot represent non-enum value/);
  });

  it('answer the same through a variable of the filter type', async () => {
    const r = await suite.sb.gql('query($f: RunsInputFilters) { runs(filters: $f) { edges { node { id } } } }',
      { f: { title: { eq: 'Pump housing build' } } });
    assert.deepEqual(r.json.data.runs.edges.map((e) => e.node.id), [16, 17]);
  });

  it('answer an ambiguous title with every match, and a run\'s steps with repeated titles', async () => {
    const bracket = await ids('runs', 'filters: { title: { eq: "Bracket assembly" } }, first: 2', 'title');
    assert.equal(bracket.edges.length, 2);
    assert.equal(bracket.pageInfo.totalCount, 3);
    assert.equal(bracket.pageInfo.hasNextPage, true);
    const r = await suite.sb.gql('{ run(id: 2) { id title steps { id title position status entityId entity { id } } } }');
    const { steps } = r.json.data.run;
    assert.deepEqual(steps.map((s) => [s.id, s.position]), [[5, 1], [6, 2], [7, 3], [8, 4]]);
    assert.deepEqual(steps.filter((s) => s.title === 'Final test').map((s) => s.id), [6, 8]);
    for (const s of steps) assert.equal(s.entityId, s.entity.id);
    assert.deepEqual(steps.map((s) => s.entityId), [5, 6, 7, 8].map((id) => suite.ds.runStep[String(id)]));
  });

  it('page through a list with first/after: every object once, totalCount steady', async () => {
    const seen = [];
    let after = null;
    for (let page = 0; page < 20; page++) {
      const p = await ids('runs', `first: 7${after ? `, after: ${literal(after)}` : ''}`);
      assert.equal(p.pageInfo.totalCount, 50);
      assert.equal(p.pageInfo.count, p.ids.length);
      seen.push(...p.ids);
      if (!p.pageInfo.hasNextPage) break;
      assert.equal(p.ids.length, 7);
      after = p.pageInfo.endCursor;
      assert.equal(after, p.edges[6].cursor);
    }
    assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i + 1));
    const desc = await ids('runs', 'sort: [ID_DESC], first: 3');
    assert.deepEqual(desc.ids, [50, 49, 48]);
    assert.deepEqual((await ids('runs', `sort: [ID_DESC], first: 2, after: ${literal(desc.pageInfo.endCursor)}`)).ids, [47, 46]);
    const none = await ids('parts', 'filters: { partNumber: { eq: "PN-0" } }');
    assert.deepEqual(none.pageInfo, { hasNextPage: false, endCursor: null, totalCount: 0, count: 0 });
  });

  it('cap first at 100 and say so in pageInfo; refuse a negative first and a foreign cursor', async () => {
    for (let i = 0; i < 60; i++) await suite.sb.admin('/runs', { method: 'POST', body: { title: `bulk ${i}` } });
    for (const args of ['first: 1000', 'filters: {}']) {
      const p = await ids('runs', args);
      assert.equal(p.ids.length, 100, args);
      assert.deepEqual([p.pageInfo.count, p.pageInfo.hasNextPage, p.pageInfo.totalCount], [100, true, 110], args);
    }
    const bad = await suite.sb.gql('{ runs(first: -1) { edges { node { id } } } }');
    assert.match(bad.json.errors[0].message, /first must not be negative/);
    const partsCursor = (await ids('parts', 'first: 1')).pageInfo.endCursor;
    const foreign = await suite.sb.gql(`{ runs(after: ${literal(partsCursor)}) { edges { node { id } } } }`);
    assert.match(foreign.json.errors[0].message, /Invalid cursor/);
  });

  it('name the filter input types irregularly, as ION does', () => {
    const sdl = fs.readFileSync(path.join(__dirname, '..', 'schema.graphql'), 'utf8');
    const query = parse(sdl).definitions.find((d) => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'Query');
    const filterType = (root) => query.fields.find((f) => f.name.value === root).arguments
      .find((a) => a.name.value === 'filters').type.name.value;
    const names = ['runs', 'parts', 'procedures', 'steps'].map(filterType);
    assert.deepEqual(names, ['RunsInputFilters', 'PartsInputFilters', 'ProcedureInputFilters', 'StepsFilters']);
    // No one rule derives them from the list's name.
    assert.ok(!names.every((n) => n.endsWith('InputFilters')));
    assert.notEqual(new Set(names.map((n) => n.replace(/^(Runs|Parts|Procedure|Steps)/, ''))).size, 1);
    for (const input of ['StringFilter', 'IntFilter', 'RunStatusFilter']) {
      assert.match(sdl, new RegExp(`input ${input} \\{ eq: \\w+, neq: \\w+, in: \\[\\w+!\\] \\}`));
    }
  });

  it('match a title full of quotes, backslashes, a newline, # and an injection exactly, running no mutation', async () => {
    const tricky = suite.ds.runs.find((r) => r.id === 19).title;
    for (const needle of ['"', '\\', '\n', '#', '"){ x: createFileAttachment']) assert.ok(tricky.includes(needle), needle);
    const doc = `{ runs(filters: { title: { eq: ${literal(tricky)} } }, first: 2) `
      + '{ edges { node { id title entityId } } pageInfo { totalCount } } }';
    const r = await suite.sb.gql(doc);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.data.runs.edges.map((e) => e.node), [{ id: 19, title: tricky, entityId: suite.ds.run['19'] }]);
    assert.equal(r.json.data.runs.pageInfo.totalCount, 1);
    const counters = await suite.sb.admin('/counters');
    assert.deepEqual(counters.graphql.fields, { runs: 1 });
    assert.deepEqual(await suite.sb.admin('/attachments'), []);
    // The decoys a wrong literal finds: the first line alone, and the title
    // read with \t and \n where the backslashes were not escaped.
    const firstLine = await ids('runs', `filters: { title: { eq: ${literal(tricky.split('\n')[0])} } }`);
    assert.deepEqual(firstLine.ids, [20]);
    const unescaped = `"${tricky.replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
    assert.deepEqual((await ids('runs', `filters: { title: { eq: ${unescaped} } }`)).ids, [21]);
  });

  it('match a title outside ASCII, sent raw or as \\u escapes', async () => {
    const title = 'Endprüfung ✓ Los 7';
    assert.deepEqual((await ids('runs', `filters: { title: { eq: ${literal(title)} } }`)).ids, [22]);
    const u = (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    const escaped = `"${[...title].map((c) => (c.charCodeAt(0) > 127 ? u(c) : c)).join('')}"`;
    assert.deepEqual((await ids('runs', `filters: { title: { eq: ${escaped} } }`)).ids, [22]);
  });
});
