-- integration: the folders a watch moves files into (--after move:DIR,
-- --failed DIR) are checked at start: a folder that does not exist, is a
-- file, is not writable or is on another filesystem is exit 2 (client:watch:
-- nil, bad_input naming the option, with a hint) before any upload, not a
-- warning after the first one. And a move folder inside the watched folder
-- is not watched: a file moved there is not taken again.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local steps = require("support.watch_steps")
local as_nobody = require("support.as_nobody")

local q = files.quote

local function sh(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end

local function device(path)
  local p = io.popen("stat -c %d " .. q(path) .. " 2>/dev/null")
  local d = p:read("*l")
  p:close()
  return d
end

describe("integration: ion-upload watch and client:watch, the move and failed folders", function()
  local dir, inbox
  setup(function() sandbox.get() end)
  before_each(function()
    sandbox.reset()
    dir = files.tmpdir()
    inbox = dir .. "/in"
    assert(sh("mkdir -p " .. q(inbox)))
    files.write(inbox, "a.txt", "a")
  end)
  after_each(function() files.rmdir(dir) end)

  local function refused(args, pattern)
    local r = run.cli(args)
    assert.equal(2, r.code, r.stderr)
    assert.matches(pattern, r.stderr)
    assert.equal(0, #sandbox.attachments(), "refused before any upload")
    assert.is_not_nil(io.open(inbox .. "/a.txt"))
    return r
  end

  it("--after move: a folder that does not exist, or a file, is exit 2 at start", function()
    refused({ "watch", inbox, "--run-step", "12", "--once", "--settle", "0", "--after", "move:" .. dir .. "/nowhere" },
      "ion%-upload: bad_input: watch: the move folder .-/nowhere does not exist %(Create it")
    files.write(dir, "plain", "not a folder")
    refused({ "watch", inbox, "--run-step", "12", "--once", "--settle", "0", "--after", "move:" .. dir .. "/plain" },
      "the move folder .-/plain is not a folder")
    refused({ "watch", inbox, "--run-step", "12", "--once", "--settle", "0", "--after", "move:" .. inbox },
      "the move folder .- is the watched folder")
  end)

  it("a watched folder that does not exist is exit 2, said in words", function()
    local r = run.cli({ "watch", dir .. "/nowhere", "--run-step", "12", "--once" })
    assert.equal(2, r.code, r.stderr)
    assert.matches("^ion%-upload: bad_input: watch: .-/nowhere: No such file or directory %(Name a folder", r.stderr)
  end)

  it("--failed: a folder that does not exist is exit 2 at start", function()
    refused({ "watch", inbox, "--run-step", "12", "--once", "--settle", "0", "--failed", dir .. "/nowhere" },
      "the failed folder .-/nowhere does not exist")
  end)

  it("--after move: a folder on another filesystem is exit 2 (a move is a rename)", function()
    local other = "/dev/shm"
    if not sh("test -d " .. other .. " -a -w " .. other) or device(other) == device(dir) then
      pending("no writable folder on another filesystem (" .. other .. ") to move into")
      return
    end
    local p = io.popen("mktemp -d -p " .. other)
    local moved = p:read("*l")
    p:close()
    finally(function() sh("rm -rf " .. q(moved)) end)
    refused({ "watch", inbox, "--run-step", "12", "--once", "--settle", "0", "--after", "move:" .. moved },
      "the move folder .- is on another filesystem than the watched folder")
    local ls = io.popen("ls -A " .. q(moved) .. "; ls -A " .. q(inbox))
    local left = ls:read("*a")
    ls:close()
    assert.equal("a.txt\n", left, "the probe file is removed")
  end)

  it("--after move: a folder the user may not write in is exit 2; --after delete: a watched one too", function()
    local stage, why = as_nobody.stage()
    if not stage then
      pending("cannot run a child as nobody: " .. why)
      return
    end
    finally(function() as_nobody.remove(stage) end)
    local moved = dir .. "/done"
    assert(sh("mkdir -p " .. q(moved) .. " && chmod 755 " .. q(dir) .. " " .. q(inbox) .. " " .. q(moved)))
    local r = as_nobody.cli(stage, { "watch", inbox, "--run-step", "12", "--once", "--settle", "0", "--after",
      "move:" .. moved })
    assert.equal(2, r.code, r.stderr)
    assert.matches("the move folder .-/done is not writable %(.-Permission denied%)", r.stderr)
    r = as_nobody.cli(stage, { "watch", inbox, "--run-step", "12", "--once", "--settle", "0", "--after", "delete" })
    assert.equal(2, r.code, r.stderr)
    assert.matches("the watched folder .-/in is not writable, and after = delete takes files out of it", r.stderr)
    assert.equal(0, #sandbox.attachments())
  end)

  it("a relative move folder inside the watched folder: moved files are not taken again by the next run", function()
    assert(sh("mkdir -p " .. q(inbox .. "/done")))
    -- relative to the CLI's working folder (the checkout): up to / and down again
    local rel = string.rep("../", 40) .. inbox:sub(2)
    local args = { "watch", rel, "--run-step", "12", "--once", "--settle", "0", "--after", "move:" .. rel .. "/done",
      "--journal", dir .. "/w.journal" }
    local r = run.cli(args)
    assert.equal(0, r.code, r.stderr)
    assert.is_not_nil(io.open(inbox .. "/done/a.txt"))
    r = run.cli(args)
    assert.equal(0, r.code, r.stderr)
    assert.equal(1, #sandbox.attachments(), r.stderr)
    assert.is_not_nil(io.open(inbox .. "/done/a.txt"))
  end)

  it("client:watch returns nil, bad_input naming the option, with a hint", function()
    local w, err = sandbox.client():watch(inbox, { target = { run_step = 12 }, after = "move:" .. dir .. "/none" })
    assert.is_nil(w)
    assert.equal("bad_input", err.code)
    assert.equal("after", err.field)
    assert.matches("mkdir %-p", err.hint)
    w, err = sandbox.client():watch(inbox, { target = { run_step = 12 }, failed = dir .. "/none" })
    assert.is_nil(w)
    assert.equal("failed", err.field)
  end)

  it("client:watch: a file moved into a move folder inside the watched one is not taken again", function()
    assert(sh("mkdir -p " .. q(inbox .. "/done")))
    local events = {}
    local w = assert(sandbox.client():watch(inbox, { target = { run_step = 12 }, settle = 0.1,
      after = "move:" .. inbox .. "/done", on_event = function(ev) events[#events + 1] = ev end }))
    local function moved(rel)
      for _, ev in ipairs(events) do
        if ev.type == "moved" and ev.rel == rel then return true end
      end
      return false
    end
    steps.step_until(w, function() return moved("a.txt") end) -- a.txt: there at start
    -- b.txt, written after a.txt's move, settles after done/a.txt would have
    files.write(inbox, "b.txt", "b")
    steps.step_until(w, function() return moved("b.txt") end)
    w:cancel()
    w:run()
    local taken = {}
    for _, ev in ipairs(events) do
      if ev.type == "taken" then taken[#taken + 1] = ev.rel end
    end
    assert.same({ "a.txt", "b.txt" }, taken)
    assert.equal(2, #sandbox.attachments())
  end)
end)
