'use strict';
// The attachment targets a sandbox serves: the fixed data set (entity ids
// from dataset.js, titles and the rest from catalog.js) plus runs created or
// renamed through /admin/runs while it runs. reset() brings back the fixed set.

const dataset = require('./dataset');
const { DESCRIBE } = require('./catalog');

const RUN_STATUSES = ['TODO', 'IN_PROGRESS', 'COMPLETE', 'CANCELED'];
const STEP_STATUSES = ['TODO', 'IN_PROGRESS', 'COMPLETE'];
const FIXED_ENTITIES = dataset.TYPES.reduce((n, [, count]) => n + count, 0);
const MAX_TITLE = 4096;
const MAX_STEPS = 50;
const MAX_FIELDS = 10;

// Checks one value of an /admin/runs body; throws a message naming it.
function check(what, value, ok, expected) {
  if (!ok(value)) throw new Error(`${what} must be ${expected}, got ${JSON.stringify(value)}`);
  return value;
}
const isTitle = (v) => typeof v === 'string' && v.length > 0 && v.length <= MAX_TITLE;
const isListOf = (max) => (v) => Array.isArray(v) && v.length <= max;
const isOneOf = (list) => (v) => list.includes(v);
// Lua's cjson encodes an empty table as {}: taken for an empty list.
const asList = (v) => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 ? [] : v);
const TITLE = `a string of 1..${MAX_TITLE} characters`;

class Targets {
  constructor() {
    this.reset();
  }

  reset() {
    this.byType = {};
    this.byEntity = new Map();
    for (const [type, count] of dataset.TYPES) {
      this.byType[type] = new Map();
      for (let id = 1; id <= count; id++) this.add(type, DESCRIBE[type](id), dataset.lookup(type, id).entity.id);
    }
    for (const s of this.byType.runStep.values()) this.byType.run.get(s.runId).steps.push(s);
    for (const f of this.byType.runStepField.values()) this.byType.runStep.get(f.runStepId).fields.push(f);
    this.nextEntity = FIXED_ENTITIES + 1;
  }

  add(type, fields, entityId) {
    const record = { ...fields, entityId, entity: { id: entityId } };
    if (type === 'run') record.steps = [];
    if (type === 'runStep') record.fields = [];
    this.byType[type].set(record.id, record);
    this.byEntity.set(entityId, { type, id: record.id });
    return record;
  }

  // A new object of `type` with the next free id and entity id.
  create(type, fields) {
    const id = Math.max(0, ...this.byType[type].keys()) + 1;
    return this.add(type, { ...fields, id }, String(this.nextEntity++));
  }

  // The object or null: unknown ids resolve to null, as ION does.
  get(type, id) {
    return this.byType[type].get(id) || null;
  }

  list(type) {
    return [...this.byType[type].values()];
  }

  entityExists(entityId) {
    return this.byEntity.has(String(entityId));
  }

  // Why an entity refuses attachments, or null (created runs never do).
  readOnlyReason(entityId) {
    return dataset.readOnlyReason(entityId);
  }

  // POST /admin/runs: {title, status?, procedureId?, steps?: [title | {title, status?, fields?: [name]}]}.
  createRun(body) {
    const b = check('the body', body, (v) => v && typeof v === 'object' && !Array.isArray(v), 'a JSON object');
    const title = check('title', b.title, isTitle, TITLE);
    const status = check('status', b.status ?? 'TODO', isOneOf(RUN_STATUSES), RUN_STATUSES.join('|'));
    const procedureId = check('procedureId', b.procedureId ?? 1, (v) => this.byType.procedure.has(v), 'a procedure id');
    const steps = check('steps', asList(b.steps ?? []), isListOf(MAX_STEPS), `a list of at most ${MAX_STEPS}`);
    const clean = steps.map((s, i) => {
      const step = typeof s === 'string' ? { title: s } : s || {};
      const fields = check(`steps[${i}].fields`, asList(step.fields ?? []), isListOf(MAX_FIELDS),
        `a list of at most ${MAX_FIELDS}`);
      return {
        title: check(`steps[${i}].title`, step.title, isTitle, TITLE),
        status: check(`steps[${i}].status`, step.status ?? 'TODO', isOneOf(STEP_STATUSES), STEP_STATUSES.join('|')),
        fields: fields.map((name, j) => check(`steps[${i}].fields[${j}]`, name, isTitle, TITLE)),
      };
    });
    const run = this.create('run', { title, status, procedureId });
    clean.forEach((s, i) => {
      const step = this.create('runStep', { runId: run.id, position: i + 1, title: s.title, status: s.status });
      run.steps.push(step);
      for (const name of s.fields) step.fields.push(this.create('runStepField', { runStepId: step.id, name }));
    });
    return runJSON(run);
  }

  // POST /admin/runs/update: {id, title?, status?}; answers the run as it is now.
  updateRun(body) {
    const b = check('the body', body, (v) => v && typeof v === 'object' && !Array.isArray(v), 'a JSON object');
    const run = check('id', this.get('run', b.id), Boolean, 'the id of a run');
    if (b.title !== undefined) run.title = check('title', b.title, isTitle, TITLE);
    if (b.status !== undefined) run.status = check('status', b.status, isOneOf(RUN_STATUSES), RUN_STATUSES.join('|'));
    return runJSON(run);
  }

  // GET /admin/dataset: id -> entity id per type (as before), readOnly, and
  // the objects behind the list queries (runs with their steps, parts, ...).
  toJSON() {
    const out = {};
    for (const [type, map] of Object.entries(this.byType)) {
      out[type] = Object.fromEntries([...map.values()].map((r) => [String(r.id), r.entityId]));
    }
    out.readOnly = JSON.parse(JSON.stringify(dataset.READ_ONLY));
    out.runs = this.list('run').map(runJSON);
    out.parts = this.list('part').map(({ id, partNumber, revision, description, entityId }) => ({
      id, partNumber, revision, description, entityId,
    }));
    out.procedures = this.list('procedure').map(({ id, title, entityId }) => ({ id, title, entityId }));
    out.steps = this.list('step').map(({ id, title, procedureId, entityId }) => ({ id, title, procedureId, entityId }));
    return out;
  }
}

function runJSON(run) {
  const { id, title, status, procedureId, entityId } = run;
  return {
    id, title, status, procedureId, entityId,
    steps: run.steps.map((s) => ({
      id: s.id, title: s.title, position: s.position, status: s.status, entityId: s.entityId,
      fields: s.fields.map((f) => ({ id: f.id, name: f.name, entityId: f.entityId })),
    })),
  };
}

module.exports = { Targets };
