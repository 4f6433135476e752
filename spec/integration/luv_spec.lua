-- integration: ion.upload.luv drives jobs from a luv loop (issue 15). A 256
-- MiB upload and a 20-file batch go to the sandbox at once (two clients: the
-- jobs of one client share one session's descriptors) while a 10 ms luv timer
-- of the host's own records how late it fires. The loop must never be held:
-- every step is step(0), woken by a poll on the job's fds or its timeout.
local sandbox = require("support.sandbox")
local files = require("support.files")
local slowdown = require("support.slowdown")
local lateness = require("support.lateness")

local has_luv, uv = pcall(require, "luv")
if not has_luv then
  print("luv_spec: skipped: luv does not load under " .. _VERSION .. " (" .. tostring(uv):match("^[^\n]*")
    .. "); scripts/deps.sh installs lua-luv")
  describe("integration: ion.upload.luv", function()
    it("needs luv", function() pending("luv is not installed for " .. _VERSION) end)
  end)
  return
end

local adapter = require("ion.upload.luv")

local BIG = 256 * 1024 * 1024

-- Every handle still open on the default loop (uv.walk), by type.
local function open_handles()
  local out = {}
  uv.walk(function(h)
    if not h:is_closing() then out[#out + 1] = tostring(h) end
  end)
  return out
end

-- A repeating 10 ms timer of the host's own that records how late it fires
-- (spec/support/lateness.lua). :stop() closes it.
local function lateness_timer()
  local rec = lateness.new(10, function() return uv.hrtime() / 1e6 end)
  local t = uv.new_timer()
  t:start(10, 10, rec.fire)
  function rec.stop() t:stop() t:close() end
  return rec
end

-- Runs the default loop until every handle in `handles` is done (then stops
-- it: other handles may still be active); a hang guard closes the jobs after
-- `limit` seconds.
local function run_until_done(handles, limit)
  local guard = uv.new_timer()
  guard:start(limit * 1000, 0, function()
    for _, h in ipairs(handles) do h:close() end
  end)
  local check = uv.new_timer()
  check:start(20, 20, function()
    for _, h in ipairs(handles) do if not h:done() then return end end
    check:stop() check:close()
    guard:stop() guard:close()
    uv.stop() -- the host's own timer would keep the loop running
  end)
  uv.run("default")
end

describe("integration: ion.upload.luv", function()
  local dir, big, small, srv

  setup(function()
    -- a sandbox of its own, niced: it stands in for a remote ION and S3 and
    -- must not take the cores whose scheduling the host's timer measures
    -- (as examples/run_all.sh does for the C host)
    srv = sandbox.spawn()
    os.execute("renice -n 10 -p " .. srv.pid .. " >/dev/null 2>&1")
    dir = files.tmpdir()
    big = dir .. "/big.bin"
    assert(os.execute("truncate -s " .. BIG .. " " .. files.quote(big)))
    small = {}
    for i = 1, 20 do
      small[i] = files.write(dir, ("m%02d.csv"):format(i), ("row %d\n"):format(i):rep(200 + i))
    end
  end)
  teardown(function()
    srv:stop()
    files.rmdir(dir)
  end)
  before_each(function() srv:admin("POST", "/reset") end)

  local function attachment(id)
    for _, a in ipairs(srv:admin("GET", "/attachments")) do
      if tonumber(a.id) == tonumber(id) then return a end
    end
  end

  it("uploads 256 MiB and a 20-file batch while a 10 ms luv timer stays on time", function()
    local one = assert(srv:client():start(big, { run_step = 12 }))
    local items = {}
    for i, p in ipairs(small) do items[i] = { path = p, target = { run = 7 } } end
    local batch = assert(srv:client():start_many(items, { concurrency = 4 }))

    local outcomes = {}
    local rec = lateness_timer()
    local h1 = adapter.drive(one, { loop = uv, on_done = function() outcomes.one = true end })
    local h2 = adapter.drive(batch, { on_done = function(results, summary)
      outcomes.batch = { results = results, summary = summary }
    end })
    run_until_done({ h1, h2 }, 120 * slowdown)
    rec.stop()
    uv.run("nowait") -- lets the closes finish

    assert.is_true(outcomes.one, "the big upload never finished")
    local att, err = one:result()
    assert.is_nil(err)
    assert.equal(BIG, att.size)
    local a = attachment(att.id)
    assert.truthy(a, "attachment " .. tostring(att.id) .. " is not in the sandbox")
    assert.equal(BIG, a.size)
    assert.equal(files.md5(big), a.md5)

    assert.equal(20, outcomes.batch.summary.ok)
    for i, r in ipairs(outcomes.batch.results) do
      assert.is_true(r.ok, tostring(r.err))
      local s = attachment(r.attachment.id)
      assert.truthy(s, "batch file " .. i .. " is not in the sandbox")
      assert.equal(files.md5(small[i]), s.md5)
    end

    print("luv_spec: the host's 10 ms timer: " .. rec.describe())
    assert.is_true(rec.fired > 10, "the host's timer fired " .. rec.fired .. " times")
    assert.is_true(rec.max_own <= 50 * slowdown, rec.describe())
    assert.same({}, open_handles())
  end)

  it("cancel drives the job to its end and closes every handle", function()
    local job = assert(srv:client():start(big, { run_step = 12 }))
    local done_with
    local h
    h = adapter.drive(job, { on_done = function(results) done_with = results end })
    local t = uv.new_timer()
    t:start(50, 0, function() t:close() h:cancel("the user changed their mind") end)
    run_until_done({ h }, 60 * slowdown)
    uv.run("nowait")
    assert.truthy(done_with, "on_done was not called")
    local att, err = job:result()
    assert.is_nil(att)
    -- a file whose request was in flight fails with that request's
    -- cancellation (code aborted); one not started yet with the reason
    assert.equal("aborted", err.code, tostring(err))
    assert.same({}, open_handles())
  end)

  it("close ends the job at once and closes every handle", function()
    local job = assert(srv:client():start(big, { run_step = 12 }))
    local called = 0
    local h = adapter.drive(job, { on_done = function() called = called + 1 end })
    uv.run("once") -- the first step: the lookup is under way
    h:close()
    h:close() -- idempotent
    uv.run("nowait")
    assert.equal(1, called)
    assert.is_true(job:done())
    assert.is_true(h:done())
    assert.same({}, open_handles())
  end)

  it("refuses to drive a second job of the same client at once", function()
    local client = srv:client()
    local a = assert(client:start(small[1], { run = 7 }))
    local b = assert(client:start(small[2], { run = 7 }))
    local ha = adapter.drive(a)
    assert.has_error(function() adapter.drive(b) end)
    run_until_done({ ha }, 30 * slowdown)
    uv.run("nowait")
    assert.truthy(a:result())
    local hb = adapter.drive(b) -- once the first is done, the client is free
    run_until_done({ hb }, 30 * slowdown)
    uv.run("nowait")
    assert.truthy(b:result())
    b:close()
    assert.same({}, open_handles())
  end)
end)
