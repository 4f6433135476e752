-- The house rules (issue 23): the library's objects talk through methods,
-- never through each other's fields. A scan of lua/ion/upload.lua and
-- lua/ion/upload/**/*.lua, comments and strings left out, for four kinds of
-- reach:
--   1. a private field (`x._name`, `x:_name()`) used on anything but `self`
--      or the file's own module table, in a file that does not define that
--      name itself (a class's private fields are its own file's);
--   2. a field of a run read outside engine/, or of a client outside
--      upload.lua: only their methods are used (`run:result(1)`, not
--      `run.results[1]`);
--   3. inside engine/, a field of another engine object (`self.puts.ready`):
--      a stage or service is used through its methods (`self.puts:queue(item)`);
--   4. a mixin: a method (`function T:name`, `function T.name(self`) defined
--      on a table its file does not make a class of (`T.__index`), written
--      to be copied into another module's class or to work on its fields.
-- Known exceptions are listed below with their reason and printed; one that
-- no longer reaches fails the spec, so the list cannot rot.

local support_files = require("support.files")

-- Parts of the library not yet rebuilt, each with the rule it still breaks
-- and how: ["lua/ion/upload/x.lua"] = "4: why". None today.
local pending = {}

-- Source with comments removed and string contents emptied (quotes kept);
-- newlines stay, so positions keep their line.
local function strip(src)
  local out, i, n = {}, 1, #src
  local function newlines(s) return (s:gsub("[^\n]", "")) end
  while i <= n do
    local c = src:sub(i, i)
    local long = src:match("^%[(=*)%[", i)
    if src:sub(i, i + 1) == "--" then
      local eq = src:match("^%-%-%[(=*)%[", i)
      local stop = eq and select(2, src:find("]" .. eq .. "]", i, true)) or (src:find("\n", i, true) or n + 1) - 1
      out[#out + 1] = newlines(src:sub(i, stop))
      i = stop + 1
    elseif long then
      local stop = select(2, src:find("]" .. long .. "]", i, true)) or n
      out[#out + 1] = '""' .. newlines(src:sub(i, stop))
      i = stop + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n and src:sub(j, j) ~= c do j = j + (src:sub(j, j) == "\\" and 2 or 1) end
      out[#out + 1] = c .. c
      i = j + 1
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  return table.concat(out)
end

local function read(path)
  return assert(support_files.read(path), path)
end

local function sources()
  local list = { "lua/ion/upload.lua" }
  local p = assert(io.popen("find lua/ion/upload -name '*.lua' | sort"))
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  local files = {}
  for _, path in ipairs(list) do files[#files + 1] = { path = path, code = strip(read(path)) } end
  return files
end

local function line_of(code, pos)
  return select(2, code:sub(1, pos):gsub("\n", "")) + 1
end

-- Each `.name` / `:name` access: the receiver before it (the chain of names
-- and dots; "" after a call or an index), the separator, the name, where.
local function accesses(code)
  local list = {}
  for pos, sep, name in code:gmatch("()([%.:])([%a_][%w_]*)") do
    local before = code:sub(pos - 1, pos - 1)
    if before ~= "." and code:sub(pos + 1, pos + 1) ~= "." then -- not the `..` operator
      local recv = code:sub(math.max(1, pos - 200), pos - 1):match("([%a_][%w_%.]*)$") or ""
      if recv:sub(-1) == "." then recv = "" end
      list[#list + 1] = { recv = recv, sep = sep, name = name, pos = pos }
    end
  end
  return list
end

local function last_part(chain) return chain:match("([%a_][%w_]*)$") end

local function methods_of(path, class)
  local set = {}
  for name in strip(read(path)):gmatch("function " .. class .. "[%.:]([%a_][%w_]*)") do set[name] = true end
  return set
end

-- Rule 1.
local function private_reaches(f, found)
  local own, module = {}, f.code:match("return%s+([%a_][%w_]*)%s*$")
  for name in f.code:gmatch("(_%a[%w_]*)%s*=[^=]") do own[name] = true end
  for name in f.code:gmatch("function [%w_%.:]*[%.:](_%a[%w_]*)%s*%(") do own[name] = true end
  for _, a in ipairs(accesses(f.code)) do
    if a.name:match("^_%a") and a.recv ~= "self" and a.recv ~= module and not own[a.name] then
      found[#found + 1] = { f.path, line_of(f.code, a.pos), a.recv .. a.sep .. a.name, 1 }
    end
  end
end

-- Rule 2: the objects held outside their home, by the names that hold them.
local held = {
  { home = "^lua/ion/upload/engine/", names = { run = true, _run = true },
    makers = { "^run_mod%.new$", "^run_mod%.open$", "[%w]_run$" },
    methods = methods_of("lua/ion/upload/engine/run.lua", "Run") },
  { home = "^lua/ion/upload%.lua$", names = { client = true }, makers = { "^upload%.new$" },
    methods = methods_of("lua/ion/upload.lua", "Client") },
}

local function held_reaches(f, found)
  for _, h in ipairs(held) do
    if not f.path:match(h.home) then
      local names = {}
      for k in pairs(h.names) do names[k] = true end
      for var, callee in f.code:gmatch("local ([%a_][%w_]*)[^=\n]*=%s*([%w_%.]+)%(") do
        for _, m in ipairs(h.makers) do
          if callee:match(m) then names[var] = true end
        end
      end
      for _, a in ipairs(accesses(f.code)) do
        if a.sep == "." and names[last_part(a.recv) or ""] and not h.methods[a.name] then
          found[#found + 1] = { f.path, line_of(f.code, a.pos), a.recv .. "." .. a.name, 2 }
        end
      end
    end
  end
end

-- Rule 3: the names under which engine objects hold each other, read off a
-- run made with stand-ins for the client's parts (no core, no network).
local function engine_collaborators()
  local stand_in = setmetatable({}, { __index = {} })
  local core = { now = function() return 0 end }
  local ctx = { core = function() return core end, transport = stand_in, auth = stand_in, entities = {},
    cfg = { retries = 1 } }
  local run = require("ion.upload.engine.run").new(ctx, { window = 2, concurrency = 2 })
  local function is_object(v)
    local mt = type(v) == "table" and getmetatable(v)
    return mt and type(mt.__index) == "table"
  end
  local names, seen, todo = {}, {}, { run }
  while #todo > 0 do
    local t = table.remove(todo)
    if not seen[t] then
      seen[t] = true
      for k, v in pairs(t) do
        if type(v) == "table" then
          if is_object(v) and type(k) == "string" and is_object(t) then names[k] = true end
          todo[#todo + 1] = v
        end
      end
    end
  end
  return names
end

local function engine_reaches(f, found, collaborators)
  if not f.path:match("^lua/ion/upload/engine/") then return end
  for pos, obj, field in f.code:gmatch("()self%.([%a_][%w_]*)%.([%a_][%w_]*)") do
    if collaborators[obj] then
      found[#found + 1] = { f.path, line_of(f.code, pos), "self." .. obj .. "." .. field, 3 }
    end
  end
end

-- Rule 4.
local function mixins(f, found)
  for pos, t, sep, params in f.code:gmatch("()function ([%a_][%w_]*)([%.:])[%a_][%w_]*%s*%(([^)]*)%)") do
    local is_method = sep == ":" or params:match("^%s*self%s*$") or params:match("^%s*self%s*,")
    local class = f.code:find(t .. ".__index", 1, true) or f.code:find("__index = " .. t, 1, true)
      or f.code:find(", " .. t .. ")", 1, true)
    if is_method and not class then
      found[#found + 1] = { f.path, line_of(f.code, pos), "function " .. t .. sep .. "…", 4 }
    end
  end
end

describe("the house rules", function()
  it("no object reads another's fields; no class is assembled from mixins", function()
    local found, collaborators = {}, engine_collaborators()
    assert.is_not_nil(next(collaborators), "no engine object holds another: the scan of rule 3 would see nothing")
    for _, f in ipairs(sources()) do
      private_reaches(f, found)
      held_reaches(f, found)
      engine_reaches(f, found, collaborators)
      mixins(f, found)
    end
    local lines, excused = {}, {}
    for _, v in ipairs(found) do
      local why = pending[v[1]]
      if why and why:sub(1, 1) == tostring(v[4]) then
        excused[v[1]] = true
      else
        lines[#lines + 1] = ("%s:%d: rule %d: %s"):format(v[1], v[2], v[4], v[3])
      end
    end
    for path, why in pairs(pending) do
      if excused[path] then
        print("house_spec: pending (not yet rebuilt): " .. path .. ": rule " .. why)
      else
        lines[#lines + 1] = path .. ": listed as pending (rule " .. why .. ") but it no longer reaches: drop it"
      end
    end
    table.sort(lines)
    for _, l in ipairs(lines) do print("house_spec: " .. l) end
    assert.equal(0, #lines, "reaches (listed above)")
  end)
end)
