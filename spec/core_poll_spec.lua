-- core.poll(readable, writable, seconds): one poll() over a job's fds, the
-- sleep of a blocking watch loop. With a real inotify watcher's fd.
local core = require("ion.upload.core")
local files = require("support.files")

describe("core.poll", function()
  it("returns 0 when the time runs out, and the count once a descriptor is ready", function()
    local dir = files.tmpdir()
    local w = assert(core.watcher(dir))
    local t0 = core.now()
    assert.equal(0, core.poll({ w:fd() }, {}, 0.05))
    assert.is_true(core.now() - t0 >= 0.04)
    files.write(dir, "a.txt", "a")
    assert.equal(1, core.poll({ w:fd() }, {}, 30)) -- ready: returns at once, not after 30 s
    assert.equal(0, core.poll({}, {}, 0))
    w:close()
    files.rmdir(dir)
  end)

  it("a caught signal that landed before the wait ends it at once (the self-pipe)", function()
    assert.is_true(core.catch_hangup())
    local f = assert(io.open("/proc/self/stat"))
    local pid = f:read("*l"):match("^(%d+)")
    f:close()
    -- the signal arrives while no poll runs: the race a flag alone loses
    local sent = os.execute("kill -HUP " .. pid)
    assert.is_true(sent == true or sent == 0, "kill failed") -- 5.1 gives 0, 5.2+ true
    local t0 = core.now()
    assert.equal(0, core.poll({}, {}, 60)) -- the caller's descriptors: none ready
    assert.is_true(core.now() - t0 < 30, "poll slept through a signal caught before it began")
    assert.is_true(core.hangup())
    -- drained: the next wait sleeps its time again
    t0 = core.now()
    assert.equal(0, core.poll({}, {}, 0.05))
    assert.is_true(core.now() - t0 >= 0.04)
  end)

  it("refuses what is not a list of descriptors", function()
    assert.has_error(function() core.poll({ "x" }, {}, 0) end)
    assert.has_error(function() core.poll({ -1 }, {}, 0) end)
    assert.has_error(function() core.poll(nil, {}, 0) end)
    assert.has_error(function() core.poll({}, {}, 0 / 0) end)
  end)
end)
