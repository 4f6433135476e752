-- Prints the require graph of lua/ion (module: the ion.* modules it
-- requires) and every circle in it; exits 1 when there is one.
--   lua5.4 scripts/lua_imports.lua
local graph, names = {}, {}
local list = io.popen("cd lua && find ion -name '*.lua' | sort")
for file in list:lines() do
  local mod = file:gsub("%.lua$", ""):gsub("/", ".")
  local f = assert(io.open("lua/" .. file))
  local deps, seen = {}, {}
  -- line comments out: a module's usage example requires the module itself
  local code = f:read("*a"):gsub("%-%-[^\n]*", "")
  for dep in code:gmatch('require%(?%s*["\'](ion[%w_.]*)["\']') do
    if not seen[dep] then
      seen[dep] = true
      deps[#deps + 1] = dep
    end
  end
  f:close()
  graph[mod] = deps
  names[#names + 1] = mod
end
list:close()

local circles, state, stack = {}, {}, {}
local function visit(m)
  state[m] = "open"
  stack[#stack + 1] = m
  for _, d in ipairs(graph[m] or {}) do
    if state[d] == "open" then
      local from = 1
      for i, s in ipairs(stack) do if s == d then from = i end end
      circles[#circles + 1] = table.concat(stack, " -> ", from) .. " -> " .. d
    elseif not state[d] and graph[d] then
      visit(d)
    end
  end
  stack[#stack] = nil
  state[m] = "done"
end
for _, m in ipairs(names) do
  print(m .. ": " .. table.concat(graph[m], ", "))
  if not state[m] then visit(m) end
end
print(#circles == 0 and "circles: none" or ("circles:\n  " .. table.concat(circles, "\n  ")))
os.exit(#circles == 0 and 0 or 1)
