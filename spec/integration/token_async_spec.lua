-- integration: with client credentials, the token endpoint is a transfer of
-- the engine: a non-blocking job's step never waits on it, however slow it is
-- (the sandbox's token_latency_ms), for the first token and for a refresh.
local sandbox = require("support.sandbox")
local files = require("support.files")
local upload = require("ion.upload")
local core = require("ion.upload.core")

describe("integration: OAuth inside the engine", function()
  local dir, paths, state
  local DELAY = 0.6 -- seconds the token endpoint takes

  setup(function()
    state = sandbox.get()
    dir = files.tmpdir()
    paths = {}
    for i = 1, 3 do paths[i] = files.write(dir, "f" .. i .. ".txt", string.rep("t", 1000 + i)) end
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  local function cc_client()
    return assert(upload.new({ endpoint = state.graphql, client_id = state.oauth.client_id,
      client_secret = state.oauth.client_secret, auth_url = state.oauth.token_url }))
  end

  -- Steps the job with step(0) until done; the longest step and the count.
  local function drive(job)
    local longest, n, t_start = 0, 0, core.now()
    while true do
      local t0 = core.now()
      local done = job:step(0)
      longest = math.max(longest, core.now() - t0)
      n = n + 1
      if done then break end
      core.sleep(math.min(job:timeout(), 0.01))
      assert.is_true(core.now() - t_start < 30, "the job never ended")
    end
    return longest, n
  end

  it("no step(0) waits for a slow token endpoint: first token and refresh", function()
    sandbox.faults({ token_latency_ms = DELAY * 1000, token_lifetime_s = 2 })
    local c = cc_client()
    local items = {}
    for i, p in ipairs(paths) do items[i] = { path = p, target = { run_step = i } } end
    local job = assert(c:start_many(items))
    local t0 = core.now()
    local longest, n = drive(job)
    local results, summary = job:results()
    assert.equal(3, summary.ok, results[1].err and tostring(results[1].err))
    -- the token took DELAY; the job waited for it across many short steps
    assert.is_true(core.now() - t0 >= DELAY)
    assert.is_true(n > 10)
    assert.is_true(longest < DELAY / 4, "a step took " .. longest .. " s")
    -- a refresh (the token's lifetime of 2 s less its margin has run out) is a transfer too
    core.sleep(2)
    job = assert(c:start_many({ { path = paths[1], target = { run = 9 } } }))
    longest = drive(job)
    assert.is_true(job:results()[1].ok)
    assert.is_true(longest < DELAY / 4, "a step took " .. longest .. " s")
    assert.equal(2, sandbox.counters().token.requests)
  end)

  it("client:upload and upload_many still wait for the token, once for many files", function()
    sandbox.faults({ token_latency_ms = 200 })
    local c = cc_client()
    assert(c:upload(paths[1], { run_step = 1 }))
    local results = assert(c:upload_many({ { path = paths[2], target = { run = 1 } },
      { path = paths[3], target = { run = 2 } } }))
    assert.is_true(results[1].ok and results[2].ok)
    assert.equal(1, sandbox.counters().token.requests)
  end)
end)
