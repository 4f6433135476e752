-- examples/ion-upload-watch.service: a notify service with a watchdog and
-- the hardening it should have, which systemd itself accepts.
local run = require("support.cli_run")

local UNIT = "examples/ion-upload-watch.service"

local function verify(path)
  local p = io.popen("systemd-analyze verify " .. run.quote(path) .. " 2>&1; echo \"rc=$?\"")
  local out = p:read("*a")
  p:close()
  return out
end

describe(UNIT, function()
  local text = run.read(UNIT)

  it("is Type=notify with a watchdog, and hardened", function()
    for _, line in ipairs({ "Type=notify", "NotifyAccess=main", "WatchdogSec=60s", "ProtectSystem=strict",
      "NoNewPrivileges=yes", "PrivateTmp=yes", "StateDirectory=ion-upload",
      "LoadCredential=ion-token:/etc/ion-upload/token" }) do
      assert.matches("\n" .. line:gsub("%p", "%%%0") .. "\n", text)
    end
    -- the watch execs into the shell's pid: the main process NotifyAccess=main trusts
    assert.matches("exec ion%-upload watch ", text)
    -- every folder the watch writes is writable, the rest of the system is not
    local writable = text:match("\nReadWritePaths=([^\n]+)\n")
    assert.is_truthy(writable)
    local paths = {}
    for p in writable:gmatch("%S+") do paths[p] = true end
    local exec = text:match("\nExecStart=(.-[^\\])\n")
    assert.is_truthy(paths[exec:match("watch (%S+)")], "the outbox")
    assert.is_truthy(paths[exec:match("%-%-after move:(%S+)")], "the move folder")
    assert.is_truthy(paths[exec:match("%-%-failed (%S+)")], "the failed folder")
    assert.matches('%-%-journal "%$STATE_DIRECTORY/', exec) -- writable through StateDirectory=
  end)

  it("passes systemd-analyze verify (and verify does read it: an unknown key is reported)", function()
    local r = os.execute("command -v systemd-analyze >/dev/null 2>&1")
    if not (r == true or r == 0) then return print("skipped: systemd-analyze is not installed (no systemd)") end
    -- a copy under a temporary folder: verify names the unit after the file.
    -- Its ExecStart= is /bin/sh (which verify checks exists); ion-upload runs
    -- inside it, so the copy needs no path substituted.
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. run.quote(dir)))
    local copy = dir .. "/ion-upload-watch.service"
    local f = assert(io.open(copy, "wb"))
    f:write(text)
    f:close()
    local out = verify(copy)
    f = assert(io.open(copy, "wb"))
    f:write((text:gsub("\nWatchdogSec=", "\nWatchdogSecs=")))
    f:close()
    local bad = verify(copy)
    os.execute("rm -rf " .. run.quote(dir))
    assert.equal("rc=0\n", out)
    assert.matches("Unknown key 'WatchdogSecs'", bad, 1, true)
  end)
end)
