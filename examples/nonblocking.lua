-- Uploads without blocking: the script keeps its own loop turning (here it
-- just counts turns) and gives the uploads one step per turn.
--   ION_API_URL=... ION_TOKEN=... lua examples/nonblocking.lua RUN_STEP_ID FILE...
local upload = require("ion.upload")
local core = require("ion.upload.core") -- for core.sleep: any sleep of your own will do

local run_step = tonumber(arg[1] or "1")
local items = {}
for i = 2, #arg do items[#items + 1] = { path = arg[i], target = { run_step = run_step } } end
if #items == 0 then items[1] = { path = "examples/files/inspection-photo.jpg", target = { run_step = run_step } } end

local client = assert(upload.new({ endpoint = os.getenv("ION_API_URL"), token = os.getenv("ION_TOKEN") }))
local job = assert(client:start_many(items, { concurrency = 4 }))

local turns = 0
while not job:step(0) do
  turns = turns + 1
  -- ... the program's own work goes here ...
  -- then wait no longer than the job recommends (a real loop would also
  -- watch job:fds() for readiness: see docs/api.md)
  core.sleep(math.min(job:timeout(), 0.01))
end

local results, summary = job:results()
for i, r in ipairs(results) do
  print(items[i].path, r.ok and ("attached as #" .. tostring(r.attachment.id)) or tostring(r.err))
end
print(("%d attached, %d failed, in %d turns of the loop"):format(summary.ok, summary.failed, turns))
os.exit(summary.failed == 0 and 0 or 1)
