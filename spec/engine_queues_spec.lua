-- The engine's queues at scale (issue 16): the URL queue is a FIFO behind
-- the few retries, the registration queue stays in input order as items
-- join it, and no URL is asked while too many files wait for registration.
-- A fake run: only the fields and methods these stages use.
local urls = require("ion.upload.engine.urls")
local registrations = require("ion.upload.engine.registrations")

local function fake_run(opts)
  local now = 100
  local run = {
    W = opts.W or 2, C = 4, lookahead = opts.lookahead or 2, gql_out = 0, url_out = 0, windows = 0,
    url_queue = {}, url_head = 1, url_tail = 0, url_retry = {}, ready = {}, reg_queue = {},
    window_pending = {}, sent = {},
    clock = { now = function() return now end },
  }
  for name, fn in pairs(urls) do run[name] = fn end
  for name, fn in pairs(registrations) do run[name] = fn end
  function run.start_item() end
  function run.send_query(self, _, _, entries)
    local names = {}
    for i, e in ipairs(entries) do names[i] = e.value end
    self.sent[#self.sent + 1] = table.concat(names, ",")
  end
  return run, function(t) now = t end
end

local function item(i) return { index = i, filename = "f" .. i } end

describe("engine queues", function()
  it("asks URLs for retries that are due first, then the items never tried, in order", function()
    local run, set_now = fake_run({ W = 2, lookahead = 100 })
    for i = 1, 5 do run:queue_item(item(i)) end
    local late, soon = item(6), item(7)
    run:requeue_url(late, 50) -- not before 150
    run:requeue_url(soon) -- at once, ahead of the rest
    run:send_urls()
    assert.same({ "f7,f1", "f2,f3", "f4,f5" }, run.sent)
    assert.equal(1, run:url_waiting())
    set_now(150)
    run:send_urls()
    assert.same("f6", run.sent[4])
    assert.equal(0, run:url_waiting())
  end)

  it("keeps the registration queue in input order whatever order files finish in", function()
    local run = fake_run({})
    for _, i in ipairs({ 3, 1, 4, 10, 5, 9, 2, 6 }) do run:ready_to_register(item(i)) end
    local order = {}
    for k, it_ in ipairs(run.reg_queue) do order[k] = it_.index end
    assert.same({ 1, 2, 3, 4, 5, 6, 9, 10 }, order)
  end)

  it("asks no URL while two lookaheads of files wait for registration", function()
    local run = fake_run({ W = 2, lookahead = 2 })
    for i = 1, 4 do run:ready_to_register(item(100 + i)) end
    run:queue_item(item(1))
    run:send_urls()
    assert.same({}, run.sent)
    table.remove(run.reg_queue)
    run:send_urls()
    assert.same({ "f1" }, run.sent)
  end)
end)
