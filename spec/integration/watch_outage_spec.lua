-- integration: "waiting for ION since …" against the sandbox's outages
-- (POST /admin/outage: the listeners closed, connections refused). The
-- outage ends by its own timer; readiness is the watch's own events and the
-- CLI's own lines, stepped to deadlines that only bound a failure.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local core = require("ion.upload.core")

local function count_filename(name)
  local n = 0
  for _, a in ipairs(sandbox.attachments()) do
    if a.filename == name then n = n + 1 end
  end
  return n
end

local function count(events, t)
  local n = 0
  for _, ev in ipairs(events) do
    if ev.type == t then n = n + 1 end
  end
  return n
end

local function step_until(w, pred, limit)
  local deadline = core.now() + (limit or 20)
  while not pred() do
    if core.now() > deadline then error("timed out waiting", 2) end
    if w:step(0.2) then break end
  end
end

local function occurrences(text, plain)
  local n, at = 0, 1
  while true do
    local i, j = text:find(plain, at, true)
    if not i then return n end
    n, at = n + 1, j + 1
  end
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
end)
