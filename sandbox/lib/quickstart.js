'use strict';
// What `make sandbox` (server.js --print) prints for a person: shell lines to
// paste into a second terminal (cd to the checkout, the two exports), the
// targets the data set holds, and three CLI commands that work as pasted.
// README.md's "Quick start" shows it; test/quickstart.test.js and
// spec/integration/quickstart_spec.lua check it.

const path = require('path');
const dataset = require('./dataset');

// The checkout this sandbox runs from: bin/ion-upload and examples/ are there.
const ROOT = path.resolve(__dirname, '..', '..');

// [data set type, CLI flag, words for a person]
const KINDS = [
  ['runStep', '--run-step', 'run steps'],
  ['run', '--run', 'runs'],
  ['procedure', '--procedure', 'procedures'],
  ['step', '--step', 'steps'],
  ['part', '--part', 'parts'],
  ['runStepField', '--run-step-field', 'run step fields'],
];

// The commands, each to a target that exists and takes attachments.
const COMMANDS = [
  ['runStep', 1, ['examples/files/measurements.csv']],
  ['part', 3, ['--json', 'examples/files/report.pdf']],
  ['run', 7, ['--dry-run', '-r', '--exclude', "'*.py'", 'examples/files']],
];

// POSIX shell quoting, for a path or a value that may hold anything.
function shq(s) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${String(s).replace(/'/g, "'\\''")}'`;
}

function flag(type) {
  return KINDS.find(([t]) => t === type)[1];
}

function targets() {
  return KINDS.map(([type, , words]) => {
    const count = dataset.TYPES.find(([t]) => t === type)[1];
    const ro = dataset.READ_ONLY[type];
    const note = ro ? ` (${ro[0]}-${ro[ro.length - 1]} released: ION refuses attachments)` : '';
    return `${words} 1-${count}${note}`;
  }).join(', ');
}

function commands() {
  return COMMANDS.map(([type, id, args]) => `bin/ion-upload ${flag(type)} ${id} ${args.join(' ')}`);
}

// curl's own request to GraphQL, for a look at the API without the CLI.
function curl(e) {
  const ca = e.ca_file ? ` --cacert ${shq(e.ca_file)}` : '';
  return [
    `  curl -s${ca} -H "Authorization: Bearer $ION_TOKEN" -H 'Content-Type: application/json' \\`,
    `       -d '{"query":"{ runStep(id: 1) { id entity { id } } }"}' ${shq(e.graphql)}`,
  ];
}

// The lines to print, for endpoints e (Sandbox.start()'s answer).
function lines(e) {
  const exports = [`  export ION_API_URL=${shq(e.graphql)}`, `  export ION_TOKEN=${shq(e.tokens.rw)}`];
  if (e.ca_file) {
    // the CLI has no flag for this run's CA: the exports and curl only
    return [...exports, `  CA file   ${e.ca_file} (TLS: this run's CA)`, '', ...curl(e)];
  }
  const entity = dataset.lookup('runStep', 1).entity.id;
  return [
    'In a second terminal, paste:',
    '',
    `  cd ${shq(ROOT)}`,
    ...exports,
    '',
    ...commands().map((c) => `  ${c}`),
    '',
    `Targets here: ${targets()}.`,
    `Each has an entity of its own (run step 1: entity ${entity}); ION attaches files to the entity.`,
    'GraphQL by hand:',
    ...curl(e),
  ];
}

module.exports = { lines, commands, targets, shq, ROOT, KINDS, COMMANDS };
