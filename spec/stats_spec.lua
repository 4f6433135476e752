-- job:stats(): the engine's figures (engine/stats.lua) and the watch's own
-- (status/stats.lua), unit by unit; a stub watch stands in for the real one
-- in the last block (only the fields status/stats.lua reads).
local engine_stats = require("ion.upload.engine.stats")
local status_stats = require("ion.upload.status.stats")

describe("engine stats", function()
  it("a histogram counts each observation in its first bucket and reports them cumulative", function()
    local h = engine_stats.histogram()
    for _, v in ipairs({ 0.05, 0.1, 0.3, 7, 4000, -1 }) do h:observe(v) end
    local s = h:snapshot()
    assert.equal(6, s.count)
    assert.near(0.05 + 0.1 + 0.3 + 7 + 4000, s.sum, 1e-9) -- a negative wait counts as 0
    local by_le = {}
    for _, b in ipairs(s.buckets) do by_le[b.le] = b.count end
    assert.equal(3, by_le[0.1]) -- 0.05, 0.1 (inclusive bound) and the clamped -1
    assert.equal(4, by_le[0.5])
    assert.equal(4, by_le[5])
    assert.equal(5, by_le[10])
    assert.equal(5, by_le[3600]) -- 4000 is only in +Inf (the count)
    for i = 2, #s.buckets do assert.is_true(s.buckets[i].count >= s.buckets[i - 1].count) end
  end)

  it("counts failures by code, retries and the last success", function()
    local st = engine_stats.new()
    st:failed_with("network")
    st:failed_with("network")
    st:failed_with(nil)
    st:retried()
    local before = os.time()
    st:attached(1.5)
    local s = st:snapshot({ ok = 1, failed = 3, skipped = 2, in_doubt = 1, bytes = 99 }, 7)
    assert.same({ network = 2, unknown = 1 }, s.files_failed_by_code)
    assert.equal(1, s.files_attached)
    assert.equal(3, s.files_failed)
    assert.equal(2, s.files_skipped)
    assert.equal(1, s.files_in_doubt)
    assert.equal(99, s.bytes_sent)
    assert.equal(7, s.graphql_requests)
    assert.equal(1, s.retries)
    assert.equal(0, s.waiting_for_ion)
    assert.is_true(s.last_success >= before and s.last_success <= os.time())
    assert.equal(1, s.attach_seconds.count)
    s.files_failed_by_code.network = 100 -- a copy: the caller may keep or change it
    assert.equal(2, st:snapshot({ ok = 1, failed = 3, skipped = 2, in_doubt = 1, bytes = 99 }, 7)
      .files_failed_by_code.network)
  end)
end)

describe("watch stats", function()
  it("replaces the engine's attempt counts by the watch's final ones and adds its queue and outage", function()
    local counts = status_stats.new()
    counts:failed_with("not_found")
    counts:retried()
    counts:retried()
    counts:attached(12)
    local engine = engine_stats.new()
    engine:failed_with("network") -- an attempt the watch retried: not a failure of the watch
    engine:retried()
    -- stub: the watch's outage (watch/outage.lua's readers)
    local down = { since = 1700000000 }
    local outage = { waiting = function() return down ~= nil end, since = function() return down and down.since end }
    local function of()
      return status_stats.of(engine:snapshot({ ok = 1, failed = 1, skipped = 0, in_doubt = 0, bytes = 5 }, 3),
        counts, 4, outage)
    end
    local s = of()
    assert.same({ not_found = 1 }, s.files_failed_by_code)
    assert.equal(1, s.files_failed)
    assert.equal(3, s.retries)
    assert.equal(4, s.files_queued)
    assert.equal(1, s.waiting_for_ion)
    assert.equal(1700000000, s.waiting_since)
    assert.equal(1, s.attach_seconds.count)
    assert.equal(12, s.attach_seconds.sum)
    down = nil
    s = of()
    assert.equal(0, s.waiting_for_ion)
    assert.is_nil(s.waiting_since)
  end)
end)
