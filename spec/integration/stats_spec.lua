-- integration: job:stats() through libcurl against the sandbox: a batch
-- job's counts, and a watch's through an outage (POST /admin/outage).
local sandbox = require("support.sandbox")
local files = require("support.files")
local steps = require("support.watch_steps")

local count = steps.count

describe("integration: job:stats()", function()
  local dir
  setup(function() sandbox.get() end)
  before_each(function()
    sandbox.reset()
    dir = files.tmpdir()
  end)
  after_each(function() files.rmdir(dir) end)

  it("a batch job counts attached, failed by code, bytes, GraphQL requests and the time to attach", function()
    local a = files.write(dir, "a.txt", string.rep("a", 300))
    local b = files.write(dir, "b.txt", string.rep("b", 700))
    local client = sandbox.client()
    local job = assert(client:start_many({
      { path = a, target = { run_step = 12 } },
      { path = b, target = { run = 7 } },
      { path = dir .. "/missing.txt", target = { run_step = 12 } },
      { path = a, target = { run_step = 99999 } },
    }))
    local s0 = job:stats()
    assert.equal(3, s0.files_queued) -- the missing file failed at once
    assert.is_nil(s0.last_success)
    local t0 = os.time()
    job:wait()
    local _, summary = job:results()
    local s = job:stats()
    assert.equal(2, s.files_attached)
    assert.equal(2, s.files_failed)
    local codes = {}
    for code, n in pairs(s.files_failed_by_code) do codes[#codes + 1] = code .. "=" .. n end
    table.sort(codes)
    assert.same({ "bad_input=1", "not_found=1" }, codes) -- a missing file, a target that is not there
    assert.equal(1000, s.bytes_sent)
    assert.equal(summary.graphql_requests, s.graphql_requests)
    assert.is_true(s.graphql_requests >= 2)
    assert.equal(0, s.files_queued)
    assert.equal(0, s.waiting_for_ion)
    assert.is_true(s.last_success >= t0 and s.last_success <= os.time())
    assert.equal(2, s.attach_seconds.count)
    assert.is_true(s.attach_seconds.sum > 0 and s.attach_seconds.sum < 60)
  end)

  it("counts the retries of storage answers that failed", function()
    sandbox.faults({ seed = 5, storage_503_rate = 0.5 })
    local paths = {}
    for i = 1, 6 do paths[i] = { path = files.write(dir, "r" .. i .. ".txt", "retry " .. i), target = { run = 7 } } end
    local job = assert(sandbox.client({ retries = 8 }):start_many(paths))
    job:wait()
    local s = job:stats()
    assert.equal(6, s.files_attached)
    assert.is_true(s.retries >= 1, "no retry counted") -- seed 5: half the PUTs answered 503
  end)

  it("a watch says it waits for ION, since when and how many files are queued, then counts them attached", function()
    local events = {}
    sandbox.admin("POST", "/outage", { target = "both", mode = "refuse", seconds = 3 })
    local t0 = os.time()
    local w = assert(sandbox.client({ retries = 0 }):watch(dir, { target = { run_step = 12 }, settle = 0.1,
      retry_cap = 1, on_event = function(ev) events[#events + 1] = ev end }))
    for i = 1, 3 do files.write(dir, "o" .. i .. ".txt", "file " .. i) end
    steps.step_until(w, function() return count(events, "waiting_for_ion") == 1 end, 30)
    local s = w:stats()
    assert.equal(1, s.waiting_for_ion)
    assert.is_true(s.waiting_since >= t0 and s.waiting_since <= os.time())
    assert.is_true(s.files_queued >= 1)
    assert.equal(0, s.files_failed) -- a transient failure the watch retries is no failure
    -- (the watch acts on the engine's outcomes at its next step: the queue empties then)
    steps.step_until(w, function() return count(events, "done") == 3 and w:stats().files_queued == 0 end, 30)
    s = w:stats()
    assert.equal(0, s.waiting_for_ion)
    assert.is_nil(s.waiting_since)
    assert.equal(3, s.files_attached)
    assert.equal(0, s.files_queued)
    assert.is_true(s.retries >= 1)
    assert.equal(3, s.attach_seconds.count)
    -- from settling to attached, across the outage: at least one file waited it out
    local le1 = s.attach_seconds.buckets[4]
    assert.equal(1, le1.le)
    assert.is_true(le1.count < 3, "every file attached within 1 s of settling, through a 3 s outage")
    w:cancel()
    w:run()
  end)
end)
