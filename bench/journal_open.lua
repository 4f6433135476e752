-- Opens the journal at arg[1] once (bench/journal_open.sh), looks one key
-- up, closes it; prints the CPU seconds the open took and its stats.
local journal = require("ion.upload.journal.file")
local t0 = os.clock()
local j = assert(journal.open(arg[1]))
local seconds = os.clock() - t0
local key = "/data/factory/run0001/file0000001.log|1001|1700000000.000001|run_step=2"
assert(j:lookup(key) and j:lookup(key).attached, "the first file is attached")
local st = j.index and j.index:stats() or {}
io.write(string.format("open_cpu=%.3f keys=%s lines=%s index_bytes=%s lua_kib=%.0f\n", seconds,
  tostring(st.keys), tostring(st.lines), tostring(st.bytes), collectgarbage("count")))
j:close()
