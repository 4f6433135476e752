-- Unit spec: the watch waits for a target found by name that matches nothing
-- yet (lua/ion/upload/watch/outcomes.lua). The watch's Outcomes part is made
-- here with the real Queue, Outage and After, a stubbed core (a clock we set;
-- the real core's hashset) and no candidates, engine or network; the events
-- it emits are collected (the real watch against the sandbox, a run created
-- while a file waits: spec/integration/cli_lookups_spec.lua).
local Outcomes = require("ion.upload.watch.outcomes")
local Queue = require("ion.upload.watch.queue")
local Outage = require("ion.upload.watch.outage")
local After = require("ion.upload.watch.after")
local real_core = require("ion.upload.core")

local BY_TITLE = { run = { where = { title = { eq = "SN004599 final test" } } } }
-- (the engine's message starts with the file's path: the event says it once, as rel)
local NOT_FOUND = { code = "not_found", message = "/d/a.csv: no run matches title = \"SN004599 final test\"" }

-- w: the Outcomes part, its queue and the events it emitted.
local function job(opts)
  local clock = { t = 1000 }
  local o = { target_wait = 30, retry_cap = 60 }
  for k, v in pairs(opts or {}) do o[k] = v end
  local core = { now = function() return clock.t end, hashset = real_core.hashset }
  local w = { events = {}, queue = Queue.new(core) }
  local emit = function(ev) w.events[#w.events + 1] = ev end
  w.outcomes = Outcomes.new({ core = core, root = "/d", o = o, emit = emit, queue = w.queue,
    outage = Outage.new(w.queue, emit), after = After.new(core, "/d", o, w.queue, emit) })
  return w, clock
end

-- One failed attempt of a.csv (taken with `target`), in the watch's order:
-- the engine's event asks retries() while the file is in flight, then
-- handle takes it out of flight and calls on_failed.
local function fail(w, clock, target, err, key, index)
  local f = { key = key or "k1", index = index or 1, target = target }
  w.queue:add("a.csv", f)
  local ev = { type = "error", rel = "a.csv", path = "/d/a.csv", err = err, index = f.index }
  local retried = w.outcomes:retries(ev)
  assert.equal("a.csv", (w.queue:land(f.index)))
  w.outcomes:on_failed("a.csv", f, ev, clock.t)
  return retried
end

describe("watch: a target found by name that matches nothing", function()
  it("is looked up again with the backoff for target_wait seconds, said once, then fails", function()
    local w, clock = job()
    assert.is_true(fail(w, clock, BY_TITLE, NOT_FOUND))
    local wt = w.queue:waiting_of("a.csv")
    assert.same({ 1000, 1001, 1 }, { wt.target_since, wt.due, wt.attempt })
    assert.equal(1, #w.events)
    assert.equal("waiting_for_target", w.events[1].type)
    assert.equal("waiting for the target: no run matches title = \"SN004599 final test\"", w.events[1].message)
    assert.equal(30, w.events[1].wait)
    assert.is_nil(w.queue:hold_of("a.csv")) -- not held: it is taken again

    for attempt = 2, 5 do
      clock.t = w.queue:waiting_of("a.csv").due
      assert.is_true(fail(w, clock, BY_TITLE, NOT_FOUND))
      assert.equal(attempt, w.queue:waiting_of("a.csv").attempt)
    end
    assert.equal(1, #w.events) -- said once
    -- the backoff doubles but never runs past the deadline: 1000 + 30
    assert.equal(1030, w.queue:waiting_of("a.csv").due)
    clock.t = 1030
    assert.is_false(fail(w, clock, BY_TITLE, NOT_FOUND)) -- waited long enough: final
    assert.is_nil(w.queue:waiting_of("a.csv"))
    assert.equal("k1#1", w.queue:hold_of("a.csv"))
  end)

  it("does not wait for an id, an ambiguous match, --once, target_wait 0 or a stopping watch", function()
    local cases = {
      { {}, { run = 88 }, NOT_FOUND },
      { {}, { run_step = "12" }, NOT_FOUND },
      { {}, BY_TITLE, { code = "bad_input", message = "ambiguous: 2 or more runs match title = …" } },
      { { once = true }, BY_TITLE, NOT_FOUND },
      { { target_wait = 0 }, BY_TITLE, NOT_FOUND },
    }
    for i, c in ipairs(cases) do
      local w, clock = job(c[1])
      assert.is_false(not not fail(w, clock, c[2], c[3]), "case " .. i)
      assert.equal("k1#1", w.queue:hold_of("a.csv"), "case " .. i)
      assert.equal(0, #w.events, "case " .. i)
    end
    local w, clock = job()
    w.outcomes:stop()
    assert.is_false(fail(w, clock, BY_TITLE, NOT_FOUND))
  end)

  it("starts the wait again for a new version of the file", function()
    local w, clock = job()
    fail(w, clock, BY_TITLE, NOT_FOUND)
    clock.t = 1100 -- past the wait of the first version; the file was rewritten (a new key)
    assert.is_true(fail(w, clock, BY_TITLE, NOT_FOUND, "k2", 2))
    assert.same({ 1100, 1 }, { w.queue:waiting_of("a.csv").target_since, w.queue:waiting_of("a.csv").attempt })
  end)
end)
