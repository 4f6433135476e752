-- integration: job:cancel(reason) on a job a host loop steps, against the
-- real sandbox. A document waiting out a Retry-After is not in flight: the
-- next step ends its files with `aborted` (not when the wait runs out), and
-- job:timeout() stops reporting the old deadline. A file whose query was
-- cancelled in flight fails with the caller's reason, as docs/api.md says.
-- The guards count steps: after a cancel, a job that still waits for its
-- retry needs as many steps as its Retry-After allows, one that ends needs
-- one or two.
local cjson = require("cjson")
local sandbox = require("support.sandbox")
local files = require("support.files")
local core = require("ion.upload.core")

-- A ceiling against hangs while the job gets to the state a case wants (a
-- request answered by the sandbox on loopback: well under a second).
local GUARD = 20 * require("support.slowdown")
-- Longer than any spec waits: a job that honours it after a cancel shows.
local RETRY_AFTER = 30
local REASON = "the operator pressed stop"

local function read_journal(path)
  local out = {}
  local f = assert(io.open(path, "rb"))
  for line in f:lines() do out[#out + 1] = cjson.decode(line) end
  f:close()
  return out
end

describe("integration: job:cancel", function()
  local dir, paths, dataset

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    paths = {}
    for i = 1, 3 do paths[i] = files.write(dir, "c" .. i .. ".txt", string.rep("c", 700 + i)) end
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function()
    sandbox.reset()
    dataset = sandbox.dataset()
  end)

  local function by_entity(i) return { entity_id = dataset.runStep[tostring(i)] } end

  -- Steps `job` until cond() holds (never waiting longer than a transfer's
  -- turn: a pending retry would make job:timeout() long). The steps taken.
  local function step_until(job, cond, why)
    local deadline, n = core.now() + GUARD, 0
    while not cond() do
      assert.is_true(core.now() < deadline, why)
      assert.is_false(job:step(math.min(job:timeout(), 0.05)), why .. " (the job ended)")
      n = n + 1
    end
    return n
  end

  -- Steps a cancelled job with step(0) until it is done: the steps taken
  -- (a ceiling well above what ending takes, far below a pending retry's).
  local function steps_to_end(job)
    local n = 0
    while not job:step(0) do
      n = n + 1
      assert.is_true(n < 50, "the cancelled job did not end within 50 steps of step(0)")
    end
    return n + 1
  end

  local function idle(c) return not c._ctx.transport:busy() end

  local function count_429() return sandbox.counters().graphql.faults["429"] or 0 end

  it("a query waiting out a Retry-After: the next step ends its files, timeout() forgets the deadline", function()
    sandbox.faults({ graphql_429_rate = 1, retry_after_s = RETRY_AFTER })
    for _, case in ipairs({
      { name = "upload URLs", target = by_entity }, -- entity ids: the first document asks for URLs
      { name = "lookup", target = function(i) return { run_step = i } end },
    }) do
      local c = sandbox.client({ retries = 8 })
      local before = count_429()
      local job = assert(c:start_many({
        { path = paths[1], target = case.target(1) }, { path = paths[2], target = case.target(2) },
      }))
      step_until(job, function() return count_429() > before and idle(c) end, case.name .. ": no 429 came back")
      -- the setup holds: nothing in flight, the resend due after Retry-After
      assert.is_true(job:timeout() > RETRY_AFTER / 2, case.name .. ": timeout " .. job:timeout())
      local requests = sandbox.counters().graphql.requests
      job:cancel(REASON)
      assert.equal(0, job:timeout(), case.name)
      assert.equal(1, steps_to_end(job), case.name)
      local results, summary = job:results()
      assert.equal(2, summary.failed, case.name)
      for i = 1, 2 do
        local e = results[i].err
        assert.equal("aborted", e.code, case.name)
        assert.equal(REASON, e.message, case.name)
        assert.is_falsy(e.in_doubt)
      end
      assert.equal(requests, sandbox.counters().graphql.requests, case.name .. ": sent again after the cancel")
      c:close()
    end
    assert.equal(0, #sandbox.attachments())
  end)

  it("a registration waiting out a 429's Retry-After (not run): ends at the next step, not in doubt", function()
    local c = sandbox.client({ retries = 8 })
    local journal = dir .. "/reg429.journal"
    os.remove(journal)
    -- The sandbox's 429s start once the file is in storage, so only its
    -- registration meets them (the PUT's completion, its `stored` progress
    -- event and the registration it makes possible happen within one step).
    local faulted = false
    local function on_event(ev)
      if ev.type == "progress" and ev.stored and not faulted then
        faulted = true
        sandbox.faults({ graphql_429_rate = 1, retry_after_s = RETRY_AFTER })
      end
    end
    local job = assert(c:start_many({ { path = paths[3], target = by_entity(3) } },
      { journal = journal, on_event = on_event }))
    step_until(job, function() return count_429() >= 1 and idle(c) end, "the registration met no 429")
    local recs = read_journal(journal)
    assert.equal("registering", recs[#recs].e) -- the 429 was its registration's
    assert.is_nil(sandbox.counters().graphql.fields.createFileAttachment) -- and ran nothing
    assert.is_true(job:timeout() > RETRY_AFTER / 2, "timeout " .. job:timeout())
    job:cancel(REASON)
    assert.equal(0, job:timeout())
    assert.equal(1, steps_to_end(job))
    local results = job:results()
    local e = results[1].err
    assert.equal("aborted", e.code)
    assert.equal(REASON, e.message)
    assert.is_falsy(e.in_doubt) -- the 429 says it never ran
    assert.equal(0, #sandbox.attachments())
    recs = read_journal(journal)
    assert.equal("not_registered", recs[#recs].e) -- the next run registers it, without doubt
    c:close()
  end)

  it("a query cancelled in flight: the file fails with the caller's reason", function()
    sandbox.faults({ graphql_latency_ms = 5000 }) -- the sandbox holds every document that long
    for _, case in ipairs({
      { name = "upload URLs", target = by_entity },
      { name = "lookup", target = function(i) return { run_step = i } end },
    }) do
      local c = sandbox.client()
      local job = assert(c:start_many({
        { path = paths[1], target = case.target(1) }, { path = paths[2], target = case.target(2) },
      }))
      assert.is_false(job:step(0)) -- sends the first document
      assert.is_false(idle(c), case.name .. ": nothing in flight")
      job:cancel(REASON)
      assert.is_true(steps_to_end(job) <= 3, case.name)
      local results = job:results()
      for i = 1, 2 do
        local e = results[i].err
        assert.equal("aborted", e.code, case.name)
        assert.equal(REASON, e.message, case.name)
        assert.is_falsy(e.in_doubt)
      end
      c:close()
    end
  end)
end)
