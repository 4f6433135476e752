'use strict';
// Builds the executable schema from schema.graphql. The file is served as
// written; with partial_data the root fields are made nullable, so that one
// failing alias in a document nulls only itself instead of all of `data`
// (what a Graphene server, whose fields are nullable by default, does).

const fs = require('fs');
const path = require('path');
const { buildSchema, parse, visit, Kind, buildASTSchema } = require('graphql');

const SDL = fs.readFileSync(path.join(__dirname, '..', 'schema.graphql'), 'utf8');

function strict() {
  return buildSchema(SDL);
}

function nullableRoots() {
  const doc = visit(parse(SDL), {
    FieldDefinition(node, key, parent, p, ancestors) {
      const owner = ancestors[ancestors.length - 1];
      const rootType = owner && (owner.name.value === 'Query' || owner.name.value === 'Mutation');
      if (rootType && node.type.kind === Kind.NON_NULL_TYPE) return { ...node, type: node.type.type };
      return undefined;
    },
  });
  return buildASTSchema(doc);
}

module.exports = { SDL, strict, nullableRoots };
