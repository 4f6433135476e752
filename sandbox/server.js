#!/usr/bin/env node
'use strict';
// Entry point: starts a sandbox, writes the state file (atomically, once both
// servers accept connections), and stops cleanly on SIGTERM or SIGINT.

const fs = require('fs');
const path = require('path');
const cli = require('./lib/cli');
const { Faults } = require('./lib/faults');
const { Sandbox } = require('./lib/sandbox');
const quickstart = require('./lib/quickstart');

function writeState(file, endpoints) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function printForPerson(e) {
  // The one place a token is printed: this mode exists to hand one to a person.
  process.stdout.write([
    'ION sandbox running (Ctrl-C to stop)',
    `  GraphQL   ${e.graphql}`,
    `  storage   ${e.storage}`,
    `  admin     ${e.admin}/attachments, ${e.admin}/counters`,
    '',
    ...quickstart.lines(e),
    '',
  ].join('\n'));
}

async function main() {
  let args;
  try {
    args = cli.parse(process.argv.slice(2));
    new Faults(args.faults); // validates the knobs before anything starts
  } catch (err) {
    process.stderr.write(`sandbox: ${err.message}\n${cli.USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(cli.USAGE);
    return;
  }

  let sandbox;
  try {
    sandbox = new Sandbox(args); // reads --directory's saved credentials
  } catch (err) {
    process.stderr.write(`sandbox: cannot start: ${err.message}\n`);
    process.exit(1);
  }
  const statePath = args.state && path.resolve(args.state);
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    await sandbox.stop().catch((err) => process.stderr.write(`sandbox: stop: ${err.message}\n`));
    if (statePath) fs.rmSync(statePath, { force: true });
    process.exit(code);
  };
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));

  let endpoints;
  try {
    endpoints = await sandbox.start();
  } catch (err) {
    process.stderr.write(`sandbox: cannot start: ${err.message}\n`);
    return stop(1);
  }
  if (statePath) writeState(statePath, endpoints);
  if (args.print) printForPerson(endpoints);
  if (args.parentPid) {
    setInterval(() => {
      try {
        process.kill(args.parentPid, 0);
      } catch {
        stop(0);
      }
    }, 1000).unref();
  }
}

main();
