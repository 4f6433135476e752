'use strict';
// Command-line flags. Fault knobs are the names of POST /admin/faults with
// dashes (--storage-503-rate 0.1); --seed and --url-lifetime are short forms.

const { parseArgs } = require('util');
const { KNOBS } = require('./faults');
const { tokenPaths } = require('./oauth');
const outage = require('./outage');

const USAGE = `usage: node sandbox/server.js [--state FILE] [--print] [options]
  --state FILE          write the endpoints and tokens as JSON to FILE once ready
  --print               print the endpoint and a token for a person (foreground)
  --graphql-port N      API port (GraphQL, token endpoint, admin); default: free
  --storage-port N      storage gate port; default: free
  --directory DIR       keep stored objects, attachments and credentials in DIR (default: a temp dir,
                        removed at exit); a new run on the same ports and DIR is the same site
  --outage T:M:S        start with an outage: T graphql|storage|both, M refuse|reset, S seconds
  --parent-pid N        exit when process N is gone
  --tls                 serve https (API and storage) with a CA made at start (ca_file in the state file)
  --verbose             log requests to stderr (never tokens or URL queries)
  --secrets-log FILE    append every token, client secret and URL signature issued to FILE
  --seed N              fault PRNG seed
  --url-lifetime S      presigned URL lifetime in seconds (= --url-lifetime-s)
  --token-path FORM     token endpoint path served: noauth (/realms/..., default), auth (/auth/realms/...), both
  --no-introspection    refuse __schema and __type queries (= --introspection false)
fault and behaviour knobs (same names as POST /admin/faults, with dashes):
${Object.keys(KNOBS).map((k) => `  --${k.replace(/_/g, '-')}`).join('\n')}
`;

function parse(argv) {
  const options = {
    state: { type: 'string' },
    print: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    verbose: { type: 'boolean' },
    tls: { type: 'boolean' },
    'secrets-log': { type: 'string' },
    'graphql-port': { type: 'string' },
    'storage-port': { type: 'string' },
    'directory': { type: 'string' },
    'parent-pid': { type: 'string' },
    'url-lifetime': { type: 'string' },
    'token-path': { type: 'string' },
    outage: { type: 'string' },
    'no-introspection': { type: 'boolean' },
  };
  for (const name of Object.keys(KNOBS)) options[name.replace(/_/g, '-')] = { type: 'string' };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });

  const faults = {};
  for (const name of Object.keys(KNOBS)) {
    const v = values[name.replace(/_/g, '-')];
    if (v !== undefined) faults[name] = v;
  }
  if (values['url-lifetime'] !== undefined) faults.url_lifetime_s = values['url-lifetime'];
  if (values['no-introspection']) faults.introspection = false;

  const port = (name) => {
    const v = values[name];
    if (v === undefined) return 0;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number`);
    return n;
  };
  if (values['token-path'] !== undefined) tokenPaths(values['token-path']); // throws for a bad form
  return {
    help: !!values.help,
    state: values.state,
    print: !!values.print,
    verbose: !!values.verbose,
    tls: !!values.tls,
    secretsLog: values['secrets-log'],
    graphqlPort: port('graphql-port'),
    storagePort: port('storage-port'),
    directory: values.directory,
    parentPid: values['parent-pid'] !== undefined ? Number(values['parent-pid']) : undefined,
    tokenPath: values['token-path'],
    outage: values.outage !== undefined ? outage.parseFlag(values.outage) : undefined,
    faults,
  };
}

module.exports = { parse, USAGE };
