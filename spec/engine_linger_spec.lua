-- When the engine sends a registration document (issue 24): a window's
-- files go out together while their PUTs keep ending, never later than the
-- cap, and a lone file goes out at once. The registration stage and the
-- windows are real; the clock, the documents (sent ones recorded, answered
-- by the spec), the PUT, URL and lookup stages and the outcomes are stubs.
local registrations_mod = require("ion.upload.engine.registrations")
local windows_mod = require("ion.upload.engine.windows")

local LINGER, CAP = 0.25, 2

local function stage(opts)
  local h = { now = 100, sent = {}, puts_busy = true }
  local docs = {
    room = function() return true end,
    alias_by_alias = function() return true end, -- every file may share a document
    new_doc = function(_, _, _, _, entries) return { entries = entries, aliases = {} } end,
    send = function(_, doc)
      for i = 1, #doc.entries do doc.aliases[i] = "f" .. i end
      h.sent[#h.sent + 1] = doc
    end,
  }
  local noop = function() end
  h.windows = windows_mod.new()
  local svc = { ctx = {}, core = { now = function() return h.now end }, docs = docs, windows = h.windows,
    outcomes = { stopped = function() return false end, start_item = noop, count = noop, fail = noop, record = noop } }
  h.reg = registrations_mod.new(svc, { window = opts.W or 50, concurrency = opts.C or 8 }, LINGER, CAP)
  h.reg:link({ lookups = { entity_id = function() return "E1" end },
    urls = { asking = function() return false end }, puts = { busy = function() return h.puts_busy end } })
  -- the sizes of the documents sent so far
  function h.sizes()
    local out = {}
    for i, doc in ipairs(h.sent) do out[i] = #doc.entries end
    return out
  end
  -- the window's items, opened as one URL document opens them
  function h.window(first, last)
    local items = {}
    for i = first, last do
      items[#items + 1] = { index = i, path = "f" .. i, filename = "f" .. i, target_key = "run_step=1",
        put = { s3Key = "k" .. i, etag = "e" .. i } }
    end
    h.windows:open(items)
    return items
  end
  -- item's PUT ends at time t: the run's step then starts what is due
  function h.put_ends(item, t)
    h.now = t
    h.windows:leave(item)
    h.reg:ready(item)
    h.reg:start()
  end
  -- the scheduler's steps until time t, every 10 ms (the clock moves on)
  function h.steps_until(t)
    while h.now + 0.01 <= t do
      h.now = h.now + 0.01
      h.reg:start()
    end
  end
  -- items' PUTs end one every dt seconds after t0, the steps going on
  -- between; after_each(i) may stop it (true)
  function h.puts_end(items, t0, dt, after_each)
    for i, item in ipairs(items) do
      h.steps_until(t0 + i * dt)
      h.put_ends(item, t0 + i * dt)
      if after_each and after_each(i) then return end
    end
  end
  -- the document in flight answers (in doubt: the stubbed outcomes take it)
  function h.answer(doc)
    doc.on_done(nil, { code = "network", message = "lost", in_doubt = true })
  end
  return h
end

describe("engine registration batching", function()
  it("sends a window whose PUTs end over 530 ms as one document", function()
    local h = stage({})
    h.puts_end(h.window(1, 50), 100, 0.0106)
    -- the last PUT of the window ended: sent, all 50 together (the old
    -- policy, the linger counted from the first end, sent 24 at 250 ms)
    assert.same({ 50 }, h.sizes())
  end)

  it("keeps a window's files together while its PUTs keep ending, after another window went whole", function()
    local h = stage({})
    local items = h.window(1, 17)
    for _, item in ipairs(h.window(18, 60)) do items[#items + 1] = item end
    h.puts_end(items, 100, 0.0106, function(i)
      if i == 17 then
        -- window 1 done, window 2's PUTs have not ended: window 1 goes, as before
        assert.same({ 17 }, h.sizes())
        h.answer(h.sent[1])
      end
    end)
    assert.same({ 17, 43 }, h.sizes())
  end)

  it("sends a window's worth whole once the document in flight answers, not cut to the room left", function()
    local h = stage({})
    local first, second = h.window(1, 34), h.window(35, 84)
    h.puts_end(first, 100, 0.003)
    assert.same({ 34 }, h.sizes()) -- its window has no PUT left; in flight, it leaves room for 16
    h.puts_end(second, 100.2, 0.003)
    assert.same({ 34 }, h.sizes()) -- the old policy sent 16 here, then the rest
    h.answer(h.sent[1])
    h.reg:start()
    assert.same({ 34, 50 }, h.sizes())
  end)

  it("never holds the oldest file longer than the cap while PUTs keep ending", function()
    local h = stage({})
    h.puts_end(h.window(1, 50), 100, 0.2, function() return #h.sent > 0 end)
    -- the first file's PUT ended at 100.2: sent at 102.2, the cap, with the
    -- 11 ended by then (the 11th at that moment)
    assert.same({ 11 }, h.sizes())
    assert.is_true(h.now <= 100.2 + CAP + 1e-9, tostring(h.now))
  end)

  it("registers a lone file at once when nothing else moves", function()
    local h = stage({})
    local item = h.window(1, 1)[1]
    h.puts_busy = false
    h.put_ends(item, 100)
    assert.same({ 1 }, h.sizes()) -- no linger, no step later
  end)

  it("registers a lone file within the linger while another window's PUT goes on and ends none", function()
    local h = stage({})
    local item = h.window(1, 1)[1]
    h.window(2, 2) -- its PUT moves and does not end
    h.put_ends(item, 100)
    assert.same({ 1 }, h.sizes()) -- its own window has no PUT left: at once
    local other = stage({})
    local a = other.window(1, 2)[1] -- a window of two; the second PUT does not end
    other.put_ends(a, 100)
    other.steps_until(100 + LINGER - 0.01)
    assert.same({}, other.sizes())
    other.steps_until(100 + LINGER + 0.01)
    assert.same({ 1 }, other.sizes()) -- the linger, not the cap
  end)
end)
