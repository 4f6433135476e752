-- integration: ion.upload.cqueues runs jobs inside a cqueues controller
-- (issue 15). A 256 MiB upload and a 20-file batch go to the sandbox at once
-- while another coroutine of the same controller, a 10 ms timer, records how
-- late it wakes: the jobs' coroutines must sleep in cqueues.poll on their
-- fds and timeout, never hold the controller.
local sandbox = require("support.sandbox")
local files = require("support.files")
local slowdown = require("support.slowdown")
local lateness = require("support.lateness")

local has_cq, cqueues = pcall(require, "cqueues")
if not has_cq then
  print("cqueues_spec: skipped: cqueues does not load under " .. _VERSION .. " ("
    .. tostring(cqueues):match("^[^\n]*") .. "); scripts/deps.sh installs lua-cqueues")
  describe("integration: ion.upload.cqueues", function()
    it("needs cqueues", function() pending("cqueues is not installed for " .. _VERSION) end)
  end)
  return
end

local adapter = require("ion.upload.cqueues")

local BIG = 256 * 1024 * 1024

-- Runs the controller until every handle is done; the 10 ms timer
-- coroutine runs beside the jobs meanwhile. A hang guard closes the jobs
-- after `limit` seconds. Returns the timer's recorder.
local function run(cq, handles, limit)
  local rec = lateness.new(10, function() return cqueues.monotime() * 1000 end)
  local function all_done()
    for _, h in ipairs(handles) do if not h:done() then return false end end
    return true
  end
  cq:wrap(function()
    local deadline = cqueues.monotime() + limit
    while not all_done() do
      cqueues.sleep(0.01)
      rec.fire()
      if cqueues.monotime() > deadline then
        for _, h in ipairs(handles) do h:close() end
      end
    end
  end)
  assert(cq:loop())
  return rec
end

describe("integration: ion.upload.cqueues", function()
  local dir, big, small, srv

  setup(function()
    -- a sandbox of its own, niced: it stands in for a remote ION and S3 and
    -- must not take the cores whose scheduling the timer measures
    srv = sandbox.spawn()
    os.execute("renice -n 10 -p " .. srv.pid .. " >/dev/null 2>&1")
    dir = files.tmpdir()
    big = dir .. "/big.bin"
    assert(os.execute("truncate -s " .. BIG .. " " .. files.quote(big)))
    small = {}
    for i = 1, 20 do
      small[i] = files.write(dir, ("m%02d.csv"):format(i), ("row %d\n"):format(i):rep(300 + i))
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

  it("uploads 256 MiB and a 20-file batch while a 10 ms timer coroutine stays on time", function()
    local cq = cqueues.new()
    local one = assert(srv:client():start(big, { run_step = 12 }))
    local items = {}
    for i, p in ipairs(small) do items[i] = { path = p, target = { run = 7 } } end
    local batch = assert(srv:client():start_many(items, { concurrency = 4 }))
    local got = {}
    local h1 = adapter.wrap(cq, one, { on_done = function() got.one = true end })
    local h2 = adapter.wrap(cq, batch, { on_done = function(results, summary, _, err)
      got.batch = { results = results, summary = summary, err = err }
    end })
    local rec = run(cq, { h1, h2 }, 120 * slowdown)

    assert.is_true(got.one, "the big upload never finished")
    local att, err = one:result()
    assert.is_nil(err)
    local a = attachment(att.id)
    assert.truthy(a, "attachment " .. tostring(att.id) .. " is not in the sandbox")
    assert.equal(BIG, a.size)
    assert.equal(files.md5(big), a.md5)

    assert.is_nil(got.batch.err)
    assert.equal(20, got.batch.summary.ok)
    for i, r in ipairs(got.batch.results) do
      assert.is_true(r.ok, tostring(r.err))
      local s = attachment(r.attachment.id)
      assert.truthy(s, "batch file " .. i .. " is not in the sandbox")
      assert.equal(files.md5(small[i]), s.md5)
    end

    print("cqueues_spec: the 10 ms timer coroutine: " .. rec.describe())
    assert.is_true(rec.fired > 10, "the timer coroutine woke " .. rec.fired .. " times")
    assert.is_true(rec.max_own <= 50 * slowdown, rec.describe())
  end)

  it("cancel ends the job with aborted while the controller goes on", function()
    local cq = cqueues.new()
    local job = assert(srv:client():start(big, { run_step = 12 }))
    local h = adapter.wrap(cq, job)
    local t0 = cqueues.monotime()
    cq:wrap(function()
      cqueues.sleep(0.3)
      h:cancel("the user changed their mind")
    end)
    assert(cq:loop())
    local took = cqueues.monotime() - t0
    assert.is_true(h:done())
    local att, err = job:result()
    assert.is_nil(att)
    assert.equal("aborted", err.code)
    assert.is_true(took < 5 * slowdown, ("the cancel took %.2f s"):format(took))
  end)

  it("run() drives a job from the host's own coroutine", function()
    local cq = cqueues.new()
    local job = assert(srv:client():start(small[1], { run = 7 }))
    local results
    cq:wrap(function() results = adapter.run(job) end)
    assert(cq:loop())
    assert.is_true(results[1].ok, tostring(results[1].err))
    assert.truthy(attachment(results[1].attachment.id))
  end)
end)
