-- Uploads inside coroutines: a tiny round-robin scheduler runs one coroutine
-- per station; each uploads its file with job:run_in_coroutine(), which
-- yields between steps (with copas: job:run_in_coroutine(function(t)
-- copas.pause(math.min(t, 0.01)) end) inside a copas.addthread).
--   ION_API_URL=... ION_TOKEN=... lua examples/coroutines.lua RUN_STEP_ID FILE...
local upload = require("ion.upload")
local core = require("ion.upload.core") -- for core.sleep: any sleep of your own will do

local run_step = tonumber(arg[1] or "1")
local paths = { select(2, ...) }
if #paths == 0 then paths = { "examples/files/inspection-photo.jpg", "examples/files/measurements.csv" } end

local client = assert(upload.new({ endpoint = os.getenv("ION_API_URL"), token = os.getenv("ION_TOKEN") }))

local threads, failed = {}, 0
for _, path in ipairs(paths) do
  threads[#threads + 1] = coroutine.create(function()
    local job = assert(client:start(path, { run_step = run_step }))
    local att, err = job:run_in_coroutine() -- yields job:timeout() between steps
    if att then
      print(("%s attached as #%s"):format(path, tostring(att.id)))
    else
      print(("%s failed: %s"):format(path, tostring(err)))
      failed = failed + 1
    end
  end)
end

-- The scheduler: resume each live coroutine in turn, then wait no longer
-- than the shortest wait any of them asked for.
while #threads > 0 do
  local wait, live = 0.01, {}
  for _, co in ipairs(threads) do
    local ok, t = coroutine.resume(co)
    if not ok then error(t) end
    if coroutine.status(co) ~= "dead" then
      live[#live + 1] = co
      wait = math.min(wait, t or 0)
    end
  end
  threads = live
  if #threads > 0 and wait > 0 then core.sleep(wait) end
end
os.exit(failed == 0 and 0 or 1)
