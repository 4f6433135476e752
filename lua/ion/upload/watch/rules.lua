-- The rules of a watched folder: a site's Lua file that maps paths (relative
-- to the folder, "/" separators) to attachment targets. The file returns a
-- list; the first rule whose `match` pattern finds the path wins:
--
--   return {
--     { match = "^station7/RS(%d+)_.*%.csv$", target = { run_step = "%1" } },
--     { match = "^(SN%d+)_final%.csv$", target = { run_step = { title = "Final test",
--       run = { where = { title = { eq = "%1 final test" } } } } } },
--     { match = "^photos/(%d+)/", target = function(cap, path, info) return { part = cap[1] } end,
--       filename = function(cap, path) return "inspection-" .. path:match("[^/]+$") end },
--   }
--
-- The file runs with no globals but a few pure ones (no io, os, require):
-- loading the rules reads nothing else and changes nothing. Every failure is
-- a bad_input error naming the rule by its index; nothing here raises.
local errors = require("ion.upload.errors")
local glob = require("ion.upload.glob")
local literal = require("ion.upload.graphql.literal")
local targets = require("ion.upload.targets")
local lua_pattern = require("ion.upload.watch.lua_pattern")
local templates = require("ion.upload.watch.templates")

local watch_rules = {}

-- A rules file is a small table, not a program: refuse anything larger.
watch_rules.max_file_size = 1024 * 1024

local RULE_KEYS = { match = true, target = true, filename = true }

local is_kind = {}
for _, k in ipairs(targets.keys) do is_kind[k] = true end
local KINDS = table.concat(targets.keys, ", ")

local function bad(source, index, message)
  local where = "rules " .. source .. ": "
  if index then where = where .. "rule " .. index .. ": " end
  return nil, errors.new("bad_input", where .. message, {
    field = "rules", rule = index,
    hint = "Fix the rules file: each rule is { match = \"lua pattern\", target = { run_step = \"%1\" } }",
  })
end

local function shallow_copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- A fresh environment per load: copies of the libraries, so a rules file
-- that assigns string.rep changes only its own.
local function sandbox_env()
  return {
    string = shallow_copy(string), table = shallow_copy(table), math = shallow_copy(math),
    tonumber = tonumber, tostring = tostring, pairs = pairs, ipairs = ipairs, type = type,
    next = next, select = select, error = error,
    enum = literal.enum, -- an enum value in a where filter: status = { eq = enum("IN_PROGRESS") }
  }
end

-- Checks one target value at load: a positive whole number, a string of
-- digits (or any GraphQL ID for entity_id), "%N", a function, or a table
-- that finds the object by name ({ where = … }, { run = …, title = … }: the
-- library checks it once its %N are substituted).
local function check_value(kind, v)
  -- "%1", or a template such as "1%1": checked once the captures are known
  if type(v) == "function" or type(v) == "table" or (type(v) == "string" and v:find("%%%d")) then return true end
  local ok, err = targets.check_id(kind, v)
  if ok then return true end
  return nil, err.message:gsub("^target: ", "") .. ', or "%1" (a capture), or a function'
end

local function check_target(target)
  if type(target) == "function" then return true end
  if type(target) ~= "table" then
    return nil, 'target must be a table such as { run_step = "%1" } or a function, got ' .. type(target)
  end
  local kind, n = nil, 0
  for k in pairs(target) do
    if not is_kind[k] then return nil, "target: unknown kind " .. tostring(k) .. " (one of " .. KINDS .. ")" end
    kind, n = k, n + 1
  end
  if n ~= 1 then return nil, "target must name exactly one of " .. KINDS .. " (it names " .. n .. ")" end
  local ok, why = check_value(kind, target[kind])
  if not ok then return nil, "target " .. kind .. ": " .. why end
  return true
end

local function check_rule(rule)
  if type(rule) ~= "table" then
    return nil, "must be a table { match = ..., target = ... }, got " .. type(rule)
  end
  for k in pairs(rule) do
    if not RULE_KEYS[k] then return nil, "unknown key " .. tostring(k) .. " (match, target, filename)" end
  end
  if type(rule.match) ~= "string" or rule.match == "" then
    return nil, "match must be a Lua pattern (a non-empty string), got " .. type(rule.match)
  end
  local ok, why = lua_pattern.check(rule.match)
  if not ok then return nil, "match is not a valid Lua pattern: " .. why end
  ok, why = check_target(rule.target)
  if not ok then return nil, why end
  local f = rule.filename
  if f ~= nil and type(f) ~= "function" and type(f) ~= "string" then
    return nil, "filename must be a function or a string, got " .. type(f)
  end
  return true
end

-- A set of rules from a list (the Lua API may pass one directly); source
-- names it in messages. Returns set | nil, err.
function watch_rules.compile(list, source)
  source = source or "(table)"
  if type(list) ~= "table" then
    return bad(source, nil, "must return a list of rules, got " .. type(list))
  end
  local n = #list
  for k in pairs(list) do
    if type(k) ~= "number" or k < 1 or k > n or k ~= math.floor(k) then
      return bad(source, nil, "key " .. tostring(k) .. " is not a rule's position: return a list { {...}, {...} }")
    end
  end
  if n == 0 then return bad(source, nil, "has no rules") end
  local set = { source = source, rules = {} }
  for i = 1, n do
    local ok, why = check_rule(list[i])
    if not ok then return bad(source, i, why) end
    local r = list[i]
    set.rules[i] = { index = i, match = r.match, target = r.target, filename = r.filename }
  end
  return set
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local src = f:read(watch_rules.max_file_size + 1)
  f:close()
  if src and #src > watch_rules.max_file_size then
    return nil, "larger than " .. watch_rules.max_file_size .. " bytes"
  end
  return src or ""
