-- integration: bin/ion-upload as a child process against the sandbox:
-- output formats, exit codes, usage errors, the progress display on a
-- pseudo-terminal (util-linux `script`), and Ctrl-C.
local cjson = require("cjson")
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")

local function json_lines(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    local rec = cjson.decode(line)
    assert(rec.path, "stdout holds one object per file: " .. line) -- the summary goes to stderr
    out[#out + 1] = rec
  end
  return out
end

describe("integration: ion-upload", function()
  local dir, a, b, c, token

  setup(function()
    local s = sandbox.get()
    token = s.tokens.rw
    dir = files.tmpdir()
    a = files.write(dir, "a.txt", "alpha\n")
    b = files.write(dir, "b, with comma.csv", "x,y\n1,2\n")
    c = files.write(dir, "c.jpg", string.rep("\255", 4096))
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  it("uploads files to one target: exit 0, --json lines in input order", function()
    local r = run.cli({ "--run-step", "12", "--json", c, a, b })
    assert.equal(0, r.code, r.stderr)
    local lines = json_lines(r.stdout)
    assert.equal(3, #lines)
    local want = { c, a, b }
    local entity = sandbox.dataset().runStep["12"]
    for i, l in ipairs(lines) do
      assert.equal(want[i], l.path)
      assert.is_true(l.ok)
      assert.equal(entity, l.entityId)
      assert.equal(files.md5(want[i]), l.md5)
      assert.equal(want[i]:match("[^/]+$"), l.filename)
      assert.is_number(l.id)
      assert.is_number(l.size)
    end
    assert.matches('^{"path":"[^"]+","ok":true,"id":%d+,"entityId":"%d+","filename":"[^"]+","size":%d+,"md5":"%x+"}\n',
      r.stdout)
    -- Off a terminal: one plain line per file and a summary on stderr, no escapes.
    assert.matches("ok    " .. a:gsub("%p", "%%%0"), r.stderr)
    assert.matches("3 attached, 0 skipped, 0 failed", r.stderr, 1, true)
    assert.not_matches("\27[", r.stderr, 1, true)
    assert.not_matches(token, r.stdout .. r.stderr, 1, true)
    assert.not_matches("X-Amz-Signature", r.stdout .. r.stderr, 1, true)
  end)

  it("reports a missing file in its place and exits 1", function()
    local r = run.cli({ "--part", "50", "--json", a, dir .. "/nope.txt", c })
    assert.equal(1, r.code)
    local lines = json_lines(r.stdout)
    assert.is_true(lines[1].ok and lines[3].ok)
    assert.is_false(lines[2].ok)
    assert.equal("bad_input", lines[2].error.code)
    assert.matches("nope.txt", lines[2].error.message)
    assert.is_string(lines[2].error.hint)
    assert.equal(2, #sandbox.attachments())
  end)

  it("maps each manifest row to its own target; a bad row fails alone", function()
    local m = files.write(dir, "manifest.csv", table.concat({
      "path,target,id,filename",
      a .. ",run,7,",
      '"' .. b .. '",part,50,renamed.csv',
      c .. ",widget,3,",
      c .. ",run_step_field,100,photo.jpg",
    }, "\r\n") .. "\r\n")
    local r = run.cli({ "--manifest", m, "--json" })
    assert.equal(1, r.code, r.stderr)
    local lines = json_lines(r.stdout)
    assert.equal(4, #lines)
    local ds = sandbox.dataset()
    assert.equal(ds.run["7"], lines[1].entityId)
    assert.equal(b, lines[2].path)
    assert.equal("renamed.csv", lines[2].filename)
    assert.equal(ds.part["50"], lines[2].entityId)
    assert.is_false(lines[3].ok)
    assert.equal("bad_input", lines[3].error.code)
    assert.matches('unknown target "widget"', lines[3].error.message, 1, true)
    assert.equal("photo.jpg", lines[4].filename)
    assert.equal(3, #sandbox.attachments())
  end)

  it("a manifest row with an unclosed quote or a column too many fails alone, one result per row", function()
    local m = files.write(dir, "unclosed.csv", table.concat({
      "path,target,id,filename",
      a .. ",run,7,",
      '"' .. c .. ",run,7,",         -- the quote is never closed
      c .. ",part,50,",
      a .. ",part,50,x.txt,extra", -- a fifth column
    }, "\n") .. "\n")
    local r = run.cli({ "--manifest", m, "--json" })
    assert.equal(1, r.code, r.stderr)
    local lines = json_lines(r.stdout)
    assert.equal(4, #lines, r.stdout)
    assert.is_true(lines[1].ok and lines[3].ok)
    assert.same({ m .. ":3", false, "bad_input", "manifest line 3: unclosed quote: the quoted field that starts here "
      .. "is never closed" }, { lines[2].path, lines[2].ok, lines[2].error.code, lines[2].error.message })
    assert.same({ a, "manifest line 5: 5 columns, the header has 4 (path,target,id,filename)" },
      { lines[4].path, lines[4].error.message })
    assert.matches('"files":4,"attached":2,"skipped":0,"failed":2', r.stderr, 1, true)
    assert.equal(2, #sandbox.attachments())
    assert.not_matches("FAIL  :", r.stderr, 1, true)
  end)

  it("exits 2 on a manifest separated by semicolons, saying so", function()
    local m = files.write(dir, "semicolons.csv", "path;target;id;filename\n" .. a .. ";run;7;\n")
    local r = run.cli({ "--manifest", m })
    assert.equal(2, r.code, r.stderr)
    assert.matches("it reads 'path;target;id;filename', but a manifest's columns are separated by commas, not by ;",
      r.stderr, 1, true)
    assert.equal(0, #sandbox.attachments())
  end)

  it("takes a file given twice to the same target once, saying so; to two targets it is two uploads", function()
    local j = dir .. "/twice.journal"
    os.remove(j)
    local r = run.cli({ "--run-step", "12", "--json", "--journal", j, a, dir .. "/./a.txt", c, a })
    assert.equal(0, r.code, r.stderr)
    -- one JSON line a file: the file was given three times, it is one file
    assert.same({ a, c }, { json_lines(r.stdout)[1].path, json_lines(r.stdout)[2].path })
    assert.equal(2, #json_lines(r.stdout))
    local _, notes = r.stderr:gsub("given twice %(the same file, to the same target%): taken once", "")
    assert.equal(2, notes, r.stderr)
    assert.matches("note  " .. (dir .. "/./a.txt"):gsub("%p", "%%%0") .. ": given twice", r.stderr)
    assert.matches('"files":2,"attached":2,', r.stderr, 1, true)
    assert.equal(2, #sandbox.attachments())
    -- a manifest: the same file to two targets is two uploads; the same row again is not
    sandbox.reset()
    local m = files.write(dir, "twice.csv", "path,target,id\n" .. a .. ",run,7\n" .. a .. ",part,50\n"
      .. dir .. "//./a.txt,run,7\n")
    r = run.cli({ "--manifest", m, "--json" })
    assert.equal(0, r.code, r.stderr)
    assert.equal(2, #json_lines(r.stdout))
    assert.matches("note  " .. dir .. "//./a.txt: given twice", r.stderr, 1, true)
    assert.equal(2, #sandbox.attachments())
    -- on a terminal the note goes above the bars, which are drawn again below it
    sandbox.reset()
    local t = run.terminal({ "--run-step", "12", a, a })
    assert.equal(0, t.code, t.screen)
    assert.matches("note  " .. a:gsub("%p", "%%%0") .. ": given twice[^\n]*\r?\n%[", t.screen)
    assert.equal(1, #sandbox.attachments())
  end)

  it("skips what the journal shows attached, with skipped:true", function()
    local j = dir .. "/cli.journal"
    os.remove(j)
    assert.equal(0, run.cli({ "--run", "3", "--journal", j, a }).code)
    local r = run.cli({ "--run", "3", "--journal", j, "--json", a, c })
    assert.equal(0, r.code)
    local lines = json_lines(r.stdout)
    assert.is_true(lines[1].skipped)
    assert.is_nil(lines[2].skipped)
    assert.matches("1 attached, 1 skipped, 0 failed", r.stderr, 1, true)
    assert.equal(2, #sandbox.attachments())
  end)

  -- (usage is checked before any file is: "photo.jpg" need not exist)
  local usage_cases = {
    { "no target", { "photo.jpg" }, "no target" },
    { "two targets", { "--run", "1", "--part", "2", "photo.jpg" }, "two targets" },
    { "an unknown flag", { "--colour", "--run", "1", "photo.jpg" }, "unknown option '--colour'" },
    { "a bad id", { "--run-step", "0", "photo.jpg" }, "--run-step expects a positive whole number, got '0'" },
    { "a title without its run", { "--run-step", "twelve", "photo.jpg" },
      "names a run step by its title: add --in-run" },
    { "filters without =", { "--part", "partNumber=PN-77,B", "photo.jpg" }, "'B' is no field=value pair" },
    { "no files", { "--run", "1" }, "no files" },
    { "a manifest and a target", { "--manifest", "m.csv", "--run", "1" }, "drop --run" },
    { "a bad --window", { "--run", "1", "--window", "0", "photo.jpg" }, "--window expects" },
    { "a missing manifest", { "--manifest", "/nonexistent/m.csv" }, "cannot read manifest" },
  }
  for _, case in ipairs(usage_cases) do
    it("exits 2 on " .. case[1] .. ", saying what to fix", function()
      local r = run.cli(case[2])
      assert.equal(2, r.code)
      assert.matches(case[3], r.stderr, 1, true)
      assert.equal("", r.stdout)
      assert.equal(0, #sandbox.attachments())
    end)
  end

  it("exits 2 without credentials or endpoint", function()
    local r = run.cli({ "--run", "1", a }, { ION_TOKEN = false })
    assert.equal(2, r.code)
    assert.matches("no credentials: set ION_TOKEN", r.stderr, 1, true)
    r = run.cli({ "--run", "1", a }, { ION_API_URL = false })
    assert.equal(2, r.code)
    assert.matches("no endpoint", r.stderr, 1, true)
  end)

  it("exits 2 when the token is refused (a configuration error), without printing it", function()
    local r = run.cli({ "--run", "1", "--json", a }, { ION_TOKEN = "sbx_bogus_token_123" })
    assert.equal(2, r.code)
    assert.equal("auth", json_lines(r.stdout)[1].error.code)
    assert.not_matches("sbx_bogus_token_123", r.stdout .. r.stderr, 1, true)
  end)

  it("--help shows usage and examples; --version the version", function()
    local r = run.cli({ "--help" })
    assert.equal(0, r.code)
    assert.matches("--manifest FILE", r.stdout, 1, true)
    assert.matches("Examples:", r.stdout, 1, true)
    assert.matches("ION_TOKEN", r.stdout, 1, true)
    r = run.cli({ "--version" })
    assert.equal(0, r.code)
    assert.matches("^ion%-upload %d+%.%d+%.%d+", r.stdout)
  end)

  it("draws progress bars on a terminal (a pseudo-terminal by `script`)", function()
    local many = {}
    for i = 1, 12 do many[i] = files.write(dir, "p" .. i .. ".bin", string.rep("p", 20000)) end
    sandbox.faults({ storage_latency_ms = 60 })
    local r = run.terminal({ "--run-step", "3", "--concurrency", "2", "--window", "4", (table.unpack or unpack)(many) })
    local screen = r.screen
    assert.equal(0, r.code, screen)
    assert.matches("\27%[%d+A\27%[J", screen)              -- redrawn in place
    assert.matches("%[=+[> ]* *%] +%d+%%  %d+/12 files", screen) -- the bar: percent and files
    assert.matches("KiB/s", screen, 1, true)                -- the rate
    assert.matches("ETA %d+:%d%d", screen)                   -- and the time left
    -- the summary table (spec/cli_summary_spec.lua)
    assert.matches("attached  skipped  failed  in doubt +bytes +time +rate\r?\n +12 +0 +0 +0 +", screen)
    assert.not_matches(token, screen, 1, true)
  end)

  it("stops cleanly on Ctrl-C: exit 130, and the journal lets a rerun finish without duplicates", function()
    local many = {}
    for i = 1, 30 do many[i] = files.write(dir, "int" .. i .. ".txt", string.rep("i", 3000 + i)) end
    sandbox.faults({ graphql_latency_ms = 40, storage_latency_ms = 40 })
    local j = dir .. "/interrupt.journal"
    os.remove(j)
    local args = { "--step", "4", "--journal", j, "--window", "5", "--concurrency", "2", "--json",
      (table.unpack or unpack)(many) }
    local pid, out, err, exit_code = run.background(args)
    assert.is_true(run.wait_for(function() return run.lines(j) >= 6 or not run.alive(pid) end, 30))
    assert.is_true(run.alive(pid), "finished before the interrupt")
    os.execute("kill -INT " .. pid)
    assert.is_true(run.wait_exit(pid, 30))
    assert.equal(130, exit_code())
    local stderr = run.read(err)
    assert.matches("interrupted", stderr, 1, true)
    -- said once (the summary), not per file; a file whose registration was
    -- in flight keeps its line ("interrupted while its registration ...")
    assert.not_matches("aborted: interrupted (", stderr, 1, true)
    local first = json_lines(run.read(out))
    assert.equal(30, #first) -- every file reported, in order
    local attached_first = 0
    for _, l in ipairs(first) do
      if l.ok then attached_first = attached_first + 1 else assert.equal("aborted", l.error.code) end
    end
    assert.is_true(attached_first < 30)
    os.remove(out)
    os.remove(err)
    sandbox.faults({ graphql_latency_ms = 0, storage_latency_ms = 0 })
    local r = run.cli(args)
    assert.equal(0, r.code, r.stderr)
    -- Registrations in flight at Ctrl-C were let finish and recorded: nothing twice.
    local names = {}
    for _, att in ipairs(sandbox.attachments()) do
      assert.is_nil(names[att.filename], "attached twice: " .. att.filename)
      names[att.filename] = true
    end
    assert.equal(30, #sandbox.attachments())
  end)
end)
