'use strict';
// The fixed data set: attachment targets and their entity ids (what else
// they are, titles and the like, is catalog.js; the live set is targets.js).
//
// ION attaches files to an entity, not to the object: each object has an
// entity { id } that differs from its own id. Here the entity ids are a
// permutation of 1..520 (one per object), so every object id 1..200 is also
// some OTHER object's entity id: passing runStep.id where entity.id belongs
// attaches the file to the wrong object without any error, as the guide warns.

const TYPES = [
  // [GraphQL type field, how many, ids 1..count]
  ['runStep', 200],
  ['run', 50],
  ['procedure', 20],
  ['step', 100],
  ['part', 50],
  ['runStepField', 100],
];

// Released parts: ION refuses attachments to them whatever the token, for
// "a read-only target among good ones". Parts 46..50 would be the natural
// pick, but specs already attach to part 50, so 41..45.
const READ_ONLY = { part: [41, 42, 43, 44, 45] };

const TOTAL = TYPES.reduce((n, [, count]) => n + count, 0); // 520
// 11 is coprime with 520, so g -> (11g + 6) mod 520 + 1 is a permutation (and,
// checked at load, never maps an object to its own id); the offset makes
// runStep 1's entity 7, where run 7 also exists.
const STRIDE = 11;
const OFFSET = 6;

function build() {
  const byType = {};
  const byEntity = new Map();
  let g = 0;
  for (const [type, count] of TYPES) {
    byType[type] = new Map();
    for (let id = 1; id <= count; id++, g++) {
      const entityId = String(((g * STRIDE + OFFSET) % TOTAL) + 1);
      if (entityId === String(id)) throw new Error(`data set: ${type} ${id} has its own id as entity id`);
      if (byEntity.has(entityId)) throw new Error(`data set: entity id ${entityId} used twice`);
      byType[type].set(id, entityId);
      byEntity.set(entityId, { type, id });
    }
  }
  return { byType, byEntity };
}

const { byType, byEntity } = build();

// The object or null: unknown ids resolve to null, as ION does.
function lookup(type, id) {
  const entityId = byType[type] && byType[type].get(id);
  return entityId === undefined ? null : { id, entity: { id: entityId } };
}

function owner(entityId) {
  return byEntity.get(String(entityId)) || null;
}

// Why an entity refuses attachments, or null when it takes them.
function readOnlyReason(entityId) {
  const o = owner(entityId);
  if (!o || !(READ_ONLY[o.type] || []).includes(o.id)) return null;
  return `${o.type} ${o.id} is released and no longer accepts attachments`;
}

module.exports = { TYPES, READ_ONLY, lookup, owner, readOnlyReason };
