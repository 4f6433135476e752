-- unit spec: the rockspec installs every Lua module of lua/ (no network)
describe("the rockspec", function()
  it("lists every Lua module of lua/ion/", function()
    local p = io.popen("ls ion-upload-*.rockspec")
    local name = p:read("*l")
    p:close()
    local f = assert(io.open(name))
    local src = f:read("*a")
    f:close()
    local env = {}
    local chunk = assert((loadstring or load)(src, "=" .. name, "t", env))
    if setfenv then setfenv(chunk, env) end -- Lua 5.1
    chunk()
    local modules = env.build.modules
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
end)
