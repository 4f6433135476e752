'use strict';
// POST /graphql: bearer auth, faults, and execution of the served schema.
// Transport and auth failures are HTTP statuses; GraphQL failures are HTTP
// 200 with errors[] (each with its path), as ION answers.

const { parse, validate, specifiedRules, execute, getOperationAST, Kind, GraphQLError } = require('graphql');
const { readBody, sendJson, sleep } = require('./http-util');
const schemas = require('./schema');
const { createHostileGraphql } = require('./hostile-graphql');

// What a proxy in front of ION sends when the app behind it fails: HTML.
const BAD_GATEWAY_HTML = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n'
  + '<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';

const FAULT_MESSAGES = {
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout: the query took too long',
};

// With the introspection knob off: __schema and __type fail validation (HTTP
// 400, as other invalid documents), in the words of Graphene's rule for it.
// __typename stays allowed, as most servers that refuse introspection allow it.
function NoIntrospection(context) {
  return {
    Field(node) {
      const name = node.name.value;
      if (name === '__schema' || name === '__type') {
        context.reportError(new GraphQLError(`Cannot query '${name}': introspection is disabled.`, { nodes: node }));
      }
    },
  };
}
const WITHOUT_INTROSPECTION = [...specifiedRules, NoIntrospection];

function createGraphqlHandler({ tokens, faults, counters, root, log, hostile, urls, client }) {
  const strict = schemas.strict();
  const partial = schemas.nullableRoots();
  const hostileAnswer = createHostileGraphql(urls, { oauthClient: client });

  function reply(res, status, value, headers) {
    counters.status('graphql', status);
    sendJson(res, status, value, headers);
  }

  function sendFault(res, fault) {
    if (fault.kind === '429') {
      counters.data.graphql.faults['429']++;
      const retryAfter = String(faults.get('retry_after_s'));
      return reply(res, 429, { errors: [{ message: 'Too Many Requests' }] }, { 'Retry-After': retryAfter });
    }
    counters.data.graphql.faults['5xx']++;
    counters.status('graphql', fault.status);
    if (fault.status === 502) {
      res.writeHead(502, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(BAD_GATEWAY_HTML) });
      return res.end(BAD_GATEWAY_HTML);
    }
    return sendJson(res, fault.status, { errors: [{ message: FAULT_MESSAGES[fault.status] }] });
  }

  // Top-level fields of the operation that runs, by field name (not alias):
  // a document with 8 aliased createFileAttachment counts 8.
  function countFields(op) {
    for (const sel of op.selectionSet.selections) {
      if (sel.kind === Kind.FIELD) counters.field(sel.name.value);
    }
  }

  return async function handle(req, res) {
    counters.data.graphql.requests++;
    if (req.method !== 'POST') {
      return reply(res, 405, { errors: [{ message: 'Use POST' }] }, { Allow: 'POST' });
    }
    let raw;
    try {
      raw = await readBody(req);
    } catch (err) {
      return reply(res, err.status || 400, { errors: [{ message: err.message }] });
    }

    // Latency and the "not processed" faults come first, as a rate limiter
    // or an overloaded front end would answer before ION runs anything.
    const latency = faults.get('graphql_latency_ms');
    if (latency > 0) await sleep(latency);
    const fault = faults.graphqlFault();
    if (fault && (fault.kind === '429' || fault.status === 503)) return sendFault(res, fault);

    const auth = tokens.check(req.headers.authorization);
    if (!auth.ok) return reply(res, 401, { errors: [{ message: auth.message }] });

    let body;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return reply(res, 400, { errors: [{ message: 'Request body is not valid JSON' }] });
    }
    if (!body || typeof body.query !== 'string') {
      return reply(res, 400, { errors: [{ message: 'Request body must be {"query": ..., "variables": ...}' }] });
    }
    const schema = faults.get('partial_data') ? partial : strict;
    let document;
    try {
      document = parse(body.query);
    } catch (err) {
      return reply(res, 400, { errors: [err instanceof GraphQLError ? err.toJSON() : { message: err.message }] });
    }
    const invalid = validate(schema, document, faults.get('introspection') ? specifiedRules : WITHOUT_INTROSPECTION);
    if (invalid.length) return reply(res, 400, { errors: invalid.map((e) => e.toJSON()) });
    const op = getOperationAST(document, body.operationName || undefined);
    if (!op) return reply(res, 400, { errors: [{ message: 'No operation to run (give operationName)' }] });
    countFields(op);

    const result = await execute({
      schema,
      document,
      rootValue: root,
      contextValue: { tokenKind: auth.kind },
      variableValues: body.variables || {},
      operationName: body.operationName || undefined,
    });
    // 500, 502, 504 and a dropped connection: the work was done but the
    // answer is lost on the way back, the case where a client must not
    // blindly repeat a mutation.
    if (fault && fault.kind === 'drop') {
      counters.data.graphql.faults.drop++;
      counters.status('graphql', 'dropped');
      return req.socket.destroy();
    }
    if (fault) return sendFault(res, fault);
    // A hostile answer instead of this one, when one is armed and applies.
    const mode = hostile.peek('graphql');
    const status = mode ? hostileAnswer(mode, { req, res, result, op }) : null;
    if (status !== null) {
      hostile.used();
      counters.hostile('graphql', mode);
      log(`graphql hostile answer: ${mode}`);
      return counters.status('graphql', status);
    }
    if (result.errors) log(`graphql errors: ${result.errors.map((e) => e.message).join('; ')}`);
    return reply(res, 200, result);
  };
}

module.exports = { createGraphqlHandler };
