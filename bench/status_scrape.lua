-- The cost of a scrape of the status server once a watch has done many
-- files (issue 25: "a scrape of /metrics costs under 1 ms of CPU with 10,000
-- files done"). Run by bench/status_scrape.sh (ION_API_URL, ION_TOKEN: its
-- sandbox). A watch with --status uploads FILES small files, then:
--   render: the CPU of building /metrics (and of the page) in this process,
--           ROUNDS times (os.clock: this process's CPU);
--   scrape: SCRAPES real GETs by curl in the background, the CPU this
--           process spent in the steps that served each (the watch at rest
--           otherwise: its own idle work counts too, so this is an upper bound).
--   lua5.4 bench/status_scrape.lua DIR [FILES] [SCRAPES] [ROUNDS]
package.path = "lua/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local upload = require("ion.upload")
local core = require("ion.upload.core")

local dir, n_files = assert(arg[1], "DIR"), tonumber(arg[2]) or 10000
local scrapes, rounds = tonumber(arg[3]) or 200, tonumber(arg[4]) or 1000

for i = 1, n_files do
  local f = assert(io.open(string.format("%s/f%05d.txt", dir, i), "wb"))
  f:write("file ", i, "\n")
  f:close()
end
local client = assert(upload.new({ endpoint = os.getenv("ION_API_URL"), token = os.getenv("ION_TOKEN") }))
local w = assert(client:watch(dir, { target = { run_step = 12 }, settle = 0, concurrency = 8, window = 50,
  status = "127.0.0.1:0" }))
local t0 = core.now()
while w:stats().files_attached < n_files do w:step(1) end
local port = w.status_server:port()
io.write(string.format("uploaded %d files in %.1f s; status server on port %d\n", n_files, core.now() - t0, port))

local routes = require("ion.upload.status").routes(w, nil, 600, require("ion.upload.status.recent").new(), "bench")
for _, path in ipairs({ "/metrics", "/" }) do
  local c0 = os.clock()
  local size
  for _ = 1, rounds do size = #select(3, routes({ method = "GET", target = path, authorization = "" })) end
  io.write(string.format("render %-8s %6.3f ms CPU each (%d bytes, mean of %d)\n", path,
    (os.clock() - c0) * 1000 / rounds, size, rounds))
end

local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() end
  return f ~= nil
end
local cpu, worst = 0, 0
for i = 1, scrapes do
  local rc = dir .. "/../scrape.rc" .. i
  os.execute(string.format("(curl -s -o /dev/null --max-time 10 http://127.0.0.1:%d/metrics; echo $? > %s) &",
    port, rc))
  local c0 = os.clock()
  while not exists(rc) do w:step(0.05) end
  local c = os.clock() - c0
  cpu, worst = cpu + c, math.max(worst, c)
  os.remove(rc)
end
io.write(string.format("scrape /metrics: %.3f ms CPU each (mean of %d; worst %.3f ms), files done %d\n",
  cpu * 1000 / scrapes, scrapes, worst * 1000, w:stats().files_attached))
w:close()
client:close()
