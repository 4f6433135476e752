-- The linger bench's client (bench/linger.sh): upload_many over the files
-- given, at the concurrency given, timing with on_event each file's PUT end
-- (its last progress event) and its attachment (its done event). Prints one
-- line per file: "<size bytes> <seconds from PUT end to attachment>".
--   lua5.4 bench/linger.lua CONCURRENCY FILE...
local upload = require("ion.upload")
local core = require("ion.upload.core")

local concurrency = tonumber(arg[1])
local client = assert(upload.new({ endpoint = os.getenv("ION_API_URL"), token = os.getenv("ION_TOKEN"),
  concurrency = concurrency }))
local items, put_end, attached, size = {}, {}, {}, {}
for i = 2, #arg do items[#items + 1] = { path = arg[i], target = { run_step = 1 } } end
local results, summary = client:upload_many(items, {
  concurrency = concurrency,
  on_event = function(ev)
    if ev.type == "progress" and ev.bytes == ev.total then
      put_end[ev.index], size[ev.index] = core.now(), ev.total
    elseif ev.type == "done" then
      attached[ev.index] = core.now()
    end
  end,
})
assert(results, summary)
for i, r in ipairs(results) do
  if not r.ok then
    io.stderr:write(tostring(r.err), "\n")
    os.exit(1)
  end
  print(string.format("%d %.4f", size[i], attached[i] - put_end[i]))
end
