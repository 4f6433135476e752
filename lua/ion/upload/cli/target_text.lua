-- Targets as the command line writes them, both ways: the text of a target
-- flag or of a manifest's id column read into the library's target value (an
-- id, or a lookup: { where = … }, a run step of a run by title or position,
-- a run step field by name), and a target table described in words for the
-- dry run and the messages ("run_step 'Final test' of run title=SN004512
-- final test"). The syntax itself is cli/filters.lua's.
local filters = require("ion.upload.cli.filters")
local literal = require("ion.upload.graphql.literal")
local targets = require("ion.upload.targets")

local target_text = {}

-- What each target is called in the help and the messages.
target_text.nouns = { run_step = "run step", run = "run", procedure = "procedure", step = "procedure step",
  part = "part", run_step_field = "run step field", entity_id = "entity id, used as is" }

-- The kinds ION lists with filters (runs, parts, procedures, steps).
local LISTED = { run = true, part = true, procedure = true, step = true }

local function shown(s)
  if #s > 60 then s = s:sub(1, 57) .. "..." end
  return "'" .. s:gsub("%c", "?") .. "'"
end
target_text.shown = shown

-- Written as a number (an id, maybe one out of range: said as such).
local function numeric(text)
  return text:match("^%-?%d+%.?%d*$") ~= nil
end

local function id_of(kind, text)
  local k, id = targets.check_id(kind, text)
  if k then return id end
  if kind == "entity_id" then return nil, "expects an entity id" end
  return nil, "expects a positive whole number, got " .. shown(text)
end

--- The value of a `kind` target from its text: an id, or { where = … } for
-- field=value filters | nil, message (the rule broken; the caller names the
-- flag or the row first).
function target_text.object(kind, text)
  if kind == "entity_id" or numeric(text) then return id_of(kind, text) end
  if LISTED[kind] and text:find("=", 1, true) then
    local where, why = filters.where(text)
    if not where then return nil, shown(text) .. ": " .. why end
    return { where = where }
  end
  local example = LISTED[kind] and (kind == "part" and " (e.g. 'partNumber=PN-77,revision=B')"
    or " (e.g. 'title=SN004512 final test')") or ""
  return nil, "expects a " .. target_text.nouns[kind] .. " id (a positive whole number)"
    .. (LISTED[kind] and " or field=value filters" .. example or "") .. ", got " .. shown(text)
end

--- A title or name of a run step (field): text non-empty, at most 1,000
-- characters | nil, message.
function target_text.title(text, what)
  if text == "" then return nil, what .. " is empty" end
  if #text > filters.max_value then
    return nil, what .. " is " .. #text .. " characters long; at most " .. filters.max_value .. " are allowed"
  end
  return text
end

--- A run step of a run: run_text is the run's id or filters; `step` is
-- { title = … } or { position = n }: the run_step value | nil, message.
function target_text.run_step(run_text, step)
  local run, why = target_text.object("run", run_text)
  if run == nil then return nil, why end
  return { run = run, title = step.title, position = step.position }
end

-- The manifest's RUN/TITLE (or RUN/#N) as written: a run_step value | nil, message.
local function run_step_parts(run_part, step_part)
  local step, why
  local pos = step_part:match("^#(%d+)$")
  if pos then
    step = { position = targets.object_id(pos) }
    if not step.position then return nil, "position #" .. pos .. " is out of range" end
  else
    local title
    title, why = filters.unescape(step_part)
    if title then title, why = target_text.title(title, "the run step's title") end
    if not title then return nil, why end
    step = { title = title }
  end
  local v
  v, why = target_text.run_step(run_part, step) -- the run's filters keep their escapes
  if v == nil then return nil, "RUN " .. why end
  return v
end

local FORMS = {
  run_step = "RUN_STEP_ID, or RUN/TITLE or RUN/#POSITION (RUN: an id or field=value filters; \\/ for a / in "
    .. "either)",
  run_step_field = "FIELD_ID, RUN_STEP_ID/NAME, or RUN/TITLE/NAME (\\/ for a / in any part)",
}

--- A manifest's id column read for its target word: the target value |
-- nil, message. A run step is RUN/TITLE or RUN/#N; a run step field is
-- RUN_STEP/NAME, RUN_STEP being an id or RUN/TITLE or RUN/#N.
function target_text.manifest(kind, text)
  if not FORMS[kind] then return target_text.object(kind, text) end
  local parts, why = filters.split(text)
  if not parts then return nil, shown(text) .. " " .. why end
  if #parts == 1 then
    if numeric(text) then return id_of(kind, text) end
    return nil, shown(text) .. " is not a " .. kind .. ": write " .. FORMS[kind]
  end
  local n = #parts - (kind == "run_step_field" and 1 or 0)
  local value
  if n == 1 and kind == "run_step_field" and numeric(parts[1]) then
    value, why = id_of("run_step", parts[1])
  elseif n == 2 then
    value, why = run_step_parts(parts[1], parts[2])
  elseif n == 1 then
    return nil, shown(text) .. ": the run step " .. shown(parts[1]) .. " is no id: write " .. FORMS[kind]
  else
    return nil, shown(text) .. " has " .. (#parts - 1) .. " unescaped '/': write " .. FORMS[kind]
  end
  if value == nil then return nil, shown(text) .. ": " .. why end
  if kind == "run_step" then return value end
  local name
  name, why = filters.unescape(parts[#parts])
  if name then name, why = target_text.title(name, "the field's name") end
  if not name then return nil, shown(text) .. ": " .. why end
  return { run_step = value, name = name }
end

-- A where table in words: the field=value text when it is only equalities,
-- else its GraphQL literal.
local function where_text(where)
  return filters.text(where) or literal.where(where) or "(a filter)"
end

local function value_text(kind, v)
  if type(v) ~= "table" then return tostring(v) end
  if v.where then return where_text(v.where) end
  if kind == "run_step" then
    local which = v.position and ("#" .. tostring(v.position)) or ("'" .. tostring(v.title) .. "'")
    return which .. " of run " .. value_text("run", v.run)
  end
  if kind == "run_step_field" then
    return "'" .. tostring(v.name) .. "' of run_step " .. value_text("run_step", v.run_step)
  end
  return "(a lookup)"
end

--- A target table ({ kind = value }) in words: "run 88", "run title=SN004512
-- final test", "run_step 'Final test' of run 88" (not yet escaped for a
-- terminal: the caller's output does that).
function target_text.describe(target)
  local kind, v = next(target)
  if kind == nil then return "(no target)" end
  return tostring(kind) .. " " .. value_text(kind, v)
end

--- Whether a target table names its object by a lookup (not an id).
function target_text.is_lookup(target)
  local _, v = next(target)
  return type(v) == "table"
end

return target_text
