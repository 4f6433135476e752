-- Unit spec: what the watch's parts (lua/ion/upload/watch/) tell through their
-- methods, for a host or a status page: the queue's size, the wait for ION
-- and when it began, the last upload ION confirmed. The parts are the real
-- ones; the core is stubbed (a clock we set; the real core's hashset), and
-- so are the engine job's add and the candidates (no folder, no network).
local Queue = require("ion.upload.watch.queue")
local Outage = require("ion.upload.watch.outage")
local Outcomes = require("ion.upload.watch.outcomes")
local After = require("ion.upload.watch.after")
local real_core = require("ion.upload.core")

local function parts()
  local clock = { t = 100 }
  local core = { now = function() return clock.t end, hashset = real_core.hashset,
    stat = function() return nil end }
  local p = { clock = clock, events = {}, seen = {}, added = {} }
  local emit = function(ev) p.events[#p.events + 1] = ev end
  local o = { target = { run_step = 1 }, after = "keep", retry_cap = 60, target_wait = 0 }
  p.queue = Queue.new(core)
  p.outage = Outage.new(p.queue, emit)
  p.outcomes = Outcomes.new({ core = core, root = "/d", o = o, emit = emit, queue = p.queue, outage = p.outage,
    after = After.new(core, "/d", o, p.queue, emit), random = function() return 0.5 end,
    candidates = { saw = function(_, rel) p.seen[#p.seen + 1] = rel end },
    add = function(item) p.added[#p.added + 1] = item; return #p.added end })
  return p
end

local function types(events)
  local list = {}
  for _, ev in ipairs(events) do list[#list + 1] = ev.type end
  return table.concat(list, " ")
end

describe("the watch's parts", function()
  it("tell the queue's size and the wait for ION: since, its start on the core's clock, why", function()
    local p = parts()
    assert.same({ 0, false }, { p.queue:queued_count(), p.outage:waiting() })
    assert.is_nil(p.outage:since())
    p.outcomes:take("a.csv", { key = "1|1.000000", info = { size = 1 } })
    p.outcomes:take("b.csv", { key = "2|1.000000", info = { size = 2 } })
    assert.equal(2, p.queue:queued_count())
    -- b.csv's attempt fails with a 503 (Retry-After 30): it waits for a retry, and the watch for ION
    p.outcomes:engine_event({ type = "error", index = 2, path = "/d/b.csv",
      err = { code = "server_error", status = 503, retryable = true, retry_after = 30 } })
    p.clock.t = 130
    p.outcomes:handle(130)
    assert.is_true(p.outage:waiting())
    assert.equal("server_error 503", p.outage:reason())
    assert.equal(130, p.outage:began_at())
    assert.is_true(math.abs(p.outage:since() - os.time()) <= 1)
    assert.equal(2, p.queue:queued_count()) -- a.csv in flight, b.csv waiting
    assert.equal(160, p.queue:next_due())
    assert.matches("^waiting for ION since %d%d:%d%d:%d%d %(server_error 503%), 2 files queued$",
      p.outage:message())
    assert.equal("taken taken waiting_for_ion waiting", types(p.events))
    assert.is_nil(p.outcomes:last_success())
    -- a.csv is confirmed: the wait ends, b.csv's retry is due at once
    p.outcomes:engine_event({ type = "done", index = 1 })
    p.clock.t = 140
    p.outcomes:handle(140)
    assert.is_false(p.outage:waiting())
    assert.is_nil(p.outage:since())
    assert.equal(140, p.queue:next_due())
    assert.equal(1, p.queue:queued_count())
    assert.is_true(math.abs(p.outcomes:last_success() - os.time()) <= 1)
    assert.equal("taken taken waiting_for_ion waiting done resumed back", types(p.events))
    assert.equal(10, p.events[#p.events].waited)
  end)

  it("do not count a file the journal shows done as a success", function()
    local p = parts()
    p.outcomes:take("a.csv", { key = "1|1.000000", info = { size = 1 } })
    p.outcomes:engine_event({ type = "done", index = 1, skipped = true })
    p.outcomes:handle(100)
    assert.is_nil(p.outcomes:last_success())
    assert.same({ 0, true }, { p.queue:queued_count(), p.queue:knows("a.csv", "1|1.000000") })
  end)
end)
