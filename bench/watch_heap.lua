-- The soak's Lua host (bench/watch_soak.sh with HEAP=1): client:watch on DIR
-- (--run-step 1, the default settle, a journal), as the CLI runs it, and
-- after every EVERY-th file done, a full collection, then one line on stderr:
-- the live Lua heap, VmRSS, and the tables reachable from the watch job with
-- at least EVERY entries (what grows with the files seen), by path.
--   lua5.4 bench/watch_heap.lua DIR JOURNAL EVERY
-- Runs until SIGTERM (the default action: no clean-up is needed).
local upload = require("ion.upload")

local dir, journal, every = arg[1], arg[2], tonumber(arg[3])
local client = assert(upload.new({ endpoint = os.getenv("ION_API_URL"), token = os.getenv("ION_TOKEN") }))

local function rss_kib()
  for line in io.lines("/proc/self/status") do
    local v = line:match("^VmRSS:%s+(%d+)")
    if v then return tonumber(v) end
  end
end

-- "path=count" for each table under root with at least min entries.
local function big_tables(root, min)
  local seen, found = {}, {}
  local function walk(t, path, depth)
    if seen[t] or depth > 8 then return end
    seen[t] = true
    local n = 0
    for k, v in pairs(t) do
      n = n + 1
      if type(v) == "table" then walk(v, path .. "." .. tostring(k), depth + 1) end
    end
    if n >= min then found[#found + 1] = path .. "=" .. n end
  end
  walk(root, "watch", 0)
  table.sort(found)
  return table.concat(found, " ")
end

local watch_job
local done = 0
watch_job = assert(client:watch(dir, {
  target = { run_step = 1 }, journal = journal,
  on_event = function(ev)
    if ev.type ~= "done" then return end
    done = done + 1
    if done % every == 0 then
      collectgarbage("collect")
      io.stderr:write(string.format("%d done: live Lua heap %.0f KiB, VmRSS %d KiB; %s\n",
        done, collectgarbage("count"), rss_kib(), big_tables(watch_job, every)))
      io.stderr:flush()
    end
  end,
}))
watch_job:run()
