-- unit spec: the layers' imports run one way, read from the files (no
-- module loaded). The library never requires the command line
-- (ion.upload.cli.*), and the command line uses the library's public API,
-- never the engine's insides (ion.upload.engine.*).
local function requires_of(path)
  local f = assert(io.open(path, "rb"))
  -- line comments out: a usage example in a comment is no import
  local code = f:read("*a"):gsub("%-%-[^\n]*", "")
  f:close()
  local out = {}
  for dep in code:gmatch('require%(?%s*["\'](ion[%w_.]*)["\']') do out[#out + 1] = dep end
  return out
end

-- module name -> its requires, for every file under lua/ion.
local function graph()
  local g, n = {}, 0
  local ls = io.popen("cd lua && find ion -name '*.lua' | sort")
  for file in ls:lines() do
    g[file:gsub("%.lua$", ""):gsub("/", ".")] = requires_of("lua/" .. file)
    n = n + 1
  end
  ls:close()
  assert(n > 10, "lua/ion holds the modules")
  return g
end

local function is_under(mod, prefix)
  return mod:sub(1, #prefix + 1) == prefix .. "."
end

-- "a -> b" for each import from a module matching `from` to one under `to`.
local function imports(g, from, to)
  local out = {}
  for mod, deps in pairs(g) do
    if from(mod) then
      for _, d in ipairs(deps) do
        if is_under(d, to) then out[#out + 1] = mod .. " -> " .. d end
      end
    end
  end
  table.sort(out)
  return table.concat(out, "\n")
end

describe("layers", function()
  local g = graph()
  local function cli(mod) return is_under(mod, "ion.upload.cli") end

  it("reads the requires of a file (the check below can see one)", function()
    local walk = table.concat(requires_of("lua/ion/upload/cli/walk.lua"), " ")
    assert.matches("ion.upload.errors", walk, 1, true)
    assert.is_true(#g["ion.upload.cli.main"] > 0)
  end)

  it("no library module requires the command line (ion.upload.cli.*)", function()
    assert.equal("", imports(g, function(mod) return not cli(mod) end, "ion.upload.cli"))
  end)

  it("the command line requires nothing of the engine (ion.upload.engine.*): the public API only", function()
    assert.equal("", imports(g, cli, "ion.upload.engine"))
  end)
end)
