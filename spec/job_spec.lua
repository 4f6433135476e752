-- Unit spec: ion.upload.job (client:start_many, client:start and the job
-- a host loop steps), core stubbed (spec/support/batch_stub.lua). No network.
local cjson = require("cjson")
local stub = require("support.batch_stub")

local function items_for(paths, target)
  local items = {}
  for i, p in ipairs(paths) do items[i] = { path = p, target = target or { run_step = i } } end
  return items
end

local function read_lines(path)
  local out = {}
  local f = io.open(path, "rb")
  if not f then return out end
  for line in f:lines() do out[#out + 1] = cjson.decode(line) end
  f:close()
  return out
end

describe("client:start_many (core stubbed)", function()
  local dir, paths
  before_each(function() dir, paths = stub.files(5) end)
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  it("takes items over time: open, add, finish_input; journal and summary as for a list", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local journal = dir .. "/open.journal"
    local job = assert(client:start_many({}, { open = true, journal = journal }))
    for _ = 1, 5 do assert.is_false(job:step(0)) end -- nothing to do, but more may come
    assert.equal(0.2, job:timeout())
    assert.equal(1, job:add({ path = paths[1], target = { run_step = 1 } }))
    for _ = 1, 50 do job:step(0) end
    assert.equal(1, #srv.registered) -- done while the input stays open
    assert.is_false(job:done())
    assert.equal(2, job:add({ path = paths[2], target = { run_step = 1 } }))
    assert.equal(3, job:add({ path = dir .. "/missing.txt", target = { run_step = 2 } }))
    job:finish_input()
    assert.has_error(function() job:add({ path = paths[3], target = { run = 1 } }) end,
      "job:add: the input is finished (finish_input or cancel was called)")
    local results, summary = job:wait()
    assert.equal(3, #results)
    assert.is_true(results[1].ok and results[2].ok)
    assert.equal("bad_input", results[3].err.code)
    assert.same({ 2, 1 }, { summary.ok, summary.failed })
    assert.equal(2, #srv.registered)
    local attached = 0
    for _, rec in ipairs(read_lines(journal)) do
      if rec.e == "attached" then attached = attached + 1 end
    end
    assert.equal(2, attached)
    -- start_many(items) without open: its input is finished at once
    local again = assert(client:start_many({ { path = paths[1], target = { run_step = 1 } } }, { journal = journal }))
    local r = again:wait()
    assert.is_true(r[1].skipped)
    assert.has_error(function() again:add({ path = paths[2], target = { run = 1 } }) end)
  end)

  it("registers a finished file within the linger while a slower PUT goes on", function()
    local srv = stub.server()
    local client, core = stub.client(srv)
    local held = true
    core.hold = function(t) return held and t.kind == "put" and t.req.path == paths[2] end
    local put_end, attached = {}, {}
    local job = assert(client:start_many(items_for({ paths[1], paths[2] }, { run_step = 1 }), {
      on_event = function(ev)
        if ev.type == "progress" and ev.bytes == ev.total then put_end[ev.index] = core.t end
        if ev.type == "done" then attached[ev.index] = core.t end
      end,
    }))
    for _ = 1, 500 do
      job:step(0.05)
      if attached[1] then break end
    end
    assert.is_number(attached[1]) -- attached while the other PUT of its window still moves
    assert.is_nil(attached[2])
    assert.is_true(attached[1] - put_end[1] <= 0.25 + 0.02, tostring(attached[1] - put_end[1]))
    held = false
    local results = job:wait()
    assert.is_true(results[2].ok)
  end)

  it("steps to the same results as upload_many, one transfer per step", function()
    local srv = stub.server()
    local client = stub.client(srv, nil, { per_step = 1 })
    local job = assert(client:start_many(items_for(paths), { window = 2, concurrency = 2 }))
    assert.is_false(job:done())
    assert.is_nil(job:results())
    local steps = 0
    while not job:step(0) do
      steps = steps + 1
      assert.is_nil(job:results())
      local t = job:timeout()
      assert.is_number(t)
      assert.is_true(t >= 0 and t <= 0.2)
      local r, w = job:fds()
      assert.is_table(r)
      assert.is_table(w)
      assert.is_true(steps < 1000)
    end
    assert.is_true(steps > 5) -- it really went a step at a time
    assert.is_true(job:done())
    assert.is_true(job:step(0)) -- done stays done
    local results, summary = job:results()
    assert.equal(5, #results)
    for _, r in ipairs(results) do assert.is_true(r.ok, tostring(r.err)) end
    assert.equal(5, summary.ok)
    assert.equal(0, summary.failed)
    assert.equal(5, #srv.registered)
  end)

  it("bad options and items: nil, err or a misuse raise, like upload_many", function()
    local client = stub.client(stub.server())
    local job, err = client:start_many({}, { window = 0 })
    assert.is_nil(job)
    assert.equal("bad_input", err.code)
    assert.equal("window", err.field)
    assert.has_error(function() client:start_many("x") end,
      "bad argument #1 to 'start_many' (table expected, got string)")
    job = assert(client:start_many({ { path = dir .. "/missing", target = { run = 1 } } }))
    assert.is_true(job:step(0) or job:step(0))
    local results, summary = job:results()
    assert.equal("bad_input", results[1].err.code)
    assert.equal(1, summary.failed)
  end)

  it("runs in a coroutine: yields the recommended wait between steps", function()
    local srv = stub.server()
    local client = stub.client(srv, nil, { per_step = 1 })
    local job = assert(client:start_many(items_for(paths), { window = 5 }))
    local co = coroutine.create(function() return job:run_in_coroutine() end)
    local yields, results, summary = 0, nil, nil -- luacheck: ignore 311
    while true do
      local ok, a, b = coroutine.resume(co)
      assert.is_true(ok, tostring(a))
      if coroutine.status(co) == "dead" then
        results, summary = a, b
        break
      end
      yields = yields + 1
      assert.is_number(a) -- the wait: job:timeout()
    end
    assert.is_true(yields > 3)
    assert.equal(5, #results)
    assert.equal(5, summary.ok)
  end)

  it("run_in_coroutine with a scheduler's yield function, and outside a coroutine", function()
    local client = stub.client(stub.server())
    local job = assert(client:start_many(items_for(paths)))
    local waits = {}
    local results = job:run_in_coroutine(function(t) waits[#waits + 1] = t end)
    assert.equal(5, #results)
    assert.is_true(#waits > 0)
    job = assert(client:start_many(items_for(paths)))
    assert.has_error(function() job:run_in_coroutine() end,
      "run_in_coroutine: not inside a coroutine (give a yield function)")
    job:close()
  end)

  it("an on_event that raises aborts the batch; the job ends consistent", function()
    local srv = stub.server()
    local client = stub.client(srv, nil, { per_step = 1 })
    local journal = dir .. "/j.journal"
    local job = assert(client:start_many(items_for(paths), {
      window = 1, concurrency = 1, journal = journal,
      on_event = function(ev) if ev.type == "done" then error("boom in on_event") end end,
    }))
    local guard = 0
    while not job:step(0) do guard = guard + 1 assert.is_true(guard < 1000) end
    local results, summary = job:results()
    assert.equal(5, summary.ok + summary.failed)
    assert.is_true(summary.failed > 0)
    for _, r in ipairs(results) do
      if not r.ok then assert.equal("aborted", r.err.code) end
    end
    -- the journal was closed: another batch may take its lock
    local again = assert(client:start_many({}, { journal = journal }))
    again:close()
  end)

  it("a step that raises ends the job before the error propagates", function()
    local srv = stub.server()
    local client = stub.client(srv, nil, { per_step = 1 })
    local journal = dir .. "/j.journal"
    srv.put_fault = function(_, n) if n == 2 then error("stub storage exploded") end end
    local job = assert(client:start_many(items_for(paths), { window = 5, concurrency = 1, journal = journal }))
    local raised
    for _ = 1, 1000 do
      local ok, done = pcall(job.step, job, 0)
      if not ok then raised = done break end
      if done then break end
    end
    assert.matches("stub storage exploded", tostring(raised))
    assert.is_true(job:done())
    assert.is_true(job:step(0))
    local results, summary = job:results()
    assert.equal(5, #results)
    assert.equal(5, summary.ok + summary.failed + summary.skipped)
    for _, r in ipairs(results) do
      assert.is_false(r.ok)
      assert.equal("aborted", r.err.code)
    end
    assert.matches("a step raised an error", results[5].err.message)
    local again = assert(client:start_many({}, { journal = journal }))
    again:close()
  end)

  it("step() from one of its callbacks is refused (and aborts the batch)", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local job
    job = assert(client:start_many(items_for(paths), {
      on_event = function(ev) if ev.type == "start" then job:step(0) end end,
    }))
    local results = job:wait()
    assert.is_false(results[1].ok)
    assert.matches("job is busy", results[1].err.message)
  end)

  it("cancel: nothing new starts, the rest fails with aborted", function()
    local srv = stub.server()
    local client = stub.client(srv, nil, { per_step = 1 })
    local job = assert(client:start_many(items_for(paths), { window = 1, concurrency = 1 }))
    job:step(0)
    job:cancel("operator pressed stop")
    local guard = 0
    while not job:step(0) do guard = guard + 1 assert.is_true(guard < 100) end
    local results, summary = job:results()
    assert.equal(5, summary.failed)
    assert.equal("aborted", results[5].err.code)
    assert.equal("operator pressed stop", results[5].err.message)
    assert.equal(0, #srv.registered)
  end)

  it("cancel ends an open job's input: it ends without finish_input, and add raises after", function()
    local srv = stub.server()
    local client = stub.client(srv, nil, { per_step = 1 })
    local job = assert(client:start_many({}, { open = true }))
    job:add({ path = paths[1], target = { run_step = 1 } })
    job:add({ path = paths[2], target = { run_step = 1 } })
    job:step(0)
    job:cancel("shift over")
    local guard = 0
    while not job:step(0) do guard = guard + 1 assert.is_true(guard < 100, "an open job cancelled never ends") end
    local results = job:results()
    assert.equal(2, #results)
    assert.equal("shift over", results[2].err.message)
    assert.has_error(function() job:add({ path = paths[3], target = { run = 1 } }) end,
      "job:add: the input is finished (finish_input or cancel was called)")
  end)

  it("close with a registration in flight: in doubt, and the journal says so", function()
    local srv = stub.server()
    local client, core = stub.client(srv, nil, { per_step = 1 })
    local journal = dir .. "/j.journal"
    local job = assert(client:start_many(items_for({ paths[1] }), { journal = journal }))
    local function reg_in_flight()
      for _, c in ipairs(core.calls) do
        if c.kind == "request" and c.req.body:find("createFileAttachment", 1, true) then return true end
      end
    end
    local guard = 0
    while not reg_in_flight() do
      assert.is_false(job:step(0))
      guard = guard + 1
      assert.is_true(guard < 100)
    end
    job:close()
    job:close() -- again: nothing
    assert.is_true(job:done())
    local results, summary = job:results()
    assert.equal(1, summary.failed)
    assert.is_true(results[1].err.in_doubt)
    local last = read_lines(journal)
    assert.equal("in_doubt", last[#last].e)
  end)
end)

describe("client:start (core stubbed)", function()
  local dir, paths
  before_each(function() dir, paths = stub.files(1) end)
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  it("one file: result() is the attachment, on_progress ends at sent == total", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local calls = {}
    local job = assert(client:start(paths[1], { run_step = 4 }, {
      filename = "renamed.txt", on_progress = function(sent, total) calls[#calls + 1] = { sent, total } end,
    }))
    assert.is_nil(job:result())
    local att, err = job:wait()
    assert.is_table(att, tostring(err))
    assert.equal("renamed.txt", att.filename)
    assert.equal("1004", att.entityId)
    assert.same(att, (job:result()))
    local last = calls[#calls]
    assert.equal(last[1], last[2])
  end)

  it("refuses a bad file, option or target at once; raises for a misuse", function()
    local client = stub.client(stub.server())
    local job, err = client:start(dir .. "/missing", { run_step = 1 })
    assert.is_nil(job)
    assert.equal("bad_input", err.code)
    job, err = client:start(paths[1], { run_step = 1 }, { colour = "red" })
    assert.is_nil(job)
    assert.equal("colour", err.field)
    job, err = client:start(paths[1], { nothing = 1 })
    assert.is_nil(job)
    assert.equal("bad_input", err.code)
    assert.has_error(function() client:start(1, {}) end, "bad argument #1 to 'start' (string expected, got number)")
  end)

  it("on_progress returning false or raising aborts", function()
    local client = stub.client(stub.server())
    local job = assert(client:start(paths[1], { run_step = 1 }, { on_progress = function() return false end }))
    local att, err = job:wait()
    assert.is_nil(att)
    assert.equal("aborted", err.code)
    job = assert(client:start(paths[1], { run_step = 1 }, { on_progress = function() error("nope") end }))
    att, err = job:wait()
    assert.is_nil(att)
    assert.matches("on_progress raised an error", err.message)
  end)
end)
