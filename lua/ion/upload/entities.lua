-- Attachment targets: validation of the target table, and resolution of an
-- object's id to the entity.id that createFileAttachment wants (cached per client).
local cjson = require("cjson.safe")
local errors = require("ion.upload.errors")
local queries = require("ion.upload.queries")
local graphql = require("ion.upload.graphql")
local untrusted = require("ion.upload.untrusted")

local entities = {}

-- Target keys of the Lua API, in the order the error messages list them.
entities.kinds = { "run_step", "run", "procedure", "step", "part", "run_step_field", "entity_id" }
local is_kind = {}
for _, k in ipairs(entities.kinds) do is_kind[k] = true end

local function bad(message)
  return nil, errors.new("bad_input", message, { field = "target" })
end

-- An object id: a positive whole number (or a string of digits).
function entities.object_id(v)
  if type(v) == "string" and v:match("^%d+$") then v = tonumber(v) end
  if type(v) ~= "number" or v ~= math.floor(v) or v < 1 or v >= 2 ^ 31 then return nil end
  return math.tointeger and math.tointeger(v) or v
end

-- An entity id (GraphQL ID): a non-empty string, or a whole number, as a string.
function entities.entity_id_string(v)
  if type(v) == "string" then
    if v == "" or v:find("[%c%s]") then return nil end
    return v
  end
  if type(v) == "number" and v == math.floor(v) and v >= 0 and v < 2 ^ 53 then
    return string.format("%.0f", v)
  end
  return nil
end

-- The entity.id of a lookup's answer { entity = { id } } as a string, or nil
-- when it is missing or no id (untrusted.id: NaN, 1e999, "7\27[2J" are not).
function entities.answer_entity_id(obj)
  local entity = type(obj) == "table" and obj.entity
  local id = type(entity) == "table" and untrusted.id(entity.id)
  return id and entities.entity_id_string(id) or nil
end

-- kind, id of a target table with exactly one known key | nil, err (bad_input).
function entities.parse_target(target)
  if type(target) ~= "table" then
    error("target: expected a table such as { run_step = 123 }, got " .. type(target), 3)
  end
  local found, kind, id = 0, nil, nil
  for k, v in pairs(target) do
    if not is_kind[k] then
      return bad("target: unknown kind " .. tostring(k) .. " (one of " .. table.concat(entities.kinds, ", ") .. ")")
    end
    found, kind, id = found + 1, k, v
  end
  if found == 0 then
    return bad("target: name one of " .. table.concat(entities.kinds, ", "))
  end
  if found > 1 then
    return bad("target: name exactly one kind, not " .. found)
  end
  return entities.check_id(kind, id)
end

-- kind, normalised id | nil, err.
function entities.check_id(kind, id)
  if kind == "entity_id" then
    local s = entities.entity_id_string(id)
    if not s then return bad("target: entity_id must be a non-empty string or a whole number") end
    return kind, s
  end
  if not is_kind[kind] then
    return bad("target: unknown kind " .. tostring(kind) .. " (one of " .. table.concat(entities.kinds, ", ") .. ")")
  end
  local n = entities.object_id(id)
  if not n then return bad("target: " .. kind .. " must be a positive whole number, got " .. tostring(id)) end
  return kind, n
end

-- The entity.id of (kind, id): a string | nil, err. entity_id is used as is.
function entities.resolve(client, kind, id)
  if kind == "entity_id" then return id end
  local key = kind .. ":" .. tostring(id)
  local cached = client._entity_cache[key]
  if cached then return cached end
  local data, err = graphql.call(client, queries.entity[kind], { id = id })
  if not data then
    return nil, graphql.lookup_error(err)
  end
  local obj = data[queries.entity_field[kind]]
  if obj == nil or obj == cjson.null then
    return nil, errors.new("not_found", kind .. " " .. tostring(id) .. " not found")
  end
  local eid = entities.answer_entity_id(obj)
  if not eid then
    return nil, errors.new("protocol", kind .. " " .. tostring(id) .. ": answer without entity { id }"
      .. " (a whole number or a string of digits)")
  end
  client._entity_cache[key] = eid
  return eid
end

return entities
