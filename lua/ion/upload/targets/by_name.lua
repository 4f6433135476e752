-- Targets found by what a station knows: a run, part, procedure or step by
-- a `where` filter, a run step of a run by title or position, a run step
-- field of a run step by name. Here the forms are checked (before any
-- traffic) and normalised: a canonical key (the entity cache's, the
-- engine's) and the words that name the target in messages. Sends nothing.
local errors = require("ion.upload.errors")
local literal = require("ion.upload.graphql.literal")

local lookup = {}

-- The kinds ION lists with filters, and the list query of each.
lookup.lists = { run = "runs", part = "parts", procedure = "procedures", step = "steps" }

local function bad(message)
  return nil, errors.new("bad_input", "target: " .. message, { field = "target",
    hint = "Write the target as { run = 88 }, { run = { where = { title = { eq = \"…\" } } } }, "
      .. "{ run_step = { run = RUN, title = \"…\" } } or { run_step_field = { run_step = RUN_STEP, name = \"…\" } }" })
end

local function positive_id(v)
  if type(v) ~= "number" or v ~= math.floor(v) or v < 1 or v >= 2 ^ 31 then return nil end
  return math.tointeger and math.tointeger(v) or v
end

-- Every key of t is one of `allowed`, else the message naming the first other.
local function unknown_key(t, allowed, what)
  for k in pairs(t) do
    if not allowed[k] then
      local shown = type(k) == "string" and k:sub(1, 40):gsub("%c", "?") or tostring(k)
      return what .. " has the unknown key " .. shown .. " (it takes " .. table.concat(allowed, ", ") .. ")"
    end
  end
end

local function keys(...)
  local t = { ... }
  for _, k in ipairs({ ... }) do t[k] = true end
  return t
end

-- A value written for a message: strings as they are, lists in brackets.
local function shown(v)
  if type(v) == "table" and not literal.is_enum(v) then
    if #v > 0 then
      local parts = {}
      for i = 1, #v do parts[i] = shown(v[i]) end
      return "[" .. table.concat(parts, ", ") .. "]"
    end
    return (literal.where(v, "value")) or "?"
  end
  return tostring(v)
end

local OPS = { eq = "=", neq = "!=" }

--- A where filter in words, keys sorted: "status = IN_PROGRESS, title = SN004512 final test".
function lookup.describe_where(where)
  local fields, parts = {}, {}
  for k in pairs(where) do fields[#fields + 1] = k end
  table.sort(fields)
  for _, f in ipairs(fields) do
    local ops = where[f]
    if type(ops) == "table" and not literal.is_enum(ops) and #ops == 0 then
      local names = {}
      for op in pairs(ops) do names[#names + 1] = op end
      table.sort(names)
      for _, op in ipairs(names) do parts[#parts + 1] = f .. " " .. (OPS[op] or op) .. " " .. shown(ops[op]) end
    else
      parts[#parts + 1] = f .. ": " .. shown(ops)
    end
  end
  return table.concat(parts, ", ")
end

local function where_form(kind, v, what)
  local u = unknown_key(v, keys("where"), what)
  if u then return bad(u) end
  if v.where == nil then return bad(what .. " needs where = { field = { eq = value } }") end
  local lit, err = literal.where(v.where, what .. ".where")
  if not lit then
    err.message = "target: " .. err.message
    err.field = "target"
    return nil, err
  end
  return { kind = kind, where = v.where, literal = lit, list = lookup.lists[kind],
    key = kind .. "={where:" .. lit .. "}", text = kind .. " " .. lookup.describe_where(v.where) }
end

local function text_value(v, what)
  if type(v) ~= "string" or v == "" then return nil, what .. " must be a non-empty string" end
  if #v > literal.max_string then
    return nil, what .. " is " .. #v .. " bytes long; at most " .. literal.max_string .. " are allowed"
  end
  return v
end

-- An object id, or a lookup form of `kind`: id | normalised form | nil, err.
local function id_or(kind, v, what, form)
  if type(v) == "table" then return form(kind, v, what) end
  local n = positive_id(type(v) == "string" and v:match("^%d+$") and tonumber(v) or v)
  if not n then return bad(what .. " must be an id (a positive whole number) or a table, got " .. tostring(v)) end
  return n
end

local function of(ref, kind)
  return type(ref) == "table" and ref.text or (kind .. " " .. ref)
end

local function run_step_form(_, v, what)
  local u = unknown_key(v, keys("run", "title", "position"), what)
  if u then return bad(u) end
  if v.run == nil then return bad(what .. " needs run = RUN (an id or { where = … })") end
  if (v.title == nil) == (v.position == nil) then return bad(what .. " needs exactly one of title and position") end
  local owner, err = id_or("run", v.run, what .. ".run", where_form)
  if not owner then return nil, err end
  local form = { kind = "run_step", run = owner }
  local run_key = type(owner) == "table" and owner.key or tostring(owner)
  if v.title ~= nil then
    local t, why = text_value(v.title, what .. ".title")
    if not t then return bad(why) end
    form.title = t
    form.key = string.format("run_step={run:%s,title:%q}", run_key, t)
    form.text = "run_step '" .. t .. "' of " .. of(owner, "run")
  else
    local p = positive_id(v.position)
    if not p then return bad(what .. ".position must be a positive whole number, got " .. tostring(v.position)) end
    form.position = p
    form.key = string.format("run_step={run:%s,position:%d}", run_key, p)
    form.text = "run_step #" .. p .. " of " .. of(owner, "run")
  end
  return form
end

local function field_form(_, v, what)
  local u = unknown_key(v, keys("run_step", "name"), what)
  if u then return bad(u) end
  if v.run_step == nil then return bad(what .. " needs run_step = RUN_STEP (an id or { run = …, title = … })") end
  local name, why = text_value(v.name, what .. ".name")
  if not name then return bad(why) end
  local step, err = id_or("run_step", v.run_step, what .. ".run_step", run_step_form)
  if not step then return nil, err end
  local step_key = type(step) == "table" and step.key or tostring(step)
  return { kind = "run_step_field", run_step = step, name = name,
    key = string.format("run_step_field={run_step:%s,name:%q}", step_key, name),
    text = "run_step_field '" .. name .. "' of " .. of(step, "run_step") }
end

local FORMS = { run = where_form, part = where_form, procedure = where_form, step = where_form,
  run_step = run_step_form, run_step_field = field_form }

--- The normalised lookup of a target value that is a table: form | nil, err
-- (bad_input). A form: { kind, key, text, and where/literal/list, or run
-- (+ title | position), or run_step (+ name) }; run and run_step are an id
-- or a form themselves.
function lookup.parse(kind, v)
  local form = FORMS[kind]
  if not form then return bad(kind .. " is given by its id only") end
  return form(kind, v, kind)
end

--- The run a run step's lookup needs (an id or a where form), or nil when
-- the form names its run step by id.
function lookup.run_of(form)
  if form.kind == "run_step" then return form.run end
  if form.kind == "run_step_field" and type(form.run_step) == "table" then return form.run_step.run end
  return nil
end

return lookup
