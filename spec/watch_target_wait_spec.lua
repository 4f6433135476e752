-- Unit spec: the watch waits for a target found by name that matches nothing
-- yet (lua/ion/upload/watch/outcomes.lua). The watch job is stubbed here: a
-- table with outcomes.lua's methods, a clock we set, and the events it emits
-- collected; no engine, no network (the real watch against the sandbox, a
-- run created while a file waits: spec/integration/cli_lookups_spec.lua).
local outcomes = require("ion.upload.watch.outcomes")

local BY_TITLE = { run = { where = { title = { eq = "SN004599 final test" } } } }
-- (the engine's message starts with the file's path: the event says it once, as rel)
local NOT_FOUND = { code = "not_found", message = "/d/a.csv: no run matches title = \"SN004599 final test\"" }

local function job(opts)
  local clock = { t = 1000 }
  local w = {
    o = { target_wait = 30, retry_cap = 60 }, gen = 1, held = {}, waiting = {}, inflight = {}, events = {},
    core = { now = function() return clock.t end },
    after_failure = function() end, outage_begins = function() end, waiting_message = function() return "" end,
    down = {}, counts = require("ion.upload.status.stats").new(),
  }
  for k, v in pairs(opts or {}) do w.o[k] = v end
  for name, f in pairs(outcomes) do w[name] = f end
  w.emit = function(ev) w.events[#w.events + 1] = ev end
  return w, clock
end

-- One failed attempt of a.csv (taken with `target`), in the watch's order:
-- the engine's event asks retries() while the file is in flight, then
-- handle_outcomes takes it out of flight and calls on_failed.
local function fail(w, clock, target, err)
  local f = { key = "k1", index = 1, target = target }
  w.inflight["a.csv"] = f
  local ev = { type = "error", rel = "a.csv", path = "/d/a.csv", err = err, index = 1 }
  local retried = w:retries(ev)
  w.inflight["a.csv"] = nil
  w:on_failed("a.csv", f, ev, clock.t)
  return retried
end

describe("watch: a target found by name that matches nothing", function()
  it("is looked up again with the backoff for target_wait seconds, said once, then fails", function()
    local w, clock = job()
    assert.is_true(fail(w, clock, BY_TITLE, NOT_FOUND))
    local wt = w.waiting["a.csv"]
    assert.same({ 1000, 1001, 1 }, { wt.target_since, wt.due, wt.attempt })
    assert.equal(1, #w.events)
    assert.equal("waiting_for_target", w.events[1].type)
    assert.equal("waiting for the target: no run matches title = \"SN004599 final test\"", w.events[1].message)
    assert.equal(30, w.events[1].wait)
    assert.is_nil(w.held["a.csv"]) -- not held: it is taken again

    for attempt = 2, 5 do
      clock.t = w.waiting["a.csv"].due
      assert.is_true(fail(w, clock, BY_TITLE, NOT_FOUND))
      assert.equal(attempt, w.waiting["a.csv"].attempt)
    end
    assert.equal(1, #w.events) -- said once
    -- the backoff doubles but never runs past the deadline: 1000 + 30
    assert.equal(1030, w.waiting["a.csv"].due)
    clock.t = 1030
    assert.is_false(fail(w, clock, BY_TITLE, NOT_FOUND)) -- waited long enough: final
    assert.is_nil(w.waiting["a.csv"])
    assert.equal("k1#1", w.held["a.csv"])
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
      assert.equal("k1#1", w.held["a.csv"], "case " .. i)
      assert.equal(0, #w.events, "case " .. i)
    end
    local w, clock = job()
    w.stopping = true
    assert.is_false(fail(w, clock, BY_TITLE, NOT_FOUND))
  end)

  it("starts the wait again for a new version of the file", function()
    local w, clock = job()
    fail(w, clock, BY_TITLE, NOT_FOUND)
    clock.t = 1100 -- past the wait of the first version; the file was rewritten (a new key)
    local f = { key = "k2", index = 2, target = BY_TITLE }
    w.inflight["a.csv"] = f
    local ev = { type = "error", rel = "a.csv", err = NOT_FOUND, index = 2 }
    assert.is_true(w:retries(ev))
    w.inflight["a.csv"] = nil
    w:on_failed("a.csv", f, ev, clock.t)
    assert.same({ 1100, 1 }, { w.waiting["a.csv"].target_since, w.waiting["a.csv"].attempt })
  end)
end)
