-- Loaded once by busted before any spec (see .busted). Integration specs ask
-- spec/support/sandbox.lua for a running sandbox; it is started lazily on the
-- first request and stopped when the suite ends, even after failures.
-- Loaded here, before the specs' insulation, so every spec file shares it.
local busted = require("busted")
local sandbox = require("support.sandbox")

busted.subscribe({ "suite", "end" }, function()
  sandbox.stop()
  return nil, true
end)

-- Fallback: whatever exits the process stops the sandbox first (and the
-- sandbox itself exits when this process is gone: --parent-pid).
local exit = os.exit
os.exit = function(...) -- luacheck: ignore 122
  sandbox.stop()
  return exit(...)
end
