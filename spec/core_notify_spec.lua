-- core.sd_notify and core.sd_watchdog_usec (csrc/sd_notify.c): systemd's
-- datagram protocol, received by a socket of the spec's own (a python3
-- child: support/notify_socket.lua).
local core = require("ion.upload.core")
local interpreter = require("support.interpreter")
local notify_socket = require("support.notify_socket")
local run = require("support.cli_run")
local slowdown = require("support.slowdown")

describe("core.sd_notify", function()
  local have, why = notify_socket.available()

  it("sends one datagram to a socket path, and to an abstract name (@name)", function()
    if not have then return print("skipped: " .. why) end
    for _, abstract in ipairs({ false, true }) do
      local r = notify_socket.open(abstract)
      assert.is_true(core.sd_notify(r.socket, "READY=1"))
      assert.is_true(core.sd_notify(r.socket, "RELOADING=1\nMONOTONIC_USEC=12"))
      local m = r:wait_for("RELOADING=1", 10)
      local got = r:messages()
      r:close()
      assert.is_truthy(m, "the second datagram came")
      assert.equal(2, #got)
      assert.equal("READY=1", got[1].text)
      assert.equal("RELOADING=1\nMONOTONIC_USEC=12", got[2].text)
    end
  end)

  it("fails with nil, err and never raises: a socket that is not there, a name that is neither path nor @", function()
    local ok, err = core.sd_notify("/nonexistent-ion-upload/notify", "READY=1")
    assert.is_nil(ok)
    assert.equal("bad_input", err.code)
    assert.matches("nonexistent%-ion%-upload", err.message)
    for _, name in ipairs({ "", "@", "relative/notify", "/" .. string.rep("x", 200) }) do
      ok, err = core.sd_notify(name, "READY=1")
      assert.is_nil(ok, name)
      assert.equal("bad_input", err.code)
    end
  end)

  it("never waits for a receiver that does not read: a full queue fails at once", function()
    if not have then return print("skipped: " .. why) end
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. run.quote(dir)))
    local path = dir .. "/deaf"
    -- bound, never read: its queue fills after a few hundred datagrams
    local p = io.popen("python3 -c " .. run.quote("import socket,sys,time\ns=socket.socket(socket.AF_UNIX,"
      .. "socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nopen(sys.argv[1]+'.up','w').close()\ntime.sleep(60)")
      .. " " .. run.quote(path) .. " >/dev/null 2>&1 & echo $!")
    local pid = p:read("*l")
    p:close()
    assert.is_true(run.wait_for(function() return io.open(path .. ".up") ~= nil end, 10))
    local t0, sent, failed = core.now(), 0, 0
    local msg = string.rep("x", 1000)
    for _ = 1, 5000 do
      if core.sd_notify(path, msg) then sent = sent + 1 else failed = failed + 1 end
    end
    local took = core.now() - t0
    os.execute("kill " .. pid .. "; rm -rf " .. run.quote(dir))
    assert.is_true(sent > 0, "some went through")
    assert.is_true(failed > 0, "the full queue refused the rest")
    assert.is_true(took < 2 * slowdown, took .. " s for 5000 sends")
  end)
end)

describe("core.sd_watchdog_usec", function()
  -- a child Lua with the variables set; own_pid: WATCHDOG_PID is the child's
  -- (the shell's $$, which `exec` keeps)
  local function usec(vars, own_pid)
    local lua = "exec " .. interpreter .. " -e 'print(require(\"ion.upload.core\").sd_watchdog_usec())'"
    local p = io.popen(vars .. " LUA_CPATH=" .. run.quote(package.cpath) .. " sh -c "
      .. run.quote((own_pid and "WATCHDOG_PID=$$ " or "") .. lua))
    local out = p:read("*a")
    p:close()
    return tonumber(out)
  end

  it("reads WATCHDOG_USEC when WATCHDOG_PID is unset or this process's, and is 0 otherwise", function()
    assert.equal(0, usec("env -u WATCHDOG_USEC -u WATCHDOG_PID"))
    assert.equal(2000000, usec("env -u WATCHDOG_PID WATCHDOG_USEC=2000000"))
    assert.equal(3000000, usec("env WATCHDOG_USEC=3000000", true))
    assert.equal(0, usec("env WATCHDOG_USEC=3000000 WATCHDOG_PID=1"))
    assert.equal(0, usec("env -u WATCHDOG_PID WATCHDOG_USEC=soon"))
    assert.equal(0, usec("env -u WATCHDOG_PID WATCHDOG_USEC=-5"))
  end)
end)
