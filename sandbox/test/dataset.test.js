'use strict';
// The fixed data set: ids and entity ids as they always were, and the
// titles, serials and part numbers that the README promises to specs.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { perSuite } = require('../testkit/sandbox');

const TYPES = [['runStep', 200], ['run', 50], ['procedure', 20], ['step', 100], ['part', 50], ['runStepField', 100]];

describe('data set', () => {
  const suite = perSuite({ before, after });

  it('keeps the entity ids of the permutation specs were written against', () => {
    let g = 0;
    for (const [type, count] of TYPES) {
      assert.equal(Object.keys(suite.ds[type]).length, count, type);
      for (let id = 1; id <= count; id++, g++) {
        assert.equal(suite.ds[type][String(id)], String(((g * 11 + 6) % 520) + 1), `${type} ${id}`);
      }
    }
    assert.deepEqual([suite.ds.runStep['1'], suite.ds.run['7'], suite.ds.part['3'], suite.ds.part['50']], ['7', '193', '459', '456']);
  });

  it('serves each object with entityId equal to entity.id and to the listing', async () => {
    const r = await suite.sb.gql(`{ runs(first: 100) { edges { node { id entityId entity { id } title status procedureId
      steps { id entityId entity { id } title position status fields { id name entityId entity { id } } } } } } }`);
    const runs = r.json.data.runs.edges.map((e) => e.node);
    assert.equal(runs.length, 50);
    const stepIds = [];
    let fields = 0;
    for (const run of runs) {
      const listed = suite.ds.runs.find((x) => x.id === run.id);
      assert.deepEqual([run.entityId, run.entity.id], [suite.ds.run[String(run.id)], suite.ds.run[String(run.id)]]);
      assert.deepEqual([run.title, run.status, run.procedureId], [listed.title, listed.status, listed.procedureId]);
      assert.deepEqual(run.steps.map((s) => s.position), [1, 2, 3, 4]);
      for (const s of run.steps) {
        stepIds.push(s.id);
        assert.deepEqual([s.entityId, s.entity.id], [suite.ds.runStep[String(s.id)], suite.ds.runStep[String(s.id)]]);
        for (const f of s.fields) {
          fields++;
          assert.deepEqual([f.entityId, f.entity.id], [suite.ds.runStepField[String(f.id)], suite.ds.runStepField[String(f.id)]]);
        }
      }
      assert.deepEqual(run.steps.map((s) => s.title), listed.steps.map((s) => s.title));
    }
    assert.deepEqual(stepIds, Array.from({ length: 200 }, (_, i) => i + 1), 'run r owns run steps 4r-3..4r');
    assert.equal(fields, 100);
    const parts = (await suite.sb.gql('{ parts(first: 100) { edges { node { id entityId entity { id } } } } }')).json.data.parts.edges;
    assert.ok(parts.every(({ node: p }) => p.entityId === suite.ds.part[String(p.id)] && p.entity.id === p.entityId));
  });

  it('holds the titles, serials and part numbers the README lists', () => {
    const runsTitled = (t) => suite.ds.runs.filter((r) => r.title === t).map((r) => [r.id, r.status]);
    assert.deepEqual(runsTitled('SN004512 final test'), [[2, 'COMPLETE'], [18, 'IN_PROGRESS']]);
    assert.deepEqual(runsTitled('SN004511 final test'), [[1, 'IN_PROGRESS']]);
    assert.deepEqual(runsTitled('Bracket assembly'), [[13, 'TODO'], [14, 'IN_PROGRESS'], [15, 'COMPLETE']]);
    assert.deepEqual(runsTitled('Pump housing build'), [[16, 'IN_PROGRESS'], [17, 'CANCELED']]);
    assert.deepEqual(runsTitled('Endprüfung ✓ Los 7'), [[22, 'TODO']]);
    assert.equal(suite.ds.runs[6].title, 'SN004517 final test');
    assert.deepEqual(suite.ds.runs[1].steps.map((s) => [s.id, s.title]),
      [[5, 'Receiving inspection'], [6, 'Final test'], [7, 'Rework'], [8, 'Final test']]);
    assert.deepEqual(suite.ds.runs[0].steps[0].fields.map((f) => [f.id, f.name]), [[1, 'Photo'], [2, 'Notes']]);
    const pn77 = suite.ds.parts.filter((p) => p.partNumber === 'PN-77').map((p) => [p.id, p.revision]);
    assert.deepEqual(pn77, [[7, 'A'], [8, 'B'], [9, 'C']]);
    assert.deepEqual(suite.ds.parts[2],
      { id: 3, partNumber: 'PN-1003', revision: 'A', description: 'Cable harness, type 3', entityId: '459' });
    assert.equal(suite.ds.parts[9].description, null);
    assert.deepEqual(suite.ds.procedures.filter((p) => p.title === 'Harness assembly').map((p) => p.id), [3, 4]);
    // Every title is unique but these, and no title is another's prefix but run 20's.
    const titles = suite.ds.runs.map((r) => r.title);
    const repeated = [...new Set(titles.filter((t, i) => titles.indexOf(t) !== i))].sort();
    assert.deepEqual(repeated, ['Bracket assembly', 'Pump housing build', 'SN004512 final test']);
    assert.ok(suite.ds.runs[18].title.startsWith(`${suite.ds.runs[19].title}\n`));
  });
});
