-- The Lua half of examples/host/host.c: starts one upload and hands the host
-- a tick function that gives it a bounded step (at most 4 ms of a 10 ms tick).
--   ION_API_URL=... ION_TOKEN=... host examples/host/host.lua FILE RUN_STEP_ID
local upload = require("ion.upload")

local path, run_step = ...
assert(path, "usage: host host.lua FILE RUN_STEP_ID")

local client = assert(upload.new({ endpoint = os.getenv("ION_API_URL"), token = os.getenv("ION_TOKEN") }))
local last_report = -1
local job = assert(client:start(path, { run_step = tonumber(run_step or "1") }, {
  on_progress = function(sent, total)
    if not total or total == 0 then return end -- before the first byte, the total may not be known yet
    local pct = math.floor(sent * 100 / total)
    if pct >= last_report + 25 then -- a line at 0, 25, 50, 75 and 100 %
      last_report = pct
      io.write(("host.lua: %3d%% of %d bytes\n"):format(pct, total))
    end
  end,
}))

local app = {}

-- Called by the host every 10 ms: true once the upload has its result.
function app.tick()
  return job:step(0.004)
end

-- Called once after the last tick: true when the file is attached.
function app.finish()
  local att, err = job:result()
  if not att then
    io.stderr:write("host.lua: ", tostring(err), "\n")
    return false
  end
  print(("host.lua: attached %s as #%s (entity %s), %d bytes, MD5 %s"):format(
    att.filename, tostring(att.id), att.entityId, att.size, att.md5))
  return true
end

return app
