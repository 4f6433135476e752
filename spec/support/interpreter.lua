-- The command that runs this busted's own interpreter, for specs that start a
-- child Lua: `make test-all` runs the suite under lua5.1, lua5.3, lua5.4 and
-- luajit, and a child must load the same build of the core as its parent.
-- ION_LUA (set by the Makefile) wins; otherwise it is guessed from _VERSION.
local cmd = os.getenv("ION_LUA")
if cmd == nil or cmd == "" then
  cmd = (type(jit) == "table" and "luajit") or ("lua" .. _VERSION:match("%d+%.%d+"))
end
return cmd
