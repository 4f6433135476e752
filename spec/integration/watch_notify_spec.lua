-- integration: a watch under systemd's notify protocol, against the sandbox.
-- $NOTIFY_SOCKET is a datagram socket of the spec's own (support/
-- notify_socket.lua); readiness is the datagrams themselves and the CLI's
-- own lines, waited for up to deadlines that only bound a failure.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local interpreter = require("support.interpreter")
local notify_socket = require("support.notify_socket")
local slowdown = require("support.slowdown")
local count_filename = require("support.watch_steps").count_filename

local LIMIT = 30 * slowdown
local CLOCK = "%d%d:%d%d:%d%d"

local function texts(list)
  local out = {}
  for i, m in ipairs(list) do out[i] = m.text end
  return out
end

-- The STATUS= texts received, in order.
local function statuses(r)
  local out = {}
  for _, m in ipairs(r:with("STATUS=")) do out[#out + 1] = m.text:sub(#"STATUS=" + 1) end
  return out
end

-- The index of the first status matching pattern after index `after`, or nil.
local function status_after(r, pattern, after)
  for i, s in ipairs(statuses(r)) do
    if i > (after or 0) and s:find(pattern) then return i end
  end
end

describe("integration: watch tells systemd (NOTIFY_SOCKET)", function()
  local have, why = notify_socket.available()
  local dir, r
  setup(function() sandbox.get() end)
  before_each(function()
    sandbox.reset()
    dir = files.tmpdir()
    if have then r = notify_socket.open() end
  end)
  after_each(function()
    files.rmdir(dir)
    if r then r:close() end
    r = nil
  end)

  it("READY=1 once the folder is watched, STATUS after each upload, RELOADING/READY on SIGHUP, STOPPING", function()
    if not have then return print("skipped: " .. why) end
    local inbox = dir .. "/in"
    assert(os.execute("mkdir " .. run.quote(inbox)))
    files.write(dir, "rules.lua", 'return { { match = "%.txt$", target = { run_step = 12 } } }')
    local pid, _, err, code = run.background({ "watch", inbox, "--rules", dir .. "/rules.lua", "--settle", "0" },
      { NOTIFY_SOCKET = r.socket, WATCHDOG_USEC = false })
    assert.is_truthy(r:wait_for("READY=1", LIMIT), run.read(err))
    -- the CLI says "watching" once client:watch has returned (the folder
    -- watched, the rules loaded); READY=1 comes after (the host spec below
    -- checks that order on one clock)
    assert.matches("watching ", run.read(err), 1, true)
    assert.equal("idle, nothing uploaded yet", r:wait_for("STATUS=", LIMIT).text:sub(8))
    files.write(inbox, "a.txt", "a") -- written once READY=1 came: the watch takes it
    local idle = r:wait_for("STATUS=idle, last upload", LIMIT)
    assert.is_truthy(idle, table.concat(statuses(r), "\n"))
    assert.matches("^STATUS=idle, last upload " .. CLOCK .. "$", idle.text)
    assert.equal(1, count_filename("a.txt"))

    local before = require("ion.upload.core").now()
    os.execute("kill -HUP " .. pid)
    local reloading = r:wait_for("RELOADING=1", LIMIT)
    assert.is_truthy(reloading, run.read(err))
    local usec = tonumber(reloading.text:match("^RELOADING=1\nMONOTONIC_USEC=(%d+)$"))
    assert.is_truthy(usec, reloading.text)
    assert.is_true(usec >= before * 1e6 and usec <= reloading.at * 1e6 + 1, "MONOTONIC_USEC is the monotonic clock")
    local ready2 = r:wait_for("READY=1", LIMIT, 2)
    assert.is_truthy(ready2, "READY=1 again after the reload")
    assert.is_true(ready2.at >= reloading.at)

    os.execute("kill -TERM " .. pid)
    assert.is_truthy(r:wait_for("STOPPING=1", LIMIT))
    assert.equal(0, code())
    local sent = texts(r:messages())
    assert.equal(0, #r:with("WATCHDOG=1"), "no WATCHDOG_USEC, no ping")
    assert.equal("READY=1", sent[1], table.concat(sent, " | "))
    for i = 2, #sent do assert.is_true(sent[i] ~= sent[i - 1] or sent[i] == "READY=1", "a status is sent once") end
  end)

  it("a watch that does not start (a bad rules file) never says READY=1", function()
    if not have then return print("skipped: " .. why) end
    files.write(dir, "rules.lua", "return { { match = ")
    local res = run.cli({ "watch", dir, "--rules", dir .. "/rules.lua" }, { NOTIFY_SOCKET = r.socket })
    assert.equal(2, res.code, res.stderr)
    -- what the watch sent before its exit is ahead of this in the socket's queue
    assert(require("ion.upload.core").sd_notify(r.socket, "SPEC=end"))
    assert.is_truthy(r:wait_for("SPEC=end", LIMIT))
    assert.same({ "SPEC=end" }, texts(r:messages()))
  end)

  it("STATUS says 'waiting for ION since …' through an outage, then idle again", function()
    if not have then return print("skipped: " .. why) end
    local inbox = dir .. "/in"
    assert(os.execute("mkdir " .. run.quote(inbox)))
    local pid, _, err, code = run.background({ "watch", inbox, "--run-step", "12", "--settle", "0" },
      { NOTIFY_SOCKET = r.socket })
    assert.is_truthy(r:wait_for("READY=1", LIMIT), run.read(err))
    files.write(inbox, "before.txt", "before")
    assert.is_truthy(r:wait_for("STATUS=idle, last upload", LIMIT), table.concat(statuses(r), "\n"))
    -- longer than the client's own retries (about 4 s): the files reach the watch's queue
    sandbox.admin("POST", "/outage", { target = "both", mode = "refuse", seconds = 8 })
    files.write(inbox, "during1.txt", "d1")
    files.write(inbox, "during2.txt", "d2")
    local down
    assert.is_true(run.wait_for(function()
      down = status_after(r, "^waiting for ION since " .. CLOCK .. " %(network%), [12] files? queued$")
      return down ~= nil
    end, LIMIT), table.concat(statuses(r), "\n"))
    assert.is_true(run.wait_for(function()
      return status_after(r, "^idle, last upload " .. CLOCK .. "$", down) ~= nil
    end, 60 * slowdown), table.concat(statuses(r), "\n"))
    os.execute("kill -TERM " .. pid)
    assert.equal(0, code())
    assert.equal(1, count_filename("during1.txt"))
    assert.equal(1, count_filename("during2.txt"))
    local list = statuses(r)
    for i = 2, #list do assert.is_true(list[i] ~= list[i - 1], "sent when it changes: " .. list[i]) end
  end)

  -- A host program over the library (client:watch with notify = true) whose
  -- rules function blocks for 3 s on a file named slow*.
  local HOST = [[
local core = require("ion.upload.core")
local client = assert(require("ion.upload").new({ endpoint = os.getenv("ION_API_URL"),
  token = os.getenv("ION_TOKEN") }))
local set = assert(require("ion.upload.watch.rules").compile({
  { match = "^slow", target = function() core.sleep(3) return { run_step = 12 } end },
  { match = ".", target = { run_step = 12 } },
}, "host"))
local w = assert(client:watch(arg[1], { rules = set, settle = 0, notify = true }))
io.stderr:write(string.format("watching since %.6f\n", core.now())) -- the folder is watched
core.catch_interrupt()
while not w:step(math.huge) do
  if core.interrupted() then w:stop() end
end
]]

  it("host: READY after client:watch returns; WATCHDOG=1 each half interval, none while the loop is blocked", function()
    if not have then return print("skipped: " .. why) end
    local inbox = dir .. "/in"
    assert(os.execute("mkdir " .. run.quote(inbox)))
    files.write(dir, "host.lua", HOST)
    local sh = string.format("%s WATCHDOG_USEC=1000000 NOTIFY_SOCKET=%s LUA_PATH=%s LUA_CPATH=%s %s %s %s 2>%s &"
      .. " echo $!", run.env_prefix({ WATCHDOG_PID = false }), run.quote(r.socket), run.quote(package.path),
      run.quote(package.cpath), interpreter, run.quote(dir .. "/host.lua"), run.quote(inbox),
      run.quote(dir .. "/host.err"))
    local p = io.popen(sh)
    local pid = p:read("*l")
    p:close()
    local ready = r:wait_for("READY=1", LIMIT)
    assert.is_truthy(ready, run.read(dir .. "/host.err"))
    -- the same clock: READY=1 left after client:watch had returned, not during it
    local watching = tonumber(run.read(dir .. "/host.err"):match("watching since ([%d.]+)"))
    assert.is_true(ready.at >= watching, ready.at .. " < " .. tostring(watching))
    assert.is_truthy(r:wait_for("WATCHDOG=1", LIMIT, 4), "an idle watch pings")
    files.write(inbox, "slow.txt", "slow")
    -- the stall: a ping 2.5 s or more after the one before, then three more
    local stall
    assert.is_true(run.wait_for(function()
      local pings = r:with("WATCHDOG=1")
      for i = 2, #pings do
        if not stall and pings[i].at - pings[i - 1].at >= 2.5 then stall = i end
      end
      return stall ~= nil and #pings >= stall + 3
    end, LIMIT), table.concat(texts(r:messages()), " | "))
    assert.is_true(run.wait_for(function() return count_filename("slow.txt") == 1 end, LIMIT))
    os.execute("kill -INT " .. pid)
    assert.is_truthy(r:wait_for("STOPPING=1", LIMIT))
    local pings = r:with("WATCHDOG=1")
    -- around the stall: at the interval's half (0.5 s), with the slack of a busy machine
    for i = 2, stall + 3 do
      local gap = pings[i].at - pings[i - 1].at
      if i ~= stall then assert.is_true(gap < 0.5 + 0.4 * slowdown and gap > 0.4, "gap " .. gap) end
    end
    local gap = pings[stall].at - pings[stall - 1].at
    assert.is_true(gap >= 2.9 and gap < 3.5 + slowdown, "the pings stopped while the loop was blocked: " .. gap)
  end)
end)
