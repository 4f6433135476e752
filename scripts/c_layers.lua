-- Prints the graph of csrc/: which file includes which header, and which
-- file calls a function another file defines (the ion_* names). Exits 1 when
-- a file that needs no Lua reaches lua.h through its includes, or when the
-- files call or include each other in a circle (a part that stands below
-- another must not depend on it).
--   lua5.4 scripts/c_layers.lua
local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- Comments and string literals out: names in them are no calls.
local function code_of(text)
  return (text:gsub("/%*.-%*/", " "):gsub("//[^\n]*", ""):gsub('"[^"\n]*"', '""'))
end

local files, text, code = {}, {}, {}
local ls = io.popen("cd csrc && ls *.c *.h")
for name in ls:lines() do
  files[#files + 1] = name
  text[name] = read("csrc/" .. name)
  code[name] = code_of(text[name])
end
ls:close()

local includes, defines = {}, {}
for _, f in ipairs(files) do
  includes[f] = {}
  for h in text[f]:gmatch('#include%s+"([^"]+)"') do includes[f][#includes[f] + 1] = h end
  for h in text[f]:gmatch("#include%s+<(lua[%w]*%.h)>") do includes[f][#includes[f] + 1] = "<" .. h .. ">" end
  for h in text[f]:gmatch("#include%s+<(lauxlib%.h)>") do includes[f][#includes[f] + 1] = "<" .. h .. ">" end
  if f:match("%.c$") then
    -- a definition starts a line, is not static, and its body follows
    for line, name in code[f]:gmatch("\n([%w_][^\n;{]-)%f[%w_](ion_[%w_]+)%([^;{]-%)%s*{") do
      if not line:match("static") then defines[name] = f end
    end
  end
end

local calls = {}
for _, f in ipairs(files) do
  calls[f] = {}
  if f:match("%.c$") then
    local seen = {}
    for name in code[f]:gmatch("%f[%w_](ion_[%w_]+)%s*%(") do
      local to = defines[name]
      if to and to ~= f then
        calls[f][to] = calls[f][to] or {}
        if not seen[name] then
          seen[name] = true
          table.insert(calls[f][to], name)
        end
      end
    end
  end
end

-- The headers f reaches, itself included.
local function reach(f, out)
  out = out or {}
  if out[f] then return out end
  out[f] = true
  for _, h in ipairs(includes[f] or {}) do reach(h, out) end
  return out
end

local broken = 0
print("INCLUDES")
for _, f in ipairs(files) do print(("  %s: %s"):format(f, #includes[f] > 0 and table.concat(includes[f], ", ") or "-")) end
print("CALLS (file -> file: functions)")
for _, f in ipairs(files) do
  local tos = {}
  for to in pairs(calls[f]) do tos[#tos + 1] = to end
  table.sort(tos)
  for _, to in ipairs(tos) do
    table.sort(calls[f][to])
    print(("  %s -> %s: %s"):format(f, to, table.concat(calls[f][to], ", ")))
  end
end

-- A file needs Lua when its own code names Lua's API.
for _, f in ipairs(files) do
  local needs = code[f]:match("%f[%w_]luaL?_[%a]") ~= nil
  local r = reach(f)
  if not needs and (r["<lua.h>"] or r["<lauxlib.h>"] or r["compat.h"]) then
    print("NEEDS NO LUA, YET REACHES lua.h: " .. f)
    broken = broken + 1
  end
end

-- A circle of calls or includes, file to file (a .c and its own .h are one).
local function unit(name) return (name:gsub("%.h$", ".c")) end
local edges = {}
for _, f in ipairs(files) do
  local u = unit(f)
  edges[u] = edges[u] or {}
  for to in pairs(calls[f]) do edges[u][unit(to)] = true end
  for _, h in ipairs(includes[f]) do
    if text[h] and unit(h) ~= u then edges[u][unit(h)] = true end
  end
end
local state = {}
local function visit(u, path)
  state[u] = "open"
  path[#path + 1] = u
  for v in pairs(edges[u] or {}) do
    if state[v] == "open" then
      print("CIRCLE: " .. table.concat(path, " -> ") .. " -> " .. v)
      broken = broken + 1
    elseif not state[v] then
      visit(v, path)
    end
  end
  path[#path] = nil
  state[u] = "done"
end
for _, f in ipairs(files) do
  if not state[unit(f)] then visit(unit(f), {}) end
end
print(broken == 0 and "no circle; every file that needs no Lua stays clear of lua.h" or (broken .. " broken"))
os.exit(broken == 0 and 0 or 1)
