-- core.watcher: the inotify feed of a hot folder, against real folders in /tmp
-- (no network, no stubs). Absence is proven with a marker file written after
-- the case under test: inotify keeps order, so once the marker's event is
-- read, an earlier event would have been read too.
local core = require("ion.upload.core")
local files = require("support.files")

local q = files.quote
local linux = io.open("/proc/sys/fs/inotify/max_user_watches") ~= nil

local function sh(cmd)
  local ok = os.execute(cmd)
  assert(ok == true or ok == 0, cmd)
end

-- Reads events until `done(events)` holds or 5 s pass; returns them all.
local function collect(w, done)
  local events, deadline = {}, core.now() + 5
  while not done(events) and core.now() < deadline do
    if w:wait(deadline - core.now()) then
      for _, e in ipairs(assert(w:read())) do events[#events + 1] = e end
    end
  end
  return events
end

local function has(events, kind, path)
  for _, e in ipairs(events) do
    if e.kind == kind and e.path == path then return true end
  end
  return false
end

local function until_has(kind, path)
  return function(events) return has(events, kind, path) end
end

local function paths(events, kind)
  local set = {}
  for _, e in ipairs(events) do
    if e.kind == kind then set[e.path] = true end
  end
  return set
end

local function open_fds()
  collectgarbage() -- handles left over by earlier tests close first
  collectgarbage()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("*l"):match("^(%d+)")
  f:close()
  -- inotify descriptors only: other specs' threads may close their own
  -- descriptors (files, sockets) at any moment, which made a total flaky
  local n = 0
  local p = io.popen("ls -l /proc/" .. pid .. "/fd")
  for line in p:lines() do
    if line:find("inotify", 1, true) then n = n + 1 end
  end
  p:close()
  return n
end

local describe_linux = linux and describe or pending

describe_linux("core.watcher", function()
  local root, outside, w

  before_each(function()
    root = files.tmpdir()
    outside = files.tmpdir()
  end)

  after_each(function()
    if w then w:close() end
    w = nil
    files.rmdir(root)
    files.rmdir(outside)
  end)

  it("reports a file once it is closed after writing, with a path relative to the root", function()
    w = assert(core.watcher(root))
    assert.is_false(w:wait(0))
    files.write(root, "a.csv", "x")
    assert.is_true(w:wait(5))
    local events = collect(w, until_has("file", "a.csv"))
    -- with what stat says of it: the watch need not stat it again
    local st = assert(core.stat(root .. "/a.csv"))
    assert.same({ kind = "file", path = "a.csv", type = "file", size = 1, mtime = st.mtime }, events[1])
    assert.same({}, w:read()) -- drained
  end)

  it("does not report a file still open for writing until it is closed", function()
    w = assert(core.watcher(root))
    local f = assert(io.open(root .. "/slow.log", "wb"))
    f:write("part one")
    f:flush()
    files.write(root, "marker", "m")
    local events = collect(w, until_has("file", "marker"))
    assert.is_false(has(events, "file", "slow.log"))
    f:write("part two")
    f:close()
    events = collect(w, until_has("file", "slow.log"))
    assert.is_true(has(events, "file", "slow.log"))
  end)

  it("reports a file renamed into the folder", function()
    w = assert(core.watcher(root))
    files.write(outside, "done.csv", "x")
    assert(os.rename(outside .. "/done.csv", root .. "/done.csv"))
    local events = collect(w, until_has("file", "done.csv"))
    assert.is_true(has(events, "file", "done.csv"))
  end)

  it("watches subfolders present at start and reports their files", function()
    sh("mkdir -p " .. q(root .. "/st7/run1"))
    w = assert(core.watcher(root))
    assert.equal(3, w:watches())
    files.write(root, "st7/run1/log.txt", "x")
    local events = collect(w, until_has("file", "st7/run1/log.txt"))
    local st = assert(core.stat(root .. "/st7/run1/log.txt"))
    assert.same({ kind = "file", path = "st7/run1/log.txt", type = "file", size = 1, mtime = st.mtime }, events[1])
  end)

  it("watches a subfolder created later and reports files written in it", function()
    w = assert(core.watcher(root))
    sh("mkdir " .. q(root .. "/photos"))
    assert.is_true(has(collect(w, until_has("dir", "photos")), "dir", "photos"))
    assert.equal(2, w:watches())
    files.write(root, "photos/1.jpg", "x")
    local events = collect(w, until_has("file", "photos/1.jpg"))
    assert.is_true(has(events, "file", "photos/1.jpg"))
  end)

  it("reports files written into new nested folders before their watch existed (mkdir -p && write)", function()
    w = assert(core.watcher(root))
    -- One shell: the files are closed long before the watcher reads the
    -- parent's IN_CREATE, so only the scan after adding a watch can see them.
    sh("mkdir -p " .. q(root .. "/a/b/c") .. " && echo 1 > " .. q(root .. "/a/top.txt")
      .. " && echo 2 > " .. q(root .. "/a/b/c/deep.txt"))
    local events = collect(w, function(ev)
      return has(ev, "file", "a/top.txt") and has(ev, "file", "a/b/c/deep.txt")
    end)
    local dirs, got = paths(events, "dir"), paths(events, "file")
    assert.same({ a = true, ["a/b"] = true, ["a/b/c"] = true }, dirs)
    local n_dirs = 0
    for _, e in ipairs(events) do if e.kind == "dir" then n_dirs = n_dirs + 1 end end
    assert.equal(3, n_dirs) -- once each, though both the scans and IN_CREATE saw a/b and a/b/c
    assert.same({ ["a/top.txt"] = true, ["a/b/c/deep.txt"] = true }, got)
    for _, e in ipairs(events) do -- a new folder's files come with their stat too (its walk's)
      if e.kind == "file" then
        local st = assert(core.stat(root .. "/" .. e.path))
        assert.same({ "file", 2, st.mtime }, { e.type, e.size, e.mtime })
      end
    end
    assert.equal(4, w:watches())
    -- and the deepest folder is watched from now on
    files.write(root, "a/b/c/later.txt", "3")
    events = collect(w, until_has("file", "a/b/c/later.txt"))
    assert.is_true(has(events, "file", "a/b/c/later.txt"))
  end)

  it("reports a folder moved in with its files, and drops the watches of one moved out", function()
    sh("mkdir -p " .. q(outside .. "/batch/sub") .. " && echo 1 > " .. q(outside .. "/batch/sub/r.csv"))
    w = assert(core.watcher(root))
    assert(os.rename(outside .. "/batch", root .. "/batch"))
    local events = collect(w, until_has("file", "batch/sub/r.csv"))
    assert.is_true(has(events, "dir", "batch"))
    assert.is_true(has(events, "dir", "batch/sub"))
    assert.equal(3, w:watches())
    assert(os.rename(root .. "/batch", outside .. "/gone"))
    files.write(root, "marker", "m")
    collect(w, until_has("file", "marker"))
    assert.equal(1, w:watches())
    files.write(outside, "gone/sub/after.csv", "x")
    files.write(root, "marker2", "m")
    events = collect(w, until_has("file", "marker2"))
    assert.same({ marker2 = true }, paths(events, "file"))
  end)

  it("never follows a symbolic link to a folder", function()
    sh("mkdir -p " .. q(outside .. "/real"))
    sh("ln -s " .. q(outside .. "/real") .. " " .. q(root .. "/link"))
    w = assert(core.watcher(root))
    assert.equal(1, w:watches())
    sh("ln -s " .. q(outside .. "/real") .. " " .. q(root .. "/link2"))
    files.write(outside, "real/x.csv", "x")
    files.write(root, "marker", "m")
    local events = collect(w, until_has("file", "marker"))
    assert.same({ marker = true }, paths(events, "file"))
    assert.same({}, paths(events, "dir"))
    assert.equal(1, w:watches())
  end)

  it("says the root is gone when it is deleted", function()
    w = assert(core.watcher(root))
    sh("rm -rf " .. q(root))
    local events = collect(w, until_has("gone", ""))
    assert.is_true(has(events, "gone", ""))
  end)

  it("says the root is gone when it is moved away", function()
    w = assert(core.watcher(root))
    assert(os.rename(root, outside .. "/moved"))
    local events = collect(w, until_has("gone", ""))
    assert.is_true(has(events, "gone", ""))
  end)

  it("says overflow when the kernel's queue overflowed, and watches the folders it missed meanwhile", function()
    local f = io.open("/proc/sys/fs/inotify/max_queued_events")
    local max = tonumber(f:read("*l"))
    f:close()
    w = assert(core.watcher(root))
    -- Fill the queue (each file gives IN_CREATE and IN_CLOSE_WRITE), then
    -- make a folder: its IN_CREATE is lost, and with it its watch.
    sh("cd " .. q(root) .. " && i=0; while [ $i -lt " .. max .. " ]; do : > f$i; i=$((i+1)); done && mkdir late")
    local events = collect(w, until_has("overflow", ""))
    assert.is_true(has(events, "overflow", ""))
    assert.is_false(has(events, "dir", "late"))
    while w:wait(0) do w:read() end
    assert.equal(2, w:watches()) -- the rewalk after the overflow found "late"
    files.write(root, "late/x.csv", "x")
    events = collect(w, until_has("file", "late/x.csv"))
    assert.is_true(has(events, "file", "late/x.csv"))
  end)

  it("refuses more folders than max_watches with watch_limit and a hint", function()
    sh("mkdir -p " .. q(root .. "/a") .. " " .. q(root .. "/b") .. " " .. q(root .. "/c"))
    local none, err = core.watcher(root, { max_watches = 2 })
    assert.is_nil(none)
    assert.equal("watch_limit", err.code)
    assert.matches("max_watches", err.message)
    assert.matches("max_watches", err.hint)
    w = assert(core.watcher(root, { max_watches = 4 }))
    assert.equal(4, w:watches())
  end)

  it("reports a new subfolder past max_watches as an error event, keeping the others", function()
    w = assert(core.watcher(root, { max_watches = 1 }))
    sh("mkdir " .. q(root .. "/extra"))
    local events = collect(w, function(ev)
      for _, e in ipairs(ev) do if e.kind == "error" then return true end end
    end)
    local e = events[#events]
    assert.equal("error", e.kind)
    assert.equal("extra", e.path)
    assert.equal("watch_limit", e.err.code)
    files.write(root, "still.csv", "x")
    events = collect(w, until_has("file", "still.csv"))
    assert.is_true(has(events, "file", "still.csv"))
  end)

  it("answers nil, err for a missing folder or a file, and raises for an unknown option", function()
    local none, err = core.watcher(root .. "/missing")
    assert.is_nil(none)
    assert.equal("bad_input", err.code)
    assert.matches("missing", err.message)
    files.write(root, "f", "x")
    none, err = core.watcher(root .. "/f")
    assert.is_nil(none)
    assert.matches("not a directory", err.message)
    assert.has_error(function() core.watcher(root, { max_watch = 1 }) end,
      "unknown option 'max_watch' for watcher")
    none, err = core.watcher(root, { max_watches = 0 })
    assert.is_nil(none)
    assert.equal("bad_input", err.code)
  end)

  it("closes once (close twice is fine), refuses use after close, and __gc frees the fd", function()
    local before = open_fds()
    local function make() assert(core.watcher(root)) end
    for _ = 1, 20 do make() end
    assert.equal(before, open_fds())
    w = assert(core.watcher(root))
    assert.equal(before + 1, open_fds())
    w:close()
    w:close()
    assert.equal(before, open_fds())
    assert.matches("closed", tostring(w))
    assert.has_error(function() w:read() end, "watcher is closed")
    assert.has_error(function() w:fd() end, "watcher is closed")
  end)

  it("has an fd that a host loop can poll", function()
    w = assert(core.watcher(root))
    local fd = w:fd()
    assert.is_true(math.type == nil or math.type(fd) == "integer")
    assert.is_true(fd > 2)
    assert.is_false(w:wait(0.01))
    files.write(root, "x", "x")
    assert.is_true(w:wait(5))
    -- The session loop can poll the same fd: readable means read() has events.
    assert.equal("x", assert(w:read())[1].path)
    assert.is_false(w:wait(0))
  end)

  if _VERSION == "Lua 5.4" then
    it("closes at the end of a <close> block", function()
      local before = open_fds()
      local chunk = assert(load([[
        local core, root = ...
        do local w <close> = assert(core.watcher(root)) end
      ]]))
      chunk(core, root)
      assert.equal(before, open_fds())
    end)
  end
end)
