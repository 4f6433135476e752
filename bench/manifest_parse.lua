-- Manifest parsing speed: the CSV push parser (cli/csv.lua, fed 64 KiB
-- chunks) over a generated manifest of N rows (some quoted, with commas,
-- doubled quotes and line breaks), median of 5 runs; with BENCH_OLD=<commit>
-- the parser of that commit's manifest.lua (the whole text at once) beside it.
--   lua5.4 bench/manifest_parse.lua [N]            (from the checkout's root)
--   BENCH_OLD=2d632c9 lua5.4 bench/manifest_parse.lua 100000
package.path = "lua/?.lua;" .. package.path
local csv = require("ion.upload.cli.csv")
local N = tonumber(arg[1]) or 100000

local rows = { "path,target,id,filename\n" }
for i = 1, N do
  if i % 10 == 0 then
    rows[#rows + 1] = string.format('"/data/scans/line %d, ""B""\nnote.pdf",run_step,%d,"renamed, %d.pdf"\r\n', i, i, i)
  else
    rows[#rows + 1] = string.format("/data/scans/2024/batch-%05d/file-%07d.jpg,run_step,%d,\n", i % 500, i, i)
  end
end
local text = table.concat(rows)

local function median(f)
  local t = {}
  for k = 1, 5 do
    local c = os.clock()
    local n = f()
    t[k] = os.clock() - c
    assert(n == N + 1, "records: " .. tostring(n))
  end
  table.sort(t)
  return t[3]
end

local function new_parser()
  local p, n, chunk = csv.parser(), 0, 64 * 1024
  for at = 1, #text, chunk do
    p:feed(text:sub(at, at + chunk - 1))
    while p:next() do n = n + 1 end
  end
  p:feed(nil, true)
  while p:next() do n = n + 1 end
  return n
end

print(string.format("%d rows, %.1f MiB, %s", N, #text / 1048576, _VERSION))
local t = median(new_parser)
print(string.format("new (csv.lua, 64 KiB chunks): %.3f s  %.0f rows/s  %.1f MiB/s", t, N / t, #text / 1048576 / t))
local old = os.getenv("BENCH_OLD")
if old then
  local src = io.popen("git show " .. old .. ":lua/ion/upload/cli/manifest.lua"):read("*a")
  local m = assert(load(src, "old manifest.lua"))()
  local to = median(function() return #assert(m.parse_csv(text)) end)
  print(string.format("old (%s, per character):    %.3f s  %.0f rows/s  %.1f MiB/s  (new/old time %.2f)", old, to,
    N / to, #text / 1048576 / to, t / to))
end
