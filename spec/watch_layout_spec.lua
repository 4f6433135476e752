-- The watch's Lua files stay small (under 300 lines each, STYLE.md) and the
-- split into watch/* adds no require circle (scripts/lua_imports.lua).
describe("the watch's modules", function()
  local function lines(path)
    local n = 0
    for _ in io.lines(path) do n = n + 1 end
    return n
  end

  it("are each under 300 lines", function()
    local list = { "lua/ion/upload/watch/watcher.lua", "lua/ion/upload/watch/rules.lua",
      "lua/ion/upload/cli/watch.lua" }
    local p = io.popen("ls lua/ion/upload/watch/*.lua")
    for f in p:lines() do list[#list + 1] = f end
    p:close()
    assert.is_true(#list > 3, "the watch/ folder holds the parts")
    for _, f in ipairs(list) do
      local n = lines(f)
      assert.is_true(n < 300, f .. " has " .. n .. " lines")
    end
  end)

  it("require no circle", function()
    local p = io.popen(require("support.interpreter") .. " scripts/lua_imports.lua 2>&1; echo rc=$?")
    local out = p:read("*a")
    p:close()
    assert.matches("circles: none", out, 1, true)
    assert.matches("rc=0", out, 1, true)
  end)
end)
