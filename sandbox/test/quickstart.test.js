'use strict';
// `make sandbox` (server.js --print): the lines a person pastes. The exports
// are read back by a real shell, and every target the commands name exists
// in this sandbox, with the entity the data set gives, and takes attachments.
// (spec/integration/quickstart_spec.lua runs the commands themselves.)

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const dataset = require('../lib/dataset');
const quickstart = require('../lib/quickstart');
const { SERVER, Client, waitUntil } = require('../testkit/sandbox');

// The sandbox's --print output, its state, and a stop function.
async function printed() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-qs-'));
  const stateFile = path.join(dir, 'state.json');
  const child = spawn(process.execPath, [SERVER, '--print', '--state', stateFile, '--parent-pid', String(process.pid)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await waitUntil(() => fs.existsSync(stateFile) && /GraphQL by hand:\n[^]*\/graphql\n$/.test(out),
    { what: 'the --print output' });
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  const stop = () => new Promise((resolve) => {
    child.once('exit', (code) => { fs.rmSync(dir, { recursive: true, force: true }); resolve(code); });
    child.kill('SIGTERM');
  });
  return { out, state, stop };
}

// The indented lines between "paste:" and the targets line.
function pasteBlock(out) {
  const block = out.split('In a second terminal, paste:\n')[1].split('\nTargets here:')[0];
  return block.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.slice(2));
}

// The words sh makes of a command line.
function words(line) {
  const r = spawnSync('sh', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

describe('make sandbox: the quick start it prints', () => {
  it('exports that a shell reads back, from the checkout, and commands to targets that exist', async () => {
    const { out, state, stop } = await printed();
    try {
      const lines = pasteBlock(out);
      const setup = lines.filter((l) => l.startsWith('cd ') || l.startsWith('export '));
      assert.equal(setup.length, 3, out);
      const sh = spawnSync('sh', ['-c', `${setup.join('\n')}\nprintf '%s\\n' "$PWD" "$ION_API_URL" "$ION_TOKEN"`],
        { encoding: 'utf8', cwd: os.tmpdir() });
      assert.equal(sh.status, 0, sh.stderr);
      assert.deepEqual(sh.stdout.split('\n').slice(0, 3), [fs.realpathSync(quickstart.ROOT), state.graphql,
        state.tokens.rw]);

      const commands = lines.filter((l) => l.startsWith('bin/ion-upload '));
      assert.equal(commands.length, 3, out);
      assert.ok(fs.existsSync(path.join(quickstart.ROOT, 'bin/ion-upload')));
      const sb = new Client(state);
      for (const line of commands) {
        const argv = words(line);
        const kind = quickstart.KINDS.find(([, flag]) => argv.includes(flag));
        assert.ok(kind, `${line}: names no target`);
        const id = Number(argv[argv.indexOf(kind[1]) + 1]);
        const known = dataset.lookup(kind[0], id);
        assert.ok(known, `${line}: ${kind[0]} ${id} is not in the data set`);
        assert.equal(dataset.readOnlyReason(known.entity.id), null, `${line}: a read-only target`);
        const r = await sb.gql(`{ ${kind[0]}(id: ${id}) { id entity { id } } }`);
        assert.equal(r.json.data[kind[0]].entity.id, known.entity.id, `${line}: ${r.body}`);
        // the files and folders it names (not the value of --exclude) are in the checkout
        argv.slice(1).forEach((a, i, rest) => {
          if (a.startsWith('-') || rest[i - 1] === '--exclude' || rest[i - 1] === kind[1]) return;
          assert.ok(fs.existsSync(path.join(quickstart.ROOT, a)), `${line}: ${a} is not in the checkout`);
        });
      }
      assert.match(out, new RegExp(`run steps 1-${dataset.TYPES[0][1]}`));
    } finally {
      assert.equal(await stop(), 0);
    }
  });

  it('over TLS prints the exports and the CA, and no CLI command (it has no flag for the CA)', () => {
    const text = quickstart.lines({ graphql: 'https://127.0.0.1:1/graphql', tokens: { rw: 'sbx_rw_x' }, ca_file: '/t/ca.pem' })
      .join('\n');
    assert.match(text, /export ION_API_URL=https:\/\/127\.0\.0\.1:1\/graphql\n/);
    assert.match(text, /--cacert \/t\/ca\.pem/);
    assert.ok(!text.includes('bin/ion-upload'), text);
  });
});
