-- integration: a job that keeps no results (keep_results = false) and hands
-- each one to on_result as it is final, against the real sandbox. Such a job
-- holds only the files in flight: the memory case feeds 3 rounds of files
-- through one open job and checks the heap does not grow with the rounds
-- (with results kept, each file's result and attachment would stay).
local sandbox = require("support.sandbox")
local files = require("support.files")

local GUARD = 60 * require("support.slowdown")

describe("integration: keep_results = false and on_result", function()
  local dir, paths, dataset

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    paths = {}
    for i = 1, 40 do paths[i] = files.write(dir, "k" .. i .. ".txt", "kept-or-not " .. i) end
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function()
    sandbox.reset()
    dataset = sandbox.dataset()
  end)

  local function item(i) return { path = paths[(i - 1) % #paths + 1], target = { run_step = 1 + i % 3 } } end

  -- Steps an open job, adding items from `more()` while fewer than `room`
  -- are in flight, until more() has none and the job is done.
  local function feed(job, more, room, in_flight)
    local deadline, exhausted = os.time() + GUARD, false
    while true do
      while not exhausted and in_flight() < room do
        local it = more()
        if it then job:add(it) else exhausted = true job:finish_input() end
      end
      if job:step(job:timeout()) then return end
      assert.is_true(os.time() < deadline, "the job did not end in time")
    end
  end

  it("on_result gets every index once, in completion order; results() keeps none; the summary counts all", function()
    local c = sandbox.client()
    local seen, order, outstanding = {}, {}, 0
    local job = assert(c:start_many({}, { open = true, keep_results = false, window = 4, concurrency = 2,
      on_result = function(index, result)
        assert.is_nil(seen[index], "index " .. index .. " reported twice")
        seen[index] = result
        order[#order + 1] = index
        outstanding = outstanding - 1
      end }))
    local n = 0
    feed(job, function()
      if n == 12 then return nil end
      n = n + 1
      outstanding = outstanding + 1
      if n == 5 then return { path = dir .. "/missing.txt", target = { run_step = 1 } } end -- fails alone
      return item(n)
    end, 6, function() return outstanding end)
    local results, summary = job:results()
    assert.same({}, results)
    assert.equal(12, #order)
    for i = 1, 12 do assert.is_table(seen[i], "no result for " .. i) end
    assert.is_false(seen[5].ok)
    assert.equal("bad_input", seen[5].err.code)
    assert.is_true(seen[1].ok)
    assert.equal(dataset.runStep["2"], seen[1].attachment.entityId or dataset.runStep["2"])
    assert.equal(11, summary.ok)
    assert.equal(1, summary.failed)
    assert.equal(11, #sandbox.attachments())
    c:close()
  end)

  it("an open job that keeps no results does not grow with the files it has finished", function()
    local c = sandbox.client()
    local finished = 0
    local job = assert(c:start_many({}, { open = true, keep_results = false, window = 8, concurrency = 4,
      on_result = function(_, result)
        assert.is_true(result.ok, result.err and result.err.message)
        finished = finished + 1
      end }))
    local ROUND, added, heap = 60, 0, {}
    -- LuaJIT's compiler keeps its traces in the heap collectgarbage counts:
    -- with it on, the count strays by 8-44 KiB a round, leak or none (seen
    -- on the code before and after issue 16's changes); with it off, 0.2.
    if jit then
      jit.off()
      jit.flush()
      finally(function() jit.on() end)
    end
    for round = 1, 3 do
      local deadline = os.time() + GUARD
      while finished < round * ROUND do
        while added < round * ROUND and added - finished < 8 do
          added = added + 1
          job:add(item(added))
        end
        assert.is_false(job:step(job:timeout()))
        assert.is_true(os.time() < deadline, "round " .. round .. " did not end in time")
      end
      collectgarbage("collect")
      collectgarbage("collect")
      heap[round] = collectgarbage("count")
    end
    job:finish_input()
    while not job:step(job:timeout()) do end
    -- One round of kept results (a result table and an attachment per file)
    -- is tens of KiB; the first round warms caches, so rounds 2 and 3 compare.
    assert.is_true(heap[3] - heap[2] < 16, string.format("heap grew %.1f KiB over a round of %d files",
      heap[3] - heap[2], ROUND))
    c:close()
  end)

  it("an error raised in on_result stops the job, as on_event's does", function()
    local c = sandbox.client()
    local job = assert(c:start_many({ item(1), item(2), item(3) }, { keep_results = false, concurrency = 1,
      window = 1, on_result = function() error("the station's database is gone") end }))
    local deadline = os.time() + GUARD
    while not job:step(job:timeout()) do assert.is_true(os.time() < deadline) end
    local _, summary = job:results()
    assert.is_true(summary.failed >= 2, "files after the raise fail")
    c:close()
  end)

  it("upload_many refuses keep_results (its answer is the results) and calls on_result", function()
    local c = sandbox.client()
    local results, err = c:upload_many({ item(1) }, { keep_results = false })
    assert.is_nil(results)
    assert.equal("bad_input", err.code)
    assert.equal("keep_results", err.field)
    assert.matches("start_many", err.message)
    local got = {}
    results = assert(c:upload_many({ item(1), item(2) }, { on_result = function(i, r) got[i] = r end }))
    assert.equal(2, #results)
    assert.equal(results[1], got[1])
    assert.equal(results[2], got[2])
    c:close()
  end)
end)
