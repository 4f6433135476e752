-- ion.upload.watch.notify in isolation: a stub watch and a stub core that
-- records what would be sent (the real datagrams: core_notify_spec and
-- integration/watch_notify_spec).
local notify = require("ion.upload.watch.notify")

local function stub(env, o)
  local sent, clock = {}, { t = 100 }
  local core = {
    now = function() return clock.t end,
    sd_notify = function(socket, text)
      sent[#sent + 1] = text
      return socket == "/run/notify" or nil, socket ~= "/run/notify" and { code = "bad_input" } or nil
    end,
    sd_watchdog_usec = function() return env.WATCHDOG_USEC or 0 end,
  }
  local w = { core = core, o = o or { notify = true }, n = 0, stopping = false }
  function w:queued() return self.n end
  function w:waiting_message() return self.down end
  local n = notify.new(w, function(k) return env[k] end)
  return n, w, sent, clock
end

describe("watch/notify", function()
  it("says nothing without the notify option or without NOTIFY_SOCKET, and wants no wakeup", function()
    for _, case in ipairs({ { {}, { notify = true } }, { { NOTIFY_SOCKET = "/run/notify" }, {} } }) do
      local n, w, sent = stub(case[1], case[2])
      n:step(w, 100)
      n:reloading()
      n:stopping()
      assert.same({}, sent)
      assert.equal(math.huge, n:due(100))
    end
  end)

  it("READY=1 and the status on the first step; a status only when its text changes, at most once a second", function()
    local n, w, sent, clock = stub({ NOTIFY_SOCKET = "/run/notify" })
    n:step(w, clock.t)
    assert.same({ "READY=1", "STATUS=idle, nothing uploaded yet" }, sent)
    assert.equal(math.huge, n:due(clock.t), "nothing due: no wakeup")
    n:event({ type = "taken" })
    w.n = 2
    n:step(w, clock.t + 0.5) -- a second has not passed: held back, and due
    assert.equal(2, #sent)
    assert.near(0.5, n:due(clock.t + 0.5), 1e-9)
    n:step(w, clock.t + 1)
    assert.equal("STATUS=2 queued, nothing uploaded yet", sent[3])
    n:event({ type = "progress" }) -- no change of status
    n:step(w, clock.t + 5)
    assert.equal(3, #sent)
    n:event({ type = "done", skipped = true }) -- the journal's: no upload
    w.n = 0
    n:step(w, clock.t + 6)
    assert.equal("STATUS=idle, nothing uploaded yet", sent[4])
    n:event({ type = "done" })
    n:step(w, clock.t + 7)
    assert.matches("^STATUS=idle, last upload %d%d:%d%d:%d%d$", sent[5])
    w.down = "waiting for ION since 08:12:03 (network), 3 files queued"
    n:event({ type = "waiting_for_ion" })
    n:step(w, clock.t + 8)
    assert.equal("STATUS=" .. w.down, sent[6])
    n:event({ type = "waiting" }) -- the same text: not sent again
    n:step(w, clock.t + 9)
    assert.equal(6, #sent)
  end)

  it("pings at half of WATCHDOG_USEC and asks the watch to wake for the next ping", function()
    local n, w, sent = stub({ NOTIFY_SOCKET = "/run/notify", WATCHDOG_USEC = 4000000 })
    n:step(w, 100)
    assert.equal("WATCHDOG=1", sent[2])
    assert.equal(2, n:due(100))
    n:step(w, 101.9)
    assert.equal(3, #sent) -- (the status), no ping yet
    n:step(w, 102)
    assert.equal("WATCHDOG=1", sent[4])
    assert.equal(2, n:due(102))
  end)

  it("RELOADING=1 with MONOTONIC_USEC, READY=1 on the next step; STOPPING=1 once; failures counted", function()
    local n, w, sent = stub({ NOTIFY_SOCKET = "/run/notify" })
    n:step(w, 100)
    n:reloading()
    assert.equal("RELOADING=1\nMONOTONIC_USEC=100000000", sent[3])
    n:step(w, 100)
    assert.equal("READY=1", sent[4])
    n:stopping()
    n:stopping()
    assert.equal("STOPPING=1", sent[5])
    assert.equal(5, #sent)
    assert.equal(5, n.sent)
    local gone = stub({ NOTIFY_SOCKET = "@gone" })
    gone:stopping()
    assert.equal(1, gone.failed)
  end)

  it("client:watch's notify option is a boolean", function()
    local options = require("ion.upload.watch.options")
    local defaults = { settle = 2, retry_cap = 60, target_wait = 3600 }
    assert.is_truthy(options.check({ target = { run_step = 1 }, notify = true }, defaults))
    local o, err = options.check({ target = { run_step = 1 }, notify = "yes" }, defaults)
    assert.is_nil(o)
    assert.equal("bad_input", err.code)
    assert.equal("notify", err.field)
  end)
end)
