-- integration: "waiting for ION since …" against the sandbox's outages
-- (POST /admin/outage: the listeners closed, connections refused). The
-- outage ends by its own timer; readiness is the watch's own events and the
-- CLI's own lines, stepped to deadlines that only bound a failure.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local core = require("ion.upload.core")
local slowdown = require("support.slowdown")
local cjson = require("cjson")

local steps = require("support.watch_steps")

local count_filename, step_until, occurrences = steps.count_filename, steps.step_until, steps.occurrences

local function count(events, t)
  local n = 0
  for _, ev in ipairs(events) do
    if ev.type == t then n = n + 1 end
  end
  return n
end

describe("integration: watch while ION is down", function()
  local dir
  setup(function() sandbox.get() end)
  before_each(function()
    sandbox.reset()
    dir = files.tmpdir()
  end)
  after_each(function() files.rmdir(dir) end)

  it("client:watch says once that it waits for ION (since, reason, queued), then that it resumed", function()
    local events = {}
    local t0 = os.time()
    sandbox.admin("POST", "/outage", { target = "both", mode = "refuse", seconds = 3 })
    local w = assert(sandbox.client({ retries = 0 }):watch(dir, { target = { run_step = 12 }, settle = 0.1,
      retry_cap = 1, on_event = function(ev) events[#events + 1] = ev end }))
    for i = 1, 4 do files.write(dir, "o" .. i .. ".txt", "file " .. i) end
    step_until(w, function() return count(events, "done") == 4 end, 30)
    w:cancel()
    w:run()
    assert.equal(1, count(events, "waiting_for_ion"))
    assert.equal(1, count(events, "resumed"))
    local first, resumed, order = nil, nil, {}
    for i, ev in ipairs(events) do
      if ev.type == "waiting_for_ion" then first = ev end
      if ev.type == "resumed" then resumed = ev end
      order[ev.type] = order[ev.type] or i
    end
    assert.is_true(first.since >= t0 and first.since <= os.time())
    assert.equal("network", first.reason)
    assert.is_true(first.queued >= 1)
    assert.matches("^waiting for ION since %d%d:%d%d:%d%d %(network%), %d+ files? queued$", first.message)
    assert.is_true(order.waiting_for_ion < order.resumed)
    assert.equal(first.since, resumed.since)
    assert.is_true(resumed.waited > 0 and resumed.waited < 30, tostring(resumed.waited))
    for i = 1, 4 do assert.equal(1, count_filename("o" .. i .. ".txt")) end
  end)

  it("ion-upload watch: a plain line when the wait starts and when it ends (not a terminal); --json lines", function()
    local plain_in, json_in = dir .. "/plain", dir .. "/json"
    assert(os.execute("mkdir -p '" .. plain_in .. "' '" .. json_in .. "'"))
    -- longer than the client's own retries (about 4 s): the files reach the watch's queue
    sandbox.admin("POST", "/outage", { target = "both", mode = "refuse", seconds = 8 })
    local common = { "--run-step", "12", "--settle", "0" }
    local p1, _, err1 = run.background({ "watch", plain_in, (table.unpack or unpack)(common) })
    local args2 = { "watch", json_in, "--json" }
    for _, a in ipairs(common) do args2[#args2 + 1] = a end
    local p2, out2 = run.background(args2)
    files.write(plain_in, "p1.txt", "p1")
    files.write(plain_in, "p2.txt", "p2")
    files.write(json_in, "j1.txt", "j1")
    assert.is_true(run.wait_for(function()
      return run.read(err1):find("ION is reachable again", 1, true) ~= nil
        and run.read(out2):find('"event":"resumed"', 1, true) ~= nil
    end, 60), run.read(err1))
    assert.is_true(run.wait_for(function()
      return count_filename("p1.txt") == 1 and count_filename("p2.txt") == 1 and count_filename("j1.txt") == 1
    end, 30))
    os.execute("kill -TERM " .. p1 .. " " .. p2)
    assert.is_true(run.wait_exit(p1, 20) and run.wait_exit(p2, 20))
    local text = run.read(err1)
    assert.equal(1, occurrences(text, "waiting for ION since"), text)
    assert.matches("\nwaiting for ION since %d%d:%d%d:%d%d %(network%), [12] files? queued\n", "\n" .. text)
    assert.matches("\nION is reachable again %(waited %d+ s%)\n", text)
    assert.is_nil(text:find("[\r\27]"), "no control sequences off a terminal")
    local json = run.read(out2)
    assert.equal(1, occurrences(json, '"event":"waiting_for_ion"'), json)
    assert.equal(1, occurrences(json, '"event":"resumed"'), json)
    assert.matches('"reason":"network"', json)
    assert.matches('"waited":', json)
  end)

  -- CPU seconds (user + system) of a child, from /proc/PID/stat.
  local function cpu_seconds(pid)
    local f = assert(io.open("/proc/" .. pid .. "/stat"))
    local rest = f:read("*l"):match("%) (.*)$")
    f:close()
    local fields = {}
    for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
    return (tonumber(fields[12]) + tonumber(fields[13])) / 100
  end

  it("ION down 30 s while 50 files arrive: all attached exactly once when it is back, no busy wait #slow", function()
    local inbox = dir .. "/in"
    assert(os.execute("mkdir -p '" .. inbox .. "'"))
    local pid, out = run.background({ "watch", inbox, "--run-step", "12", "--settle", "0.2", "--json",
      "--journal", dir .. "/w.journal" })
    -- the watcher is up when a first file is attached
    files.write(inbox, "f00.txt", "file 0")
    assert.is_true(run.wait_for(function() return run.read(out):find('"event":"done"', 1, true) ~= nil end, 30))
    local cpu0, t0 = cpu_seconds(pid), core.now()
    sandbox.admin("POST", "/outage", { target = "both", mode = "refuse", seconds = 30 })
    -- the files arrive over the first 20 s of the outage, 10 at a time (the
    -- pace is the workload, not a synchronisation)
    for burst = 0, 4 do
      for i = 1, 10 do
        local n = burst * 10 + i
        files.write(inbox, string.format("f%02d.txt", n), "file " .. n)
      end
      core.sleep(4)
    end
    assert.is_true(run.wait_for(function() return run.read(out):find('"event":"resumed"', 1, true) ~= nil end, 60),
      run.read(out))
    local cpu1, t1 = cpu_seconds(pid), core.now()
    local function done_count()
      local n = 0
      for line in run.read(out):gmatch("[^\n]+") do
        local ev = cjson.decode(line)
        if ev.event == "done" then n = n + 1 end
      end
      return n
    end
    assert.is_true(run.wait_for(function() return done_count() == 51 end, 90), "done: " .. done_count())
    os.execute("kill -TERM " .. pid)
    assert.is_true(run.wait_exit(pid, 20))
    for n = 0, 50 do
      local name = string.format("f%02d.txt", n)
      assert.equal(1, count_filename(name), name)
    end
    local text = run.read(out)
    assert.equal(1, occurrences(text, '"event":"waiting_for_ion"'))
    assert.equal(1, occurrences(text, '"event":"resumed"'))
    print(string.format("\nwatch outage: %.2f s of CPU over %.0f s of outage", cpu1 - cpu0, t1 - t0))
    -- no busy wait: a loop that spun would burn most of the outage's 30 s
    assert.is_true(cpu1 - cpu0 <= 3 * slowdown,
      string.format("%.2f s of CPU over %.0f s of outage", cpu1 - cpu0, t1 - t0))
  end)
end)
