-- The engine's queues at scale (issue 16): the URL queue is a FIFO behind
-- the few retries, the registration queue stays in input order as items
-- join it, and no URL is asked while too many files wait for registration.
-- The URL and registration stages are real; the services they share (the
-- documents, the outcomes) and the PUT stage are stubs that record what
-- they are asked.
local urls_mod = require("ion.upload.engine.urls")
local registrations_mod = require("ion.upload.engine.registrations")
local windows_mod = require("ion.upload.engine.windows")

local function stages(opts)
  local now = 100
  local sent = {}
  local docs = {
    room = function() return true end,
    alias_by_alias = function() return true end, -- every file may share a document
    send_query = function(_, _, _, entries)
      local names = {}
      for i, e in ipairs(entries) do names[i] = e.value end
      sent[#sent + 1] = table.concat(names, ",")
    end,
  }
  local svc = { ctx = {}, core = { now = function() return now end }, docs = docs, windows = windows_mod.new(),
    outcomes = { may_start = function() return true end, drain_error = function() end, start_item = function() end,
      retried = function() end } }
  local run_opts = { window = opts.W or 2, concurrency = opts.lookahead or 2 }
  local s = { urls = urls_mod.new(svc, run_opts), registrations = registrations_mod.new(svc, run_opts, 0.25),
    puts = { held = function() return 0 end } }
  s.urls:link(s)
  s.registrations:link(s)
  return s, sent, function(t) now = t end
end

local function item(i) return { index = i, filename = "f" .. i, target_key = "run=1" } end

describe("engine queues", function()
  it("asks URLs for retries that are due first, then the items never tried, in order", function()
    local s, sent, set_now = stages({ W = 2, lookahead = 100 })
    for i = 1, 5 do s.urls:queue(item(i)) end
    local late, soon = item(6), item(7)
    s.urls:retry(late, 50) -- not before 150
    s.urls:retry(soon) -- at once, ahead of the rest
    s.urls:start()
    assert.same({ "f7,f1", "f2,f3", "f4,f5" }, sent)
    assert.equal(1, s.urls:waiting())
    assert.equal(150, s.urls:next_due(100))
    set_now(150)
    s.urls:start()
    assert.same("f6", sent[4])
    assert.equal(0, s.urls:waiting())
  end)

  it("keeps the registration queue in input order whatever order files finish in", function()
    local s = stages({})
    for _, i in ipairs({ 3, 1, 4, 10, 5, 9, 2, 6 }) do s.registrations:ready(item(i)) end
    local order = {}
    for k, it_ in ipairs(s.registrations:pick(100)) do order[k] = it_.index end
    assert.same({ 1, 2, 3, 4, 5, 6, 9, 10 }, order)
    assert.equal(0, s.registrations:waiting())
  end)

  it("asks no URL while two lookaheads of files wait for registration", function()
    local s, sent = stages({ W = 2, lookahead = 2 })
    for i = 1, 4 do s.registrations:ready(item(100 + i)) end
    s.urls:queue(item(1))
    s.urls:start()
    assert.same({}, sent)
    s.registrations:pick(1) -- one goes out
    s.urls:start()
    assert.same({ "f1" }, sent)
  end)
end)
