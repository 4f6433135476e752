'use strict';
// Hostile answers to target lookups (see hostile.js): the real answer edited
// so that a client finding "the run titled X" must refuse rather than pick.

// list_10000_edges: the first edge, then copies of it with ids from
// FAKE_ID + 1 and entity ids from FAKE_ENTITY + 1 (ids no object has), so a
// client that drops duplicate ids still sees 10,000 matches.
const MANY_EDGES = 10000;
const FAKE_ID = 1000000;
const FAKE_ENTITY = 2000000;

function fakeEdge(edge, i) {
  const copy = JSON.parse(JSON.stringify(edge));
  const node = copy.node && typeof copy.node === 'object' ? copy.node : {};
  if ('id' in node) node.id = FAKE_ID + i;
  if ('entityId' in node) node.entityId = String(FAKE_ENTITY + i);
  if (node.entity && typeof node.entity === 'object' && 'id' in node.entity) node.entity.id = String(FAKE_ENTITY + i);
  if ('cursor' in copy) copy.cursor = Buffer.from(`hostile:${i}`).toString('base64');
  return copy;
}

// connections: the root values of list queries; true if one had an edge to copy.
function manyEdges(connections) {
  const lists = connections.filter((c) => c && Array.isArray(c.edges) && c.edges.length > 0);
  for (const c of lists) {
    const first = c.edges[0];
    c.edges = Array.from({ length: MANY_EDGES }, (_, i) => (i === 0 ? first : fakeEdge(first, i)));
    const info = c.pageInfo && typeof c.pageInfo === 'object' ? c.pageInfo : {};
    if ('count' in info) info.count = MANY_EDGES;
    if ('totalCount' in info) info.totalCount = MANY_EDGES;
    if ('hasNextPage' in info) info.hasNextPage = false;
    if ('endCursor' in info) info.endCursor = c.edges[MANY_EDGES - 1].cursor ?? null;
  }
  return lists.length > 0;
}

// nodes_without_entity: entity and entityId deleted at every depth of the
// target roots' values (list nodes, a run's steps, a step's fields); true if
// any was.
function dropEntities(value) {
  if (!value || typeof value !== 'object') return false;
  let any = false;
  if (!Array.isArray(value)) {
    for (const key of ['entity', 'entityId']) {
      if (key in value) {
        delete value[key];
        any = true;
      }
    }
  }
  for (const v of Object.values(value)) any = dropEntities(v) || any;
  return any;
}

module.exports = { manyEdges, dropEntities, MANY_EDGES, FAKE_ID, FAKE_ENTITY };
