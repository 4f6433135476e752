-- integration: what `ion-upload watch` and client:watch say about each
-- file, and in which order: a file the journal shows attached is skipped
-- (not taken), a file is taken once however often ION's outage makes it
-- retry, and a file's events come taken, then done. Readiness is the
-- watch's own events and the CLI's own lines, stepped to deadlines that
-- only bound a failure.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local steps = require("support.watch_steps")

local json_events, occurrences, step_until = steps.json_events, steps.occurrences, steps.step_until

-- The events about path, in order: "taken,done".
local function sequence(events, path, key)
  local seq = {}
  for _, ev in ipairs(events) do
    if ev.path == path or ev.rel == path then seq[#seq + 1] = ev[key or "event"] end
  end
  return table.concat(seq, ",")
end

-- "taken,waiting,waiting,done" as "taken,waiting+,done": the retries counted as one.
local function retries_as_one(seq)
  local out = {}
  for word in seq:gmatch("[^,]+") do
    if word ~= "waiting" then
      out[#out + 1] = word
    elseif out[#out] ~= "waiting+" then
      out[#out + 1] = "waiting+"
    end
  end
  return table.concat(out, ",")
end

describe("integration: ion-upload watch and client:watch, a file's events", function()
  local dir
  setup(function() sandbox.get() end)
  before_each(function()
    sandbox.reset()
    dir = files.tmpdir()
  end)
  after_each(function() files.rmdir(dir) end)

  it("--once again with the same journal: a file attached is skipped, not taken; taken comes before done", function()
    local inbox = dir .. "/in"
    assert(os.execute("mkdir -p '" .. inbox .. "/station7'"))
    files.write(inbox .. "/station7", "RS2_keep.csv", "a,b")
    local args = { "watch", inbox, "--run-step", "12", "--once", "--settle", "0", "--journal", dir .. "/w.journal",
      "--json" }
    local first = run.cli(args)
    assert.equal(0, first.code, first.stderr)
    assert.equal("taken,done", sequence(json_events(first.stdout), "station7/RS2_keep.csv"))
    local again = run.cli(args)
    assert.equal(0, again.code, again.stderr)
    local evs = json_events(again.stdout)
    assert.equal("done", sequence(evs, "station7/RS2_keep.csv"), again.stdout)
    assert.is_true(evs[1].skipped)
    args[#args] = nil -- the lines for a person
    local plain = run.cli(args)
    assert.equal(0, plain.code, plain.stderr)
    assert.matches("\nskip  station7/RS2_keep.csv %(already attachment %d+", plain.stderr)
    assert.is_nil(plain.stderr:find("take  ", 1, true), plain.stderr)
    assert.equal(1, #sandbox.attachments())
  end)

  it("ION down: each file is taken once (no line nor event per retry), then done", function()
    local plain_in, json_in = dir .. "/plain", dir .. "/json"
    assert(os.execute("mkdir -p '" .. plain_in .. "' '" .. json_in .. "'"))
    -- longer than the client's own retries (about 4 s): the watch retries the files itself
    sandbox.admin("POST", "/outage", { target = "both", mode = "refuse", seconds = 8 })
    local p1, _, err1 = run.background({ "watch", plain_in, "--run-step", "12", "--settle", "0" })
    local p2, out2 = run.background({ "watch", json_in, "--run-step", "12", "--settle", "0", "--json" })
    files.write(plain_in, "p1.txt", "p1")
    files.write(json_in, "j1.txt", "j1")
    assert.is_true(run.wait_for(function()
      return run.read(err1):find("ok    p1.txt", 1, true) ~= nil
        and run.read(out2):find('"event":"done"', 1, true) ~= nil
    end, 60), run.read(err1) .. run.read(out2))
    os.execute("kill -TERM " .. p1 .. " " .. p2)
    assert.is_true(run.wait_exit(p1, 20) and run.wait_exit(p2, 20))
    local text, json = run.read(err1), run.read(out2)
    assert.equal(1, occurrences(text, "take  p1.txt"), text)
    -- the retries are waiting events (the status line), never new takes nor errors
    local evs = json_events(json)
    assert.equal("taken,waiting+,done", retries_as_one(sequence(evs, "j1.txt")))
    assert.equal(1, occurrences(json, '"event":"waiting_for_ion"'), json)
  end)

  it("client:watch, ION down: taken once, retried as waiting events, done; no error for an attempt retried", function()
    local events = {}
    sandbox.admin("POST", "/outage", { target = "both", mode = "refuse", seconds = 3 })
    local w = assert(sandbox.client({ retries = 0 }):watch(dir, { target = { run_step = 12 }, settle = 0.1,
      retry_cap = 1, on_event = function(ev) events[#events + 1] = ev end }))
    for i = 1, 3 do files.write(dir, "o" .. i .. ".txt", "file " .. i) end
    step_until(w, function()
      local n = 0
      for _, ev in ipairs(events) do
        if ev.type == "done" then n = n + 1 end
      end
      return n == 3
    end, 30)
    w:cancel()
    w:run()
    for i = 1, 3 do
      local seq = {}
      for _, ev in ipairs(events) do
        if ev.rel == "o" .. i .. ".txt" and ev.type ~= "start" and ev.type ~= "progress" then
          seq[#seq + 1] = ev.type
        end
      end
      assert.equal("taken,waiting+,done", retries_as_one(table.concat(seq, ",")))
    end
  end)

  it("client:watch: a file in doubt is not taken again on a rules reload (the next run registers it)", function()
    local rules = files.write(dir .. "/..", "rules-doubt-" .. tostring(os.time()) .. ".lua",
      'return { { match = "%.txt$", target = { run_step = 12 } } }')
    finally(function() os.remove(rules) end)
    local events = {}
    local w = assert(sandbox.client({ retries = 0 }):watch(dir, { rules = rules, settle = 0.1,
      journal = dir .. "/../doubt-" .. tostring(os.time()) .. ".journal",
      on_event = function(ev) events[#events + 1] = ev end }))
    local function seen(t, rel)
      for _, ev in ipairs(events) do
        if ev.type == t and ev.rel == rel then return ev end
      end
    end
    -- a proxy's 503 after ION ran the registration: in doubt
    sandbox.admin("POST", "/hostile", { mode = "mutation_503", count = 1 })
    files.write(dir, "a.txt", "a")
    step_until(w, function() return seen("error", "a.txt") ~= nil end)
    assert.is_true(seen("error", "a.txt").err.in_doubt)
    step_until(w, function() return w:queued() == 0 end) -- the watch has acted on the outcome
    assert.is_true(w:reload_rules())
    -- b.txt, written after the reload, settles after a.txt would have been taken again
    files.write(dir, "b.txt", "b")
    step_until(w, function() return seen("done", "b.txt") ~= nil end)
    w:cancel()
    w:run()
    assert.equal("taken,error", (sequence(events, "a.txt", "type"):gsub(",start", ""):gsub(",progress", "")))
    assert.equal(1, steps.count_filename("a.txt"), "registered once (by the request in doubt)")
  end)
end)
