-- The kinds of attachment target, in one table: the key of the Lua API, the
-- GraphQL root field that looks the object up, the CLI flag, the manifest
-- word and the id type. The target checks, the lookup documents, the CLI, the
-- manifest and the entity cache all read it.
local cjson = require("cjson.safe")
local errors = require("ion.upload.errors")
local lookup = require("ion.upload.targets.by_name")
local messages = require("ion.upload.messages")
local untrusted = require("ion.upload.untrusted")

local targets = {}

-- In the order the error messages and the usage list them. entity_id is the
-- entity itself: nothing to look up (no root).
targets.list = {
  { key = "run_step", root = "runStep", flag = "--run-step", word = "run_step", id = "integer" },
  { key = "run", root = "run", flag = "--run", word = "run", id = "integer" },
  { key = "procedure", root = "procedure", flag = "--procedure", word = "procedure", id = "integer" },
  { key = "step", root = "step", flag = "--step", word = "step", id = "integer" },
  { key = "part", root = "part", flag = "--part", word = "part", id = "integer" },
  { key = "run_step_field", root = "runStepField", flag = "--run-step-field", word = "run_step_field",
    id = "integer" },
  { key = "entity_id", flag = "--entity-id", word = "entity_id", id = "string" },
}

targets.by_key = {}
targets.keys = {}
for i, t in ipairs(targets.list) do
  targets.by_key[t.key] = t
  targets.keys[i] = t.key
  -- One root field of an aliased lookup document (ion.upload.documents).
  if t.root then
    t.field = { root = t.root, arg = "id", type = "Int!", selection = "{ id entity { id } }" }
  end
end
local KINDS = table.concat(targets.keys, ", ")

--- The one key format of a target: "run_step=123" (journal keys, the entity
-- cache, the engine's target table); a lookup form (ion.upload.targets.by_name) has
-- its own canonical key.
function targets.cache_key(kind, id)
  if type(id) == "table" then return id.key end
  return kind .. "=" .. tostring(id)
end

local function bad(message)
  return nil, errors.new("bad_input", message, { field = "target" })
end

--- An object id: a positive whole number (or a string of digits) | nil.
function targets.object_id(v)
  if type(v) == "string" and v:match("^%d+$") then v = tonumber(v) end
  if type(v) ~= "number" or v ~= math.floor(v) or v < 1 or v >= 2 ^ 31 then return nil end
  return math.tointeger and math.tointeger(v) or v
end

--- An entity id (GraphQL ID): a non-empty string, or a whole number, as a string.
function targets.entity_id_string(v)
  if type(v) == "string" then
    if v == "" or v:find("[%c%s]") then return nil end
    return v
  end
  if type(v) == "number" and v == math.floor(v) and v >= 0 and v < 2 ^ 53 then
    return string.format("%.0f", v)
  end
  return nil
end

--- kind, normalised id | nil, err (bad_input).
function targets.check_id(kind, id)
  local t = targets.by_key[kind]
  if not t then return bad("target: unknown kind " .. tostring(kind) .. " (one of " .. KINDS .. ")") end
  if t.id == "string" then
    local s = targets.entity_id_string(id)
    if not s then return bad("target: " .. kind .. " must be a non-empty string or a whole number") end
    return kind, s
  end
  local n = targets.object_id(id)
  if type(id) == "table" then
    return bad("target: " .. kind .. " takes an id here (a target found by name is for upload, upload_many, plan)")
  end
  if not n then return bad("target: " .. kind .. " must be a positive whole number, got " .. tostring(id)) end
  return kind, n
end

--- kind, id of a target table with exactly one known key | nil, err
-- (bad_input); id is a lookup form (ion.upload.targets.by_name) when the value is a
-- table. Raises when target is no table (a misuse).
function targets.parse(target)
  if type(target) ~= "table" then
    error("target: expected a table such as { run_step = 123 }, got " .. type(target), 3)
  end
  local found, kind, id = 0, nil, nil
  for k, v in pairs(target) do
    if not targets.by_key[k] then return bad("target: unknown kind " .. tostring(k) .. " (one of " .. KINDS .. ")") end
    found, kind, id = found + 1, k, v
  end
  if found == 0 then return bad("target: name one of " .. KINDS) end
  if found > 1 then return bad("target: name exactly one kind, not " .. found) end
  if type(id) == "table" then
    local form, err = lookup.parse(kind, id)
    if not form then return nil, err end
    return kind, form
  end
  return targets.check_id(kind, id)
end

--- The entity.id that a lookup of (kind, id) answered, as a string | nil,
-- err: null is not_found, an answer without entity { id } (or an id that is
-- none: NaN, 1e999, "7\27[2J") is protocol. `what` names the target.
function targets.entity_of(kind, id, obj)
  if obj == nil or obj == cjson.null then
    return nil, errors.new("not_found", kind .. " " .. tostring(id) .. " not found")
  end
  local entity = type(obj) == "table" and obj.entity
  local eid = type(entity) == "table" and untrusted.id(entity.id)
  eid = eid and targets.entity_id_string(eid)
  if not eid then
    return nil, errors.new("protocol", targets.cache_key(kind, id) .. ": answer without entity { id }"
      .. " (a whole number or a string of digits)")
  end
  return eid
end

--- The entity id of one lookup field's outcome (ion.upload.documents): eid
-- | nil, err. A GraphQL error saying the object does not exist is not_found.
function targets.lookup_result(kind, id, out)
  if out.err then
    local err = out.err
    if err.code == "graphql" and messages.matches("not_found", err.message) then
      err.code, err.hint = "not_found", errors.hints.not_found
    end
    return nil, err
  end
  return targets.entity_of(kind, id, out.value)
end

--- A per-client cache of entity ids, keyed by targets.cache_key; entity_id
-- targets are their own answer. A lookup form's entry keeps the object id
-- it found too (get answers eid, id). Only what was found is put: a lookup
-- that found nothing is asked again (the run may be created later).
function targets.cache()
  local map = {}
  local cache = {}
  function cache.get(kind, id)
    if kind == "entity_id" then return id end
    local v = map[targets.cache_key(kind, id)]
    if type(v) == "table" then return v[1], v[2] end
    return v
  end
  function cache.put(kind, id, eid, found_id)
    map[targets.cache_key(kind, id)] = found_id and { eid, found_id } or eid
  end
  return cache
end

return targets
