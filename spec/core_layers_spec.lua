-- unit: csrc/ stands in layers (scripts/c_layers.lua): no file calls or
-- includes its way back to itself, and a part that needs no Lua (the
-- journal index, the watch tree, the PUT's file and ring, the parsers, ...)
-- never reaches lua.h through its includes.
describe("the C core's layers", function()
  it("have no circle, and the parts without Lua stay clear of lua.h", function()
    local p = io.popen(require("support.interpreter") .. " scripts/c_layers.lua 2>&1; echo rc=$?")
    local out = p:read("*a")
    p:close()
    assert.matches("rc=0", out, 1, true)
    assert.matches("no circle", out, 1, true)
    -- the graph names the calls it saw: the binding over the journal index
    assert.matches("lua_journal.c -> journal_index.c:", out, 1, true)
  end)
end)
