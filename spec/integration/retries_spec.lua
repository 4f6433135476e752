-- integration: transient faults injected by the sandbox (seed fixed) are
-- retried, and a registration is never made twice.
local sandbox = require("support.sandbox")
local files = require("support.files")
local core_now = function() return require("ion.upload.core").now() end

describe("integration: retries", function()
  local dir, paths

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    paths = {}
    for i = 1, 12 do paths[i] = files.write(dir, "f" .. i .. ".csv", string.rep(tostring(i), 3000 + i)) end
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  local function upload_all(client, target)
    local ok, failed = {}, {}
    for i, p in ipairs(paths) do
      local att, err = client:upload(p, target or { run = i })
      if att then ok[#ok + 1] = att else failed[#failed + 1] = err end
    end
    return ok, failed
  end

  it("gets every file through storage 503s and dropped connections", function()
    sandbox.faults({ seed = 7, storage_503_rate = 0.3, storage_drop_rate = 0.2 })
    local ok, failed = upload_all(sandbox.client({ retries = 8 }))
    assert.equal(0, #failed, failed[1] and tostring(failed[1]))
    assert.equal(12, #ok)
    local c = sandbox.counters()
    assert.is_true(c.storage.faults["503"] + c.storage.faults.drop > 0)
    assert.equal(12, #sandbox.attachments())
    for _, a in ipairs(ok) do assert.equal(a.md5, a.etag) end
  end)

  it("gets every lookup and URL through GraphQL 429s, honouring Retry-After", function()
    sandbox.faults({ seed = 3, graphql_429_rate = 0.3, retry_after_s = 0.1 })
    local t0 = core_now()
    local ok, failed = upload_all(sandbox.client({ retries = 8 }))
    local elapsed = core_now() - t0
    assert.equal(0, #failed, failed[1] and tostring(failed[1]))
    assert.equal(12, #ok)
    local n429 = sandbox.counters().graphql.faults["429"]
    assert.is_true(n429 > 0)
    assert.is_true(elapsed >= n429 * 0.1 * 0.9, "waited " .. elapsed .. " s for " .. n429 .. " 429s")
    assert.equal(12, #sandbox.attachments())
  end)

  it("under GraphQL 5xx: queries are retried; a lost registration is reported in doubt, never repeated", function()
    sandbox.faults({ seed = 11, graphql_5xx_rate = 0.25 })
    local ok, failed = upload_all(sandbox.client({ retries = 8 }))
    local in_doubt, unrun = 0, 0
    for _, err in ipairs(failed) do
      assert.is_true(err.in_doubt, tostring(err))
      assert.is_false(err.retryable)
      assert.matches("may have been recorded", err.hint, 1, true)
      in_doubt = in_doubt + 1
      if err.status == 503 then unrun = unrun + 1 end -- this sandbox's fault 503 runs nothing
    end
    local c = sandbox.counters()
    assert.is_true(c.graphql.faults["5xx"] > 0)
    assert.is_true(in_doubt > 0, "seed 11 loses some registrations' answers")
    -- one createFileAttachment per file; a 503 is in doubt too (never resent)
    local stored = sandbox.attachments()
    assert.equal(#ok + in_doubt - unrun, #stored)
    local keys = {}
    for _, a in ipairs(stored) do
      assert.is_nil(keys[a.s3Key], "registered twice: " .. a.s3Key)
      keys[a.s3Key] = true
    end
    assert.equal(12, #ok + #failed)
  end)

  it("under dropped GraphQL connections: lookups retried, a lost registration in doubt, never repeated", function()
    sandbox.faults({ seed = 2, graphql_drop_rate = 0.25 })
    local ok, failed = upload_all(sandbox.client({ retries = 8 }))
    for _, err in ipairs(failed) do
      assert.equal("network", err.code, tostring(err))
      assert.is_true(err.in_doubt)
      assert.is_false(err.retryable)
    end
    assert.equal(#ok + #failed, #sandbox.attachments())
    assert.is_true((sandbox.counters().graphql.faults.drop or 0) > 0)
  end)

  -- A proxy's 503 after ION ran the registration (sandbox hostile mode mutation_503).
  it("a 503 answered after the registration ran: one registration, in doubt (client:upload)", function()
    sandbox.admin("POST", "/hostile", { mode = "mutation_503", count = 1 })
    local att, err = sandbox.client({ retries = 8 }):upload(paths[1], { run = 1 })
    assert.is_nil(att and att.id) -- (not att itself: a failure would print its signed downloadUrl)
    assert.equal(503, err.status)
    assert.is_true(err.in_doubt)
    assert.is_false(err.retryable)
    assert.equal(1, #sandbox.attachments())
    assert.equal(1, sandbox.counters().graphql.hostile.mutation_503)
  end)

  it("a 503 answered after the registrations ran: each once, each in doubt (upload_many)", function()
    sandbox.admin("POST", "/hostile", { mode = "mutation_503", count = 1 })
    local items = {}
    for i = 1, 3 do items[i] = { path = paths[i], target = { run = 1 } } end
    local results, summary = sandbox.client({ retries = 8 }):upload_many(items, { window = 4 })
    for _, r in ipairs(results) do
      assert.is_false(r.ok)
      assert.equal(503, r.err.status)
      assert.is_true(r.err.in_doubt)
    end
    assert.equal(3, summary.failed)
    assert.equal(3, #sandbox.attachments())
  end)

  it("with the seed fixed, the same faults give the same outcome", function()
    local function run()
      sandbox.reset()
      sandbox.faults({ seed = 5, storage_503_rate = 0.3, graphql_429_rate = 0.2, retry_after_s = 0 })
      local ok = upload_all(sandbox.client({ retries = 8 }))
      local c = sandbox.counters()
      return { #ok, c.storage.puts, c.storage.faults["503"], c.graphql.faults["429"] }
    end
    assert.same(run(), run())
  end)

  it("gives up after `retries` and says so", function()
    sandbox.faults({ storage_503_rate = 1 })
    local att, err = sandbox.client({ retries = 2 }):upload(paths[1], { run = 1 })
    assert.is_nil(att)
    assert.equal("rate_limited", err.code)
    assert.equal(503, err.status)
    assert.equal(3, sandbox.counters().storage.puts)
  end)
end)
