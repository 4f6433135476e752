'use strict';
// What the fixed targets are besides their ids: titles, statuses, part
// numbers, and which run steps belong to which run. Everything is a function
// of the object id, so the data set is the same every run; the entity ids
// stay dataset.js's permutation.
//
// Made for finding targets by what a station knows: titles that repeat
// (ambiguity), serial numbers in run titles, part numbers with revisions, a
// title that breaks a careless GraphQL literal, and run steps whose titles
// repeat within one run.

// Runs 1..50 run procedure ((id - 1) mod 20) + 1 and get its first four steps.
const STEPS_PER_RUN = 4;
const STEPS_PER_PROCEDURE = 5;
const FIELDS_PER_RUN = 2; // on the run's first step
const PROCEDURES = 20;

// A step title pattern per procedure ((id - 1) mod 3); pattern B has
// "Final test" twice, so a run of it has two steps of that title.
const STEP_PATTERNS = [
  ['Receiving inspection', 'Assembly', 'Torque check', 'Final test'],
  ['Receiving inspection', 'Final test', 'Rework', 'Final test'],
  ['Kitting', 'Assembly', 'Functional test', 'Packaging'],
];
const LAST_PROCEDURE_STEP = 'Sign-off';
const FIELD_NAMES = ['Photo', 'Notes'];

// Procedures 3 and 4 share a title (two versions of one procedure).
const PROCEDURE_TITLES = [
  'Bracket assembly', 'Pump housing build', 'Harness assembly', 'Harness assembly', 'Valve body machining',
  'Final test', 'Motor controller build', 'Enclosure paint', 'Sensor calibration', 'Battery pack assembly',
  'Gearbox assembly', 'Cable routing', 'Leak test', 'Firmware load', 'Frame welding',
  'Thermal cycling', 'Label and pack', 'Fan tray build', 'Power supply burn-in', 'Chassis integration',
];

// A title with everything a GraphQL string literal must escape: quotes,
// backslashes (one before an "n"), a newline, a "#", and text that would
// close the literal and open a mutation if spliced in raw.
const INJECTION_TITLE = 'Tricky "run" C:\\temp\\new\nline 2 # not a comment '
  + '"){ x: createFileAttachment(input: {}) { fileAttachment { id } } } #';
// Decoys a wrong literal would find instead: the first line alone, and the
// title as GraphQL reads it when backslashes are not escaped (\t, \n).
const INJECTION_FIRST_LINE = INJECTION_TITLE.split('\n')[0];
const INJECTION_UNESCAPED = INJECTION_TITLE.replace(/\\t/g, '\t').replace(/\\n/g, '\n');

// Runs with a title and status of their own; the others are
// "<procedure title> run <id>", with a status from RUN_STATUS_CYCLE.
const SPECIAL_RUNS = new Map([
  // serials: "SN0045<id + 10> final test"
  ...Array.from({ length: 12 }, (_, i) => [i + 1, {
    title: `SN0045${i + 11} final test`, status: ['IN_PROGRESS', 'COMPLETE', 'TODO'][i % 3],
  }]),
  // the same title three times, in three statuses
  [13, { title: 'Bracket assembly', status: 'TODO' }],
  [14, { title: 'Bracket assembly', status: 'IN_PROGRESS' }],
  [15, { title: 'Bracket assembly', status: 'COMPLETE' }],
  [16, { title: 'Pump housing build', status: 'IN_PROGRESS' }],
  [17, { title: 'Pump housing build', status: 'CANCELED' }],
  // a retest: serial SN004512 (run 2, COMPLETE) run again
  [18, { title: 'SN004512 final test', status: 'IN_PROGRESS' }],
  [19, { title: INJECTION_TITLE, status: 'IN_PROGRESS' }],
  [20, { title: INJECTION_FIRST_LINE, status: 'IN_PROGRESS' }],
  [21, { title: INJECTION_UNESCAPED, status: 'IN_PROGRESS' }],
  [22, { title: 'Endprüfung ✓ Los 7', status: 'TODO' }],
]);
const RUN_STATUS_CYCLE = ['TODO', 'IN_PROGRESS', 'COMPLETE', 'IN_PROGRESS', 'CANCELED'];

// Parts are PN-<1000 + id> rev A, except PN-77 in three revisions; part 10
// has no description.
const PART_OVERRIDES = new Map([
  [7, { partNumber: 'PN-77', revision: 'A' }],
  [8, { partNumber: 'PN-77', revision: 'B' }],
  [9, { partNumber: 'PN-77', revision: 'C' }],
  [10, { description: null }],
]);
const PART_NAMES = ['Bracket', 'Pump housing', 'Cable harness', 'Valve body', 'Sensor board', 'Enclosure', 'Gear'];

const procedureOfRun = (runId) => ((runId - 1) % PROCEDURES) + 1;
const patternOf = (procedureId) => STEP_PATTERNS[(procedureId - 1) % STEP_PATTERNS.length];

function run(id) {
  const special = SPECIAL_RUNS.get(id);
  const procedureId = procedureOfRun(id);
  if (special) return { id, procedureId, ...special };
  return {
    id, procedureId,
    title: `${PROCEDURE_TITLES[procedureId - 1]} run ${id}`,
    status: RUN_STATUS_CYCLE[id % RUN_STATUS_CYCLE.length],
  };
}

// A run step's status follows its run's: in an IN_PROGRESS run the steps
// before position k are done, k is under way ((run id - 1) mod 4 + 1).
function stepStatus(runStatus, runId, position) {
  if (runStatus === 'COMPLETE') return 'COMPLETE';
  if (runStatus !== 'IN_PROGRESS') return 'TODO';
  const current = ((runId - 1) % STEPS_PER_RUN) + 1;
  if (position < current) return 'COMPLETE';
  return position === current ? 'IN_PROGRESS' : 'TODO';
}

// Run step id -> { runId, position, title, status }.
function runStep(id) {
  const runId = Math.floor((id - 1) / STEPS_PER_RUN) + 1;
  const position = ((id - 1) % STEPS_PER_RUN) + 1;
  const r = run(runId);
  const title = patternOf(r.procedureId)[position - 1];
  return { id, runId, position, title, status: stepStatus(r.status, runId, position) };
}

function runStepField(id) {
  const runId = Math.floor((id - 1) / FIELDS_PER_RUN) + 1;
  return { id, runStepId: (runId - 1) * STEPS_PER_RUN + 1, name: FIELD_NAMES[(id - 1) % FIELDS_PER_RUN] };
}

function procedure(id) {
  return { id, title: PROCEDURE_TITLES[id - 1] };
}

function step(id) {
  const procedureId = Math.floor((id - 1) / STEPS_PER_PROCEDURE) + 1;
  const position = ((id - 1) % STEPS_PER_PROCEDURE) + 1;
  const titles = [...patternOf(procedureId), LAST_PROCEDURE_STEP];
  return { id, procedureId, title: titles[position - 1] };
}

function part(id) {
  const name = PART_NAMES[(id - 1) % PART_NAMES.length];
  return {
    id, partNumber: `PN-${1000 + id}`, revision: 'A', description: `${name}, type ${id}`, ...PART_OVERRIDES.get(id),
  };
}

// The descriptive fields of object `id` of a dataset.js type.
const DESCRIBE = { run, runStep, runStepField, procedure, step, part };

module.exports = { DESCRIBE };
