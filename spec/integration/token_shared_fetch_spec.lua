-- integration: the token fetch a client's non-blocking jobs wait on together
-- belongs to the client, not to the job that asked first. Closing that job
-- mid-fetch (its request in flight, or its retry timer pending) must not
-- stall the others; closing every waiter must leave nothing behind (no
-- request in flight, no timer, no fetch a later job would queue behind).
-- The token endpoint fails transiently through a sandbox outage in `reset`
-- mode (GraphQL's port, token endpoint included, resets each connection;
-- admin still answers), ended by the spec when it wants the retry to pass.
local sandbox = require("support.sandbox")
local files = require("support.files")
local upload = require("ion.upload")
local core = require("ion.upload.core")

-- A ceiling against hangs (the fetch's backoff is well under a second here).
local GUARD = 20 * require("support.slowdown")

describe("integration: a token fetch shared by several jobs", function()
  local dir, paths, state

  setup(function()
    state = sandbox.get()
    dir = files.tmpdir()
    paths = {}
    for i = 1, 3 do paths[i] = files.write(dir, "s" .. i .. ".txt", string.rep("k", 500 + i)) end
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  local function cc_client()
    return assert(upload.new({ endpoint = state.graphql, client_id = state.oauth.client_id,
      client_secret = state.oauth.client_secret, auth_url = state.oauth.token_url, retries = 8 }))
  end

  local function outage(seconds)
    sandbox.admin("POST", "/outage", { target = "graphql", mode = "reset", seconds = seconds })
  end

  -- Steps `job` (waiting as it recommends) until cond() holds; fails with
  -- `why` once the guard runs out. The number of steps.
  local function step_until(job, cond, why)
    local deadline, n = core.now() + GUARD, 0
    while not cond() do
      assert.is_true(core.now() < deadline, why)
      job:step(job:timeout())
      n = n + 1
    end
    return n
  end

  local function drive(job, why)
    return step_until(job, function() return job:done() end, why)
  end

  -- The client's session: transfers in flight on behalf of jobs (the token
  -- request is one of them).
  local function session_busy(c) return c._ctx.transport:busy() end

  -- Two jobs of client c waiting on one token fetch whose first request has
  -- failed (reset): its retry timer is pending, nothing is in flight.
  local function two_waiting_on_retry(c)
    outage(60)
    local j1 = assert(c:start(paths[1], { run_step = 21 }))
    local j2 = assert(c:start_many({ { path = paths[2], target = { run_step = 22 } } }))
    assert.is_false(j1:step(0)) -- starts the fetch
    assert.is_false(j2:step(0)) -- waits for the same one
    step_until(j1, function()
      return sandbox.counters().graphql.outage_resets >= 1 and not session_busy(c)
    end, "the token request was never reset")
    assert.equal(0, sandbox.counters().token.requests)
    return j1, j2
  end

  it("closing the job that started the fetch while its retry is pending: the other still gets its token", function()
    local c = cc_client()
    local j1, j2 = two_waiting_on_retry(c)
    j1:close()
    outage(0)
    local n = drive(j2, "the second job stalled: nobody drives the token fetch after the first job closed")
    -- waiting for the retry, a step sleeps until it is due: no spinning
    -- (about a dozen steps in all: lookup, URL, PUT, registration)
    assert.is_true(n < 100, n .. " steps")
    local results = j2:results()
    assert.is_true(results[1].ok, results[1].err and tostring(results[1].err))
    local _, e1 = j1:result()
    assert.equal("aborted", e1.code)
    assert.equal(1, sandbox.counters().token.requests) -- one fetch, never two
    c:close()
  end)

  it("closing the job that started the fetch while its request is in flight: one request, the other ends", function()
    sandbox.faults({ token_latency_ms = 400 })
    local c = cc_client()
    local j1 = assert(c:start(paths[1], { run_step = 23 }))
    local j2 = assert(c:start(paths[2], { run_step = 24 }))
    assert.is_false(j1:step(0))
    assert.is_false(j2:step(0))
    step_until(j1, function() return sandbox.counters().token.requests >= 1 end, "no token request arrived")
    j1:close()
    drive(j2, "the second job stalled after the first closed mid-request")
    assert(j2:result())
    assert.equal(1, sandbox.counters().token.requests)
    c:close()
  end)

  it("closing every waiter during the retry leaves no timer, request or fetch behind", function()
    local c = cc_client()
    local j1, j2 = two_waiting_on_retry(c)
    j2:close()
    j1:close()
    assert.is_false(session_busy(c))
    assert.is_false(c._auth:fetching())
    outage(0)
    -- a later job asks afresh instead of queueing behind a dead fetch
    local j3 = assert(c:start(paths[3], { run_step = 25 }))
    drive(j3, "a later job queued behind the abandoned fetch")
    assert(j3:result())
    assert.equal(1, sandbox.counters().token.requests)
    c:close()
  end)

  it("closing every waiter while the request is in flight drops it: the session is idle", function()
    sandbox.faults({ token_latency_ms = 400 })
    local c = cc_client()
    local j1 = assert(c:start(paths[1], { run_step = 26 }))
    local j2 = assert(c:start(paths[2], { run_step = 27 }))
    assert.is_false(j1:step(0))
    assert.is_false(j2:step(0))
    step_until(j1, function() return sandbox.counters().token.requests >= 1 end, "no token request arrived")
    j1:close()
    j2:close()
    assert.is_false(session_busy(c))
    assert.is_false(c._auth:fetching())
    c:close()
    -- the client still works after: a new session, a new fetch
    local j3 = assert(c:start(paths[3], { run_step = 28 }))
    drive(j3, "a job after close() stalled")
    assert(j3:result())
    assert.equal(2, sandbox.counters().token.requests)
    c:close()
  end)

  it("cancelling the job that started the fetch (and no longer stepping it) does not stall the other", function()
    local c = cc_client()
    local j1, j2 = two_waiting_on_retry(c)
    j1:cancel("host gave up")
    outage(0)
    drive(j2, "the second job stalled after the first was cancelled")
    assert.is_true(j2:results()[1].ok)
    drive(j1, "the cancelled job never ended")
    local _, e1 = j1:result()
    assert.equal("aborted", e1.code)
    assert.equal(1, sandbox.counters().token.requests)
    c:close()
  end)

  it("cancelling every waiter ends them at their next step, the fetch with them (the outage still on)", function()
    local c = cc_client()
    local j1, j2 = two_waiting_on_retry(c)
    j1:cancel()
    j2:cancel()
    -- each ends at a step of its own, without waiting out the fetch's retries
    assert.is_true(j1:step(0))
    assert.is_true(j2:step(0))
    assert.equal("aborted", select(2, j1:result()).code)
    assert.equal("aborted", j2:results()[1].err.code)
    assert.is_false(c._auth:fetching())
    assert.is_false(session_busy(c))
    outage(0)
    assert.equal(0, sandbox.counters().token.requests)
    c:close()
  end)
end)