end

-- The file's chunk with env as its only globals, text only (no bytecode).
local function load_text(src, name, env)
  if src:byte(1) == 27 then return nil, "is precompiled bytecode, not Lua text" end
  if setfenv then -- Lua 5.1, LuaJIT
    local chunk, err = loadstring(src, name)
    if chunk then setfenv(chunk, env) end
    return chunk, err
  end
  return load(src, name, "t", env)
end

-- Loads a rules file: set | nil, err (bad_input naming the file, and the
-- rule by its index when one is wrong).
function watch_rules.load(path)
  if type(path) ~= "string" then return bad(tostring(path), nil, "the rules file must be a path") end
  local src, err = read_file(path)
  if not src then return bad(path, nil, "cannot read: " .. tostring(err)) end
  local chunk
  chunk, err = load_text(src, "@" .. path, sandbox_env())
  if not chunk then return bad(path, nil, "does not load: " .. tostring(err)) end
  local ok, list = pcall(chunk)
  if not ok then return bad(path, nil, "failed while running: " .. tostring(list)) end
  return watch_rules.compile(list, path)
end

-- SIGHUP: the new rules, or the old ones kept with the reason (set, err).
function watch_rules.reload(set)
  local fresh, err = watch_rules.load(set.source)
  if fresh then return fresh end
  return set, err
end

-- Calls a rule's function; a raise comes back as nil, message.
local function call(fn, cap, path, info)
  local ok, v = pcall(fn, cap, path, info)
  if not ok then return nil, "raised: " .. tostring(v) end
  return v, nil, true
end

local function resolve_value(rule, kind, v, cap, path, info, whole)
  local err
  if type(v) == "table" then -- found by name: the engine checks it (and says what is wrong)
    return templates.substitute_all(rule, v, cap, whole, "target " .. kind)
  elseif type(v) == "function" then
    local called
    v, err, called = call(v, cap, path, info)
    if not called then return nil, "target " .. kind .. " function " .. err end
    if type(v) == "table" then return v end -- found by name, as the function wrote it
  elseif type(v) == "string" then
    v, err = templates.substitute(rule, v, cap, whole)
    if not v then return nil, "target " .. kind .. " " .. err end
  end
  local k, id = targets.check_id(kind, v)
  if not k then return nil, (id.message:gsub("^target: ", "target ")) end
  return id
end

local function resolve_target(rule, cap, path, info, whole)
  local t = rule.target
  if type(t) == "function" then
    local v, err, called = call(t, cap, path, info)
    if not called then return nil, "target function " .. err end
    if type(v) ~= "table" then return nil, "target function returned " .. type(v) .. ", not a table" end
    local ok, why = check_target(v)
    if not ok then return nil, "target function returned a bad target: " .. why end
    t = v
  end
  local kind = next(t)
  local id, err = resolve_value(rule, kind, t[kind], cap, path, info, whole)
  if id == nil then return nil, err end
  return { [kind] = id }
end

local function resolve_filename(rule, cap, path, info, whole)
  local f = rule.filename
  if f == nil then return nil end
  local name, err
  if type(f) == "function" then
    local called
    name, err, called = call(f, cap, path, info)
    if not called then return nil, "filename function " .. err end
    if name == nil then return nil end -- the default name
  else
    name, err = templates.substitute(rule, f, cap, whole)
    if not name then return nil, "filename " .. err end
  end
  if type(name) ~= "string" or name == "" or name:find("[%c/\\]") then
    return nil, "filename must be a non-empty name without /, \\ or control characters, got " .. tostring(name)
  end
  return name
end

-- The first rule that matches relpath: { target = { kind = id }, filename =
-- string|nil, rule = index }; nil when none matches; nil, err (bad_input
-- naming the rule and the path) when the rule's function raised or gave a
-- bad value. info is passed to the rule's functions as is (size, mtime, ...).
function watch_rules.match(set, relpath, info)
  for _, rule in ipairs(set.rules) do
    local found = { string.find(relpath, rule.match) }
    if found[1] then
      local cap = { select(3, (unpack or table.unpack)(found)) }
      local whole = relpath:sub(found[1], found[2])
      local target, err = resolve_target(rule, cap, relpath, info, whole)
      local filename
      if target then filename, err = resolve_filename(rule, cap, relpath, info, whole) end
      if err then return bad(set.source, rule.index, err .. " (for " .. relpath .. ")") end
      return { target = target, filename = filename, rule = rule.index }
    end
  end
  return nil
end

-- Names a writer is still busy with, ignored by default: hidden files,
-- *.tmp, *.part, ~* (compared case-insensitively: FOO.TMP too).
watch_rules.temporary_globs = { ".*", "*.tmp", "*.part", "~*" }

-- Compiled with the one glob matcher (ion.upload.glob), over the basename.
local temporary_matchers = {}
for i, g in ipairs(watch_rules.temporary_globs) do temporary_matchers[i] = assert(glob.compile(g)) end

-- hidden: dot names are not temporary (the watch's `hidden` option).
function watch_rules.is_temporary(basename, hidden)
  local lower = basename:lower()
  for i, m in ipairs(temporary_matchers) do
    if m:match(lower) and not (hidden and watch_rules.temporary_globs[i] == ".*") then return true end
  end
  return false
end

return watch_rules
