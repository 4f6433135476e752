-- Unit spec: ion-upload's streamed run (cli/stream.lua) and its reorder
-- buffer (cli/reorder.lua) against a STUB job and a stub source (no
-- network, no files): --json lines stay in input order when results come
-- out of order, and the files between read and printed never pass the bound
-- 2 x (window + concurrency), however long the head of the line is held.
local reorder = require("ion.upload.cli.reorder")
local stream = require("ion.upload.cli.stream")

local function sink()
  local s = { text = {} }
  function s.write(_, ...) for _, v in ipairs({ ... }) do s.text[#s.text + 1] = v end return true end
  function s.flush() return true end
  return s
end

-- A deterministic generator (a fixed seed): an LCG, the same on every Lua.
local function lcg(seed)
  local x = seed
  return function(n)
    x = (x * 16807) % 2147483647 -- Park-Miller: exact in a double too (Lua 5.1)
    return x % n + 1
  end
end

-- A stub of client:start_many's job: each step finishes one file it holds,
-- picked at random, except file 1, held for the first `hold` steps (a slow
-- head of the line). It counts how many files the CLI gave it at most.
local function stub_client(hold, seed)
  local stats = { max_held = 0, added = 0 }
  local client = { cfg = { concurrency = 4 } }
  function client.close() end
  function client.start_many(_, _, opts)
    local pending, input_done, steps = {}, false, 0
    local random = lcg(seed)
    local job = {}
    function job.add(_, item)
      stats.added = stats.added + 1
      pending[#pending + 1] = { k = stats.added, item = item }
      if #pending > stats.max_held then stats.max_held = #pending end
      return stats.added
    end
    function job.finish_input() input_done = true end
    function job.stopping() return nil end
    function job.step()
      steps = steps + 1
      local choices = {}
      for n, p in ipairs(pending) do
        if p.k ~= 1 or steps > hold then choices[#choices + 1] = n end
      end
      if #choices > 0 then
        local p = table.remove(pending, choices[random(#choices)])
        opts.on_result(p.k, { ok = true, attachment = { id = p.k, size = 1 } })
      end
      return input_done and #pending == 0
    end
    function job.results()
      return {}, { ok = stats.added, failed = 0, skipped = 0, in_doubt = 0, bytes = stats.added, seconds = 1 }
    end
    function job.fds() return {}, {} end
    function job.timeout() return 0 end
    function job.close() end
    return job
  end
  return client, stats
end

local function stub_source(n)
  local i = 0
  return {
    next = function()
      if i >= n then return nil end
      i = i + 1
      return { path = "f" .. i, item = { path = "f" .. i, target = { run = 1 } } }
    end,
    fd = function() return nil end,
    close = function() end,
  }
end

local stub_core = {
  isatty = function() return false end, catch_interrupt = function() end, interrupted = function() return false end,
  now = function() return 0 end, poll = function() return 0 end,
}

describe("ion.upload.cli.reorder", function()
  it("hands results on in input order, holding at most limit - 1", function()
    local out = {}
    local b = reorder.new(3, true, function(i, v) out[#out + 1] = i .. v end)
    assert.equal(1, b:admit())
    assert.equal(2, b:admit())
    assert.equal(3, b:admit())
    assert.is_false(b:room())
    assert.has_error(function() b:admit() end)
    b:done(3, "c")
    b:done(2, "b")
    assert.same({}, out)
    b:done(1, "a")
    assert.same({ "1a", "2b", "3c" }, out)
    assert.equal(2, b.peak)
    assert.is_true(b:room())
  end)

  it("in completion order, hands each on at once", function()
    local out = {}
    local b = reorder.new(2, false, function(i) out[#out + 1] = i end)
    b:admit()
    b:admit()
    b:done(2)
    assert.same({ 2 }, out)
    assert.is_true(b:room())
  end)
end)

describe("ion.upload.cli.stream (stub job)", function()
  it("keeps --json in input order and at most 2 x (window + concurrency) files in, the head held", function()
    for _, seed in ipairs({ 1, 7, 42 }) do
      local client, stats = stub_client(500, seed)
      local out, err = sink(), sink()
      local code = stream.run(client, stub_source(1000), { json = true, quiet = true, window = 3, concurrency = 2 },
        { stdout = out, stderr = err, core = stub_core, usage_error = error })
      assert.equal(0, code, table.concat(err.text))
      local lines = {}
      for line in table.concat(out.text):gmatch("[^\n]+") do lines[#lines + 1] = line end
      assert.equal(1000, #lines)
      for i, line in ipairs(lines) do
        assert.equal('{"path":"f' .. i .. '",', line:sub(1, #('{"path":"f' .. i .. '",')))
      end
      assert.equal(10, stream.limit(3, 2))
      assert.equal(10, stats.max_held, "seed " .. seed) -- the bound reached (file 1 held), never passed
    end
  end)
end)
