-- How many times slower than native this process runs, for the hang guards
-- that read os.clock(): under valgrind the whole interpreter runs on a
-- simulated CPU (tens of times slower), under make sanitize ASan's allocator
-- costs a few times. A guard is a ceiling against hangs, never a benchmark.
local preload = os.getenv("LD_PRELOAD") or ""
if preload:find("vgpreload", 1, true) then return 50 end
if preload:find("libasan", 1, true) then return 4 end
return 1
