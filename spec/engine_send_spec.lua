-- Unit spec: the error a GraphQL document of a stopping run ends with
-- (engine/send.lua, stopped_error). The run's outcomes are a stub that holds
-- only the abort's error; no core, no network (the integration side is
-- spec/integration/job_cancel_spec.lua).
local errors = require("ion.upload.errors")
local send = require("ion.upload.engine.send")

local REASON = "the operator pressed stop"

local function stopping_sender()
  local abort_err = errors.new("aborted", REASON, { hint = "Run again (with the same journal) to finish the rest" })
  local outcomes = { abort_error = function() return errors.copy(abort_err) end }
  return send.new({}, {}, outcomes, { window = 2, concurrency = 2 })
end

local function cancelled() -- what a transfer cancelled by the session fails with
  return errors.from_core({ code = "aborted", message = "POST http://127.0.0.1:1/graphql: cancelled" },
    "GraphQL request: ")
end

describe("engine send: the error of a document once the run stops", function()
  it("a query cancelled in flight: aborted, with the caller's reason", function()
    local e = stopping_sender():stopped_error({ mutation = false }, cancelled())
    assert.equal("aborted", e.code)
    assert.equal(REASON, e.message)
    assert.is_falsy(e.in_doubt)
    assert.matches("same journal", e.hint)
  end)

  it("a mutation cancelled in flight: aborted with the reason, and in doubt (it may have run)", function()
    local e = stopping_sender():stopped_error({ mutation = true }, cancelled())
    assert.equal("aborted", e.code)
    assert.equal(REASON .. " while its registration was in flight", e.message)
    assert.is_true(e.in_doubt)
    assert.equal(errors.in_doubt_hint, e.hint)
    assert.is_false(e.retryable)
  end)

  it("a failure of the server's own is kept: in doubt for a mutation it may have run", function()
    local lost = errors.new("http", "GraphQL endpoint answered HTTP 502", { status = 502, retryable = true })
    local e = stopping_sender():stopped_error({ mutation = true }, lost)
    assert.equal("http", e.code)
    assert.is_true(e.in_doubt)
    local refused = errors.new("permission_denied", "GraphQL endpoint answered 403 Forbidden", { status = 403 })
    e = stopping_sender():stopped_error({ mutation = false }, refused)
    assert.equal("permission_denied", e.code)
    assert.is_falsy(e.in_doubt)
  end)
end)
