-- Writes a journal of N files as runs write it (bench/journal_open.sh): per
-- file a "put", a "registering" and an "attached" record, in batches of 8
-- files (a registration document's worth). PUTS > 1 repeats the "put"
-- record (retried uploads), so that most lines are superseded and opening
-- compacts the journal. Usage: lua journal_gen.lua PATH N [PUTS]
local path, n, puts = arg[1], tonumber(arg[2]), tonumber(arg[3] or "1")
local fh = assert(io.open(path, "wb"))
local function key(i)
  return string.format("\\/data\\/factory\\/run%04d\\/file%07d.log|%d|1700000000.%06d|run_step=%d",
    i % 50, i, 1000 + i % 977, i % 1000000, i % 50 + 1)
end
local hex = string.rep("9c1185a5", 4)
local out, m = {}, 0
local function emit(s)
  m = m + 1
  out[m] = s
  if m == 4096 then fh:write(table.concat(out, "\n", 1, m), "\n") m = 0 end
end
for first = 1, n, 8 do
  local last = math.min(n, first + 7)
  for i = first, last * puts - (puts - 1) * first do
    i = first + (i - first) % (last - first + 1)
    emit(string.format('{"v":1,"k":"%s","e":"put","s3Key":"uploads\\/%07d\\/file%07d.log","etag":"%s","md5":"%s"}',
      key(i), i, i, hex, hex))
  end
  for i = first, last do emit(string.format('{"v":1,"k":"%s","e":"registering"}', key(i))) end
  for i = first, last do
    emit(string.format('{"v":1,"k":"%s","e":"attached","att":{"id":%d,"entityId":"%d","filename":"file%07d.log",'
      .. '"s3Key":"uploads\\/%07d\\/file%07d.log","etag":"%s","md5":"%s","size":%d}}',
      key(i), 100000 + i, i % 50 + 1, i, i, i, hex, hex, 1000 + i % 977))
  end
end
if m > 0 then fh:write(table.concat(out, "\n", 1, m), "\n") end
fh:close()
