-- What a lookup form (ion.upload.targets.by_name) asks ION, one root field of an
-- aliased document each, and how the answer is read: exactly one object
-- must match (none is not_found, two are ambiguous: never the first of
-- many). Answers are untrusted: a list longer than asked, or a node without
-- its entity, is protocol, found without walking more than it must.
local cjson = require("cjson.safe")
local errors = require("ion.upload.errors")
local lookup = require("ion.upload.targets.by_name")
local targets = require("ion.upload.targets")
local untrusted = require("ion.upload.untrusted")

local answer = {}

-- Two edges tell one match from many: an ambiguous filter costs no more.
answer.first = 2

local ENTITY = "entity { id }"
local FIELDS = "fields { id name " .. ENTITY .. " }"
local LIST = "{ edges { node { id " .. ENTITY .. " } } }"
local RUN = { root = "run", arg = "id", type = "Int!",
  selection = "{ id steps { id title position " .. ENTITY .. " " .. FIELDS .. " } }" }
local RUN_STEP = { root = "runStep", arg = "id", type = "Int!", selection = "{ id " .. FIELDS .. " }" }

--- The document entry (documents.build) of a list lookup, and its key
-- (the same key is one alias in a window).
function answer.list_entry(form)
  return { field = { root = form.list, selection = LIST },
    args = "filters: " .. form.literal .. ", first: " .. answer.first }, "list:" .. form.key
end

--- The entry that asks run `run_id` for its steps (with their fields).
function answer.run_entry(run_id)
  return { field = RUN, value = run_id }, "run:" .. run_id
end

--- The entry that asks run step `step_id` for its fields.
function answer.run_step_entry(step_id)
  return { field = RUN_STEP, value = step_id }, "runStep:" .. step_id
end

local PLURAL = { run = "runs", part = "parts", procedure = "procedures", step = "steps" }

local function protocol(what)
  return nil, errors.new("protocol", what)
end

local function not_found(message, text)
  return nil, errors.new("not_found", message, { lookup = text, count = 0,
    hint = "Check the target's words (exact, case and spaces included), or create the object first" })
end

local function ambiguous(message, text)
  return nil, errors.new("bad_input", "ambiguous: " .. message, { lookup = text, count = 2, field = "target",
    hint = "Narrow the filter (e.g. add status = { eq = upload.enum(\"IN_PROGRESS\") }) or give the id" })
end

-- id, entity id of one node of the answer | nil, err (protocol).
local function node_ids(node, what)
  if type(node) ~= "table" then return protocol(what .. ": a node that is not an object") end
  local id = targets.object_id(untrusted.id(node.id))
  local entity = node.entity
  local eid = type(entity) == "table" and untrusted.id(entity.id)
  eid = eid and targets.entity_id_string(eid)
  if not id or not eid then return protocol(what .. ": a node without id or entity { id }") end
  return id, eid
end

local function list_of(v, what)
  if v == nil or v == cjson.null then return {} end
  if type(v) ~= "table" then return nil, what .. " is not a list" end
  return v
end

--- The object a list lookup found: id, eid | nil, err.
function answer.one(form, value)
  local what = form.list .. "(" .. lookup.describe_where(form.where) .. ")"
  local edges = type(value) == "table" and value.edges
  if type(edges) ~= "table" then return protocol(what .. ": an answer without edges") end
  local n = #edges -- counted, not walked: a hostile list of 10,000 is refused as it is
  if n > answer.first then
    return protocol(what .. ": " .. n .. " edges answered where at most " .. answer.first .. " were asked")
  end
  local matches = PLURAL[form.kind] .. " match " .. lookup.describe_where(form.where)
  if n == 0 then return not_found("no " .. form.kind .. " matches " .. lookup.describe_where(form.where), form.text) end
  if n > 1 then return ambiguous("2 or more " .. matches, form.text) end
  local edge = edges[1]
  return node_ids(type(edge) == "table" and edge.node, what)
end

-- The one element of `list` whose `field` is `want` | nil, err. words:
-- { none = "run 2 has no run step titled 'X'", many = "run steps of run 2
-- are titled 'X'" }.
local function only(list, field, want, what, text, words)
  local found
  for i = 1, #list do
    local x = list[i]
    if type(x) ~= "table" then return protocol(what .. ": an element that is not an object") end
    if x[field] == want then
      if found then return ambiguous("2 or more " .. words.many, text) end
      found = x
    end
  end
  if not found then return not_found(words.none, text) end
  return found
end

-- The step of a run's answer that a run_step form names | nil, err.
local function pick_step(form, run_label, value, text)
  if value == nil or value == cjson.null then return not_found(run_label .. " not found", text) end
  local what = run_label .. " steps"
  local steps, err = list_of(type(value) == "table" and value.steps, what)
  if not steps then return protocol(err) end
  if form.title then
    local t = "titled '" .. form.title .. "'"
    return only(steps, "title", form.title, what, text,
      { none = run_label .. " has no run step " .. t, many = "run steps of " .. run_label .. " are " .. t })
  end
  local at = "at position " .. form.position
  return only(steps, "position", form.position, what, text,
    { none = run_label .. " has no run step " .. at, many = "run steps of " .. run_label .. " are " .. at })
end

-- The field of a run step's fields named `name` | id, eid | nil, err.
local function pick_field(step, step_label, name, text)
  local what = step_label .. " fields"
  local fields, err = list_of(step.fields, what)
  if not fields then return protocol(err) end
  local named = "named '" .. name .. "'"
  local field, ferr = only(fields, "name", name, what, text,
    { none = step_label .. " has no field " .. named, many = "fields of " .. step_label .. " are " .. named })
  if not field then return nil, ferr end
  return node_ids(field, what)
end

--- What a run's answer (answer.run_entry) says about a run_step or
-- run_step_field form: id, eid | nil, err. run_label names the run
-- ("run 2", "run 18 (title = …)").
function answer.from_run(form, run_label, value)
  local step_form = form.kind == "run_step" and form or form.run_step
  local step, err = pick_step(step_form, run_label, value, form.text)
  if not step then return nil, err end
  if form.kind == "run_step" then return node_ids(step, run_label .. " steps") end
  local sid = targets.object_id(untrusted.id(step.id)) or "?"
  return pick_field(step, "run step " .. sid, form.name, form.text)
end

--- What a run step's answer (answer.run_step_entry) says about a
-- run_step_field form whose run step is an id: id, eid | nil, err.
function answer.from_run_step(form, value)
  local label = "run step " .. form.run_step
  if value == nil or value == cjson.null then return not_found(label .. " not found", form.text) end
  if type(value) ~= "table" then return protocol(label .. ": an answer that is not an object") end
  return pick_field(value, label, form.name, form.text)
end

return answer
