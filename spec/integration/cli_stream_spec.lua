-- integration: ion-upload streams (issue 16), a child process against the
-- sandbox: --json lines in input order while files finish out of order; a
-- manifest read while uploads go on (a FIFO written in two parts, the second
-- only once the first result is out); a -r walk that goes on after uploads
-- began (a file created after the first result is still taken); a broken
-- CSV row failing in its place.
local cjson = require("cjson")
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")

local q = files.quote

local function json_lines(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do out[#out + 1] = cjson.decode(line) end
  return out
end

local function paths(lines)
  local out = {}
  for i, l in ipairs(lines) do out[i] = l.path end
  return out
end

describe("integration: ion-upload streams its input and output", function()
  local dir

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
  end)
  teardown(function()
    files.rmdir(dir)
    sandbox.faults({ storage_latency_ms = 0 })
  end)
  before_each(function() sandbox.reset() end)

  it("--json keeps input order at concurrency 4 while files finish out of order", function()
    -- missing files fail as they are added, before the real ones ahead of
    -- them are uploaded: the plain lines (completion order) show it
    sandbox.faults({ storage_latency_ms = 100 })
    local want = {}
    for i = 1, 8 do
      want[i] = i % 3 == 0 and dir .. "/missing" .. i .. ".txt" or files.write(dir, "o" .. i .. ".txt", "o" .. i)
    end
    local r = run.cli({ "--run-step", "12", "--json", "--concurrency", "4", (table.unpack or unpack)(want) })
    assert.equal(1, r.code, r.stderr)
    local lines = json_lines(r.stdout)
    assert.same(want, paths(lines))
    for i, l in ipairs(lines) do assert.equal(i % 3 ~= 0, l.ok, l.path) end
    local completion = {}
    for path in r.stderr:gmatch("\n?[a-zA-Z]+ +([^\n:]-%.txt)") do completion[#completion + 1] = path end
    assert.equal(8, #completion, r.stderr)
    assert.equal(want[3], completion[1], "the plain lines are in completion order:\n" .. r.stderr)
    assert.equal(6, #sandbox.attachments())
  end)

  it("reads a manifest while uploads go on: a FIFO's second part is written after the first result", function()
    local fifo = dir .. "/manifest.fifo"
    assert(os.execute("mkfifo " .. q(fifo)))
    local rows = {}
    for i = 1, 4 do rows[i] = files.write(dir, "m" .. i .. ".txt", "manifest row " .. i) end
    local pid, out, err, code = run.background({ "--manifest", fifo, "--json" })
    -- opened after the child started (so it holds no copy of this end);
    -- read-write, so the open does not wait for the reader
    local w = assert(io.open(fifo, "r+b"))
    finally(function() pcall(w.close, w) end) -- a failure must not leave the child waiting for the end
    w:write("path,target,id,filename\n", rows[1], ",run_step,12,\n", '"', rows[2], '",run,7,\n')
    w:flush()
    assert.is_true(run.wait_for(function() return run.lines(out) >= 1 or not run.alive(pid) end, 30),
      "no result while the manifest was open")
    assert.is_true(run.alive(pid), "exited before the manifest ended: " .. run.read(err))
    w:write(rows[3], ",part,50,\n", rows[4], ",run_step,12,renamed.txt\n")
    w:close()
    assert.is_true(run.wait_exit(pid, 30))
    assert.equal(0, code(), run.read(err))
    local lines = json_lines(run.read(out))
    assert.same(rows, paths(lines))
    assert.equal("renamed.txt", lines[4].filename)
    assert.equal(4, #sandbox.attachments())
    os.remove(out)
    os.remove(err)
  end)

  it("-r feeds the job as the walk goes: a folder is listed only when the run has room", function()
    -- window 1, concurrency 1: at most 2 x (1 + 1) = 4 files between read
    -- and printed, each PUT held 300 ms. z/ is listed after a/'s six files
    -- are taken, i.e. after the third result: a file put there once the
    -- first result is out is part of the run.
    local root = dir .. "/tree"
    assert(os.execute("mkdir -p " .. q(root .. "/a") .. " " .. q(root .. "/z")))
    for i = 1, 6 do files.write(root .. "/a", "f" .. i .. ".txt", "file " .. i) end
    sandbox.faults({ storage_latency_ms = 300 })
    local pid, out, err, code = run.background({ "--part", "50", "-r", "--json", "--window", "1", "--concurrency",
      "1", root })
    assert.is_true(run.wait_for(function() return run.lines(out) >= 1 or not run.alive(pid) end, 30))
    files.write(root .. "/z", "late.txt", "created after the first result")
    assert.is_true(run.wait_exit(pid, 60))
    assert.equal(0, code(), run.read(err))
    local lines = json_lines(run.read(out))
    assert.equal(7, #lines, run.read(out))
    assert.equal(root .. "/z/late.txt", lines[7].path)
    os.remove(out)
    os.remove(err)
  end)

  it("a broken CSV row fails in its place; the rows after it are uploaded", function()
    local a = files.write(dir, "ba.txt", "a")
    local b = files.write(dir, "bb.txt", "b")
    local m = files.write(dir, "broken.csv", "path,target,id\n" .. a .. ',run,7\nx"y.txt,run,7\n' .. b .. ",run,7\n")
    local r = run.cli({ "--manifest", m, "--json" })
    assert.equal(1, r.code, r.stderr)
    local lines = json_lines(r.stdout)
    assert.equal(3, #lines)
    assert.is_true(lines[1].ok and lines[3].ok)
    assert.equal(b, lines[3].path)
    assert.is_false(lines[2].ok)
    assert.equal("bad_input", lines[2].error.code)
    assert.equal("manifest line 3: a quote inside an unquoted field", lines[2].error.message)
    assert.equal(m .. ":3", lines[2].path) -- its path column is the broken one
    assert.equal(2, #sandbox.attachments())
  end)
end)
