-- unit: the core's seconds become whole milliseconds rounded up (clock.c's
-- ion_ms), for libcurl as for poll(): a timeout under a millisecond is one
-- millisecond, never 0, which libcurl reads as "no timeout at all". Against
-- the loopback fixture's /hang, which never answers.
local core = require("ion.upload.core")
local fixture = require("support.fixture")
local slowdown = require("support.slowdown")

describe("core timeouts under a millisecond", function()
  local srv
  setup(function() srv = fixture.start() end)
  teardown(function()
    srv.stop()
    fixture.cleanup()
  end)

  it("a request's timeout of 0.0001 s times out at once", function()
    local t0 = core.now()
    -- stall_timeout: a guard, so that a timeout read as none still ends
    local r, err = core.request({ url = srv.url("/hang"), timeout = 0.0001, stall_timeout = 5 })
    local took = core.now() - t0
    assert.is_nil(r)
    assert.equal("timeout", err.code)
    assert.is_nil(err.message:find("stall_timeout", 1, true), err.message)
    assert.is_true(took < 2 * slowdown, string.format("%.2f s", took))
  end)

  it("a session step of 0.0001 s returns, and so does core.poll", function()
    local s = core.session()
    assert(s:add("request", { url = srv.url("/hang"), timeout = 5 }))
    local t0 = core.now()
    assert.same({}, s:step(0.0001))
    assert.equal(0, core.poll({}, {}, 0.0001))
    assert.is_true(core.now() - t0 < 2 * slowdown)
    s:close()
  end)
end)
