-- client:watch without a network: option checks, the poll fallback when the
-- core has no inotify (the core's watcher stubbed: says "unsupported"), the
-- temporary-name filter, and the core's SIGHUP flag.
local upload = require("ion.upload")
local real_core = require("ion.upload.core")
local files = require("support.files")
local errors = require("ion.upload.errors")
local slowdown = require("support.slowdown")

local function client(watcher)
  local c = assert(upload.new({ endpoint = "http://127.0.0.1:9/graphql", token = "t" }))
  if watcher then c._core = setmetatable({ watcher = watcher }, { __index = real_core }) end
  return c
end

describe("client:watch", function()
  local dir
  before_each(function() dir = files.tmpdir() end)
  after_each(function() files.rmdir(dir) end)

  it("refuses bad options with bad_input naming the field", function()
    local cases = {
      { {}, "rules" },
      { { target = { run_step = 1 }, rules = "x.lua" }, "rules" },
      { { target = { run_step = 1 }, settle = -1 }, "settle" },
      { { target = { run_step = 1 }, poll = 0 }, "poll" },
      { { target = { run_step = 1 }, after = "shred" }, "after" },
      { { target = { run_step = 1 }, include = "[" }, "include" },
      { { target = { run_step = 1 }, take_temporary = 3 }, "take_temporary" },
      { { target = { run_step = 1 }, hidden = "yes" }, "hidden" },
      { { target = { run_step = 1 }, target_wait = -1 }, "target_wait" },
      { { target = { run_step = 1 }, target_wait = "1h" }, "target_wait" },
    }
    for _, case in ipairs(cases) do
      local w, err = client():watch(dir, case[1])
      assert.is_nil(w)
      assert.equal("bad_input", err.code)
      assert.equal(case[2], err.field)
    end
    local w, err = client():watch(dir, { target = { run_step = 1 }, bogus = 1 })
    assert.is_nil(w)
    assert.equal("bad_input", err.code)
    assert.has_error(function() client():watch(42, {}) end)
  end)

  it("refuses a bad target at start with the one target check, before anything is watched", function()
    local cases = {
      { { run_step = -1 }, "run_step must be a positive whole number" },
      { { run_step = "12a" }, "run_step must be a positive whole number" },
      { { bogus = 1 }, "unknown kind bogus" },
      { {}, "name one of" },
      { { run = 1, part = 2 }, "name exactly one kind" },
      { { entity_id = "" }, "entity_id must be a non%-empty string" },
    }
    for _, case in ipairs(cases) do
      local started = false
      local c = client(function() started = true; return nil, { code = "unsupported", message = "no inotify" } end)
      local w, err = c:watch(dir, { target = case[1] })
      assert.is_nil(w)
      assert.equal("bad_input", err.code)
      assert.equal("target", err.field)
      assert.matches(case[2], err.message)
      assert.is_false(started, "nothing is watched")
    end
    local w = assert(client(function() return nil, { code = "unsupported", message = "no inotify" } end)
      :watch(dir, { target = { run_step = "12" }, settle = 60 }))
    w:close()
  end)

  it("polls when the core has no inotify; sees files, skips temporary names", function()
    local c = client(function() return nil, { code = "unsupported", message = "no inotify" } end)
    files.write(dir, "a.txt", "a")
    files.write(dir, "b.part", "b")
    files.write(dir, ".hidden", "h")
    local w = assert(c:watch(dir, { target = { run_step = 1 }, settle = 60 }))
    assert.is_nil(w.watcher)
    assert.equal(2, w.o.poll)
    assert.same({ "a.txt" }, w.candidates:names()) -- (the watch's part: b.part and .hidden are not candidates)
    assert.is_true(w:timeout() <= 2) -- polling every 2 s: the next scan is due
    w:close()
    assert.is_true(w:done())
  end)

  -- (the core's watcher wrapped to watch at most one folder: the real one, capped)
  it("hands out ion.upload errors only: a missing folder, a watcher refused, a subfolder not watched", function()
    local function is_error(err, code)
      assert.is_true(errors.is(err), "an ion.upload error, not " .. tostring(err))
      assert.equal(code, err.code)
      assert.is_string(err.hint)
      assert.is_false(err.retryable)
      assert.matches("^" .. code .. ": watch: ", tostring(err))
    end
    local w, err = client():watch(dir .. "/nodir", { target = { run_step = 1 } })
    assert.is_nil(w)
    is_error(err, "bad_input")
    assert.equal("dir", err.field)
    local capped = client(function(root) return real_core.watcher(root, { max_watches = 1 }) end)
    assert(os.execute("mkdir '" .. dir .. "/a' '" .. dir .. "/b'"))
    w, err = capped:watch(dir, { target = { run_step = 1 } })
    assert.is_nil(w)
    is_error(err, "bad_input")
    assert.equal("watch_limit", err.core_code)
    assert.matches("max_watches", err.hint)
    local empty = files.tmpdir()
    local seen
    w = assert(capped:watch(empty, { target = { run_step = 1 }, on_event = function(ev)
      if ev.type == "watch_error" then seen = ev end
    end }))
    assert(os.execute("mkdir '" .. empty .. "/sub'"))
    local deadline = real_core.now() + 10 * slowdown
    while not seen and real_core.now() < deadline do w:step(0.05) end
    w:close()
    files.rmdir(empty)
    assert.is_table(seen, "a watch_error event")
    is_error(seen.err, "bad_input")
    assert.equal("watch_limit", seen.err.core_code)
  end)

  it("include means only these, as in ion-upload -r; temporary names need take_temporary, dot names hidden", function()
    for _, name in ipairs({ "a.txt", "b.part", "c.docx", "~$c.docx", ".d.docx" }) do files.write(dir, name, "x") end
    assert(os.execute("mkdir -p '" .. dir .. "/drafts'"))
    files.write(dir .. "/drafts", "e.docx", "e")
    local opts = { target = { run_step = 1 }, settle = 60, include = "*.docx", exclude = "drafts/" }
    local w = assert(client():watch(dir, opts))
    local function taken()
      return table.concat(w.candidates:names(), " ")
    end
    -- (Word's lock file ~$c.docx matches *.docx: an include alone never takes a temporary name)
    assert.equal("c.docx", taken())
    w:close()
    opts.include, opts.take_temporary, opts.hidden = { "*.docx", "*.part" }, "*.part", true
    w = assert(client():watch(dir, opts))
    assert.equal(".d.docx b.part c.docx", taken())
    w:close()
    opts.exclude = nil
    w = assert(client():watch(dir, opts))
    assert.equal(".d.docx b.part c.docx drafts/e.docx", taken())
    w:close()
  end)

  -- (the core's stat and list_dir wrapped to count what the watch asks; the real inotify watcher)
  it("takes a new folder's files from the watcher's events: no stat and no scan of its own", function()
    if not io.open("/proc/sys/fs/inotify/max_user_watches") then
      print("skipped: no inotify on this system")
      return
    end
    local asked = {}
    local function count(name, fn)
      return function(path, ...)
        asked[#asked + 1] = name .. " " .. path
        return fn(path, ...)
      end
    end
    local c = client()
    c._core = setmetatable({ stat = count("stat", real_core.stat), list_dir = count("list_dir", real_core.list_dir) },
      { __index = real_core })
    local w = assert(c:watch(dir, { target = { run_step = 1 }, settle = 60 }))
    asked = {} -- the start-up scan's are not counted
    assert(os.execute("mkdir -p '" .. dir .. "/new/sub' && echo 12 > '" .. dir .. "/new/a.txt' && echo 1234 > '"
      .. dir .. "/new/sub/b.txt'"))
    files.write(dir, "top.txt", "xyz")
    local deadline = real_core.now() + 10 * slowdown
    while w.candidates:count() < 3 and real_core.now() < deadline do
      w:step(0.05)
    end
    local sizes = {}
    for _, rel in ipairs(w.candidates:names()) do sizes[rel] = w.candidates:info(rel).size end
    w:close()
    assert.same({ ["new/a.txt"] = 3, ["new/sub/b.txt"] = 5, ["top.txt"] = 3 }, sizes)
    assert.same({}, asked)
  end)
end)

describe("core.catch_hangup", function()
  it("turns SIGHUP into a flag read once", function()
    assert.is_true(real_core.catch_hangup())
    assert.is_false(real_core.hangup())
    os.execute("kill -HUP $PPID") -- the shell's parent: this process
    assert.is_true(real_core.hangup())
    assert.is_false(real_core.hangup())
  end)
end)

describe("examples/rules.lua", function()
  it("loads and maps the station's paths", function()
    local rules = require("ion.upload.watch.rules")
    local set = assert(rules.load("examples/rules.lua"))
    assert.same({ run_step = 12 }, rules.match(set, "station7/RS12_torque.csv", {}).target)
    local m = rules.match(set, "photos/50/top.jpg", {})
    assert.same({ part = 50 }, m.target)
    assert.equal("inspection-top.jpg", m.filename)
    assert.same({ run = 7 }, rules.match(set, "cmm/run-7/report.pdf", {}).target)
    assert.is_nil(rules.match(set, "notes.txt", {}))
  end)
end)

describe("core.list_dir of an empty folder", function()
  -- (under make sanitize: UBSan stopped on qsort(NULL, 0) before the fix)
  it("is an empty list", function()
    local dir = files.tmpdir()
    assert.same({}, (real_core.list_dir(dir)))
    files.rmdir(dir)
  end)
end)

describe("client:watch when idle", function()
  it("asks to be stepped only after idle_wait (30 s), not the open job's 0.2 s", function()
    local dir = files.tmpdir()
    local w = assert(client():watch(dir, { target = { run_step = 1 } }))
    assert.equal(30, w:timeout())
    w:close()
    files.rmdir(dir)
  end)
end)
