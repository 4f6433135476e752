-- unit spec: the rockspec installs every Lua module of lua/ (no network),
-- its license has a LICENSE file, and make dist's source rock holds what
-- luarocks builds from (scripts/check-rock.sh installs it for real).
local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function load_rockspec()
  local p = io.popen("ls ion-upload-*.rockspec")
  local name = p:read("*l")
  p:close()
  local env = {}
  local chunk = assert((loadstring or load)(read(name), "=" .. name, "t", env))
  if setfenv then setfenv(chunk, env) end -- Lua 5.1
  chunk()
  return env, name
end

describe("the rockspec", function()
  it("lists every Lua module of lua/ion/", function()
    local modules = load_rockspec().build.modules
    local ls = io.popen("cd lua && find ion -name '*.lua'")
    local n = 0
    for file in ls:lines() do
      local mod = file:gsub("%.lua$", ""):gsub("/", ".")
      assert.equal("lua/" .. file, modules[mod], mod)
      n = n + 1
    end
    ls:close()
    assert.is_true(n > 10)
  end)

  it("builds the core from every C source of csrc/ (the Makefile takes csrc/*.c)", function()
    local listed = {}
    for _, f in ipairs(load_rockspec().build.modules["ion.upload.core"].sources) do listed[f] = true end
    local ls = io.popen("ls csrc/*.c")
    local n = 0
    for file in ls:lines() do
      assert.is_true(listed[file], file .. " is not in the rockspec")
      listed[file] = nil
      n = n + 1
    end
    ls:close()
    assert.is_nil(next(listed), "the rockspec lists a file csrc/ does not have")
    assert.is_true(n > 10)
  end)

  it("names a license the LICENSE file holds", function()
    local license = load_rockspec().description.license
    assert.equal("MIT", license)
    local text = read("LICENSE")
    assert.matches("^MIT License\n", text)
    assert.matches("Permission is hereby granted, free of charge", text, 1, true)
  end)

  it("builds the core with 64-bit file offsets, as the Makefile does", function()
    local defines = load_rockspec().build.modules["ion.upload.core"].defines
    local found = false
    for _, d in ipairs(defines) do found = found or d == "_FILE_OFFSET_BITS=64" end
    assert.is_true(found)
    assert.matches("CFLAGS_ALL%s*:=[^\n]*%-D_FILE_OFFSET_BITS=64", read("Makefile"))
  end)
end)

describe("make dist (scripts/dist.sh)", function()
  it("zips the rockspec and, beside it, the source folder luarocks enters", function()
    local spec, name = load_rockspec()
    local out = os.tmpname()
    os.remove(out)
    assert(os.execute("mkdir " .. out))
    local p = io.popen("bash scripts/dist.sh " .. out .. " 2>&1")
    local rock = p:read("*a"):gsub("%s+$", "")
    p:close()
    finally(function() os.execute("rm -rf " .. out) end)
    assert.equal(out .. "/" .. spec.package .. "-" .. spec.version .. ".src.rock", rock)
    local entries = {}
    p = io.popen("unzip -Z1 " .. rock)
    for line in p:lines() do entries[line] = true end
    p:close()
    assert.is_true(entries[name], name)
    -- a git+https URL: luarocks enters the URL's last part without .git
    local dir = spec.source.url:match("([^/]+)%.git$")
    assert.equal("ion-upload", dir)
    for _, m in pairs(spec.build.modules) do
      for _, file in ipairs(type(m) == "table" and m.sources or { m }) do
        assert.is_true(entries[dir .. "/" .. file], file)
      end
    end
    assert.is_true(entries[dir .. "/bin/ion-upload"])
    assert.is_true(entries[dir .. "/LICENSE"])
    for e in pairs(entries) do
      assert.is_nil(e:find("node_modules", 1, true), e)
    end
  end)
end)
