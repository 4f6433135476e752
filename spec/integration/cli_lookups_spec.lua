-- integration: targets found by name through bin/ion-upload (a child
-- process) and the sandbox: the flags (--run 'title=…', --run-step TITLE
-- --in-run RUN, --run-step-position), a manifest's RUN/TITLE, the dry run's
-- words, an ambiguous name (exit 1 with the message), and watch waiting for
-- a run that does not exist yet until POST /admin/runs creates it.
local cjson = require("cjson")
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local slowdown = require("support.slowdown")

-- The sandbox's data set (sandbox/README.md): run 7 is "SN004517 final
-- test", its steps 25..28, step 28 "Final test"; "SN004512 final test" is
-- runs 2 and 18; run 2's steps 6 and 8 are both "Final test".
local function entity(kind, id) return sandbox.dataset()[kind][tostring(id)] end

local function only_attachment()
  local list = sandbox.attachments()
  assert.equal(1, #list)
  return list[1]
end

describe("integration: targets found by name (ion-upload)", function()
  local dir, log
  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    log = files.write(dir, "SN004517_final.csv", "t,torque\n0,12.5\n")
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  it("--run-step TITLE --in-run 'title=…' attaches to that step of that run", function()
    local r = run.cli({ "--run-step", "Final test", "--in-run", "title=SN004517 final test", "--json", log })
    assert.equal(0, r.code, r.stderr)
    local line = cjson.decode(r.stdout)
    assert.equal(entity("runStep", 28), line.entityId)
    assert.equal(entity("runStep", 28), only_attachment().entityId)
  end)

  it("--run 'title=…', --part 'partNumber=…,revision=…', --run-step-position N --in-run ID", function()
    local cases = {
      { { "--run", "title=SN004517 final test" }, entity("run", 7) },
      { { "--part", "partNumber=PN-77,revision=B" }, entity("part", 8) },
      { { "--run-step-position", "3", "--in-run", "2" }, entity("runStep", 7) },
      { { "--run-step", "Receiving inspection", "--in-run", "2" }, entity("runStep", 5) },
    }
    for _, c in ipairs(cases) do
      sandbox.reset()
      local args = { (table.unpack or unpack)(c[1]) }
      args[#args + 1] = log
      local r = run.cli(args)
      assert.equal(0, r.code, table.concat(c[1], " ") .. "\n" .. r.stderr)
      assert.equal(c[2], only_attachment().entityId, table.concat(c[1], " "))
    end
  end)

  it("an ambiguous name fails with exit 1 and says so; a name that matches nothing says which", function()
    local r = run.cli({ "--run", "title=SN004512 final test", log })
    assert.equal(1, r.code, r.stderr)
    assert.matches("ambiguous: 2 or more runs match title", r.stderr, 1, true)
    r = run.cli({ "--run-step", "Final test", "--in-run", "2", log }) -- run 2 has two "Final test" steps
    assert.equal(1, r.code, r.stderr)
    assert.matches("ambiguous", r.stderr, 1, true)
    r = run.cli({ "--run", "title=SN009999 final test", log })
    assert.equal(1, r.code, r.stderr)
    assert.matches("not_found", r.stderr, 1, true)
    assert.matches("SN009999 final test", r.stderr, 1, true)
    assert.equal(0, #sandbox.attachments())
    r = run.cli({ "--run-step", "Final test", log }) -- a usage error: no request
    assert.equal(2, r.code)
    assert.matches("add --in-run RUN", r.stderr, 1, true)
  end)

  it("a manifest's RUN/TITLE, RUN/#N and filters; the dry run says what each resolved to", function()
    local manifest = files.write(dir, "m.csv", table.concat({
      "path,target,id,filename",
      log .. ",run_step,title=SN004517 final test/Final test,by-title.csv",
      log .. ",run_step,2/#3,by-position.csv",
      log .. ",run_step,title=SN004512 final test/Final test,ambiguous.csv",
      log .. ",part,\"partNumber=PN-77,revision=C\",part.csv",
    }, "\n") .. "\n")
    local r = run.cli({ "--dry-run", "--manifest", manifest })
    assert.equal(1, r.code, r.stderr)
    local out = r.stdout
    assert.matches("-> run_step 'Final test' of run title=SN004517 final test = run_step 28 (entity "
      .. entity("runStep", 28) .. ")", out, 1, true)
    assert.matches("-> run_step #3 of run 2 = run_step 7 (entity " .. entity("runStep", 7) .. ")", out, 1, true)
    assert.matches("-> part partNumber=PN-77,revision=C = part 9", out, 1, true)
    assert.matches("FAIL  " .. log .. " -> run_step 'Final test' of run title=SN004512 final test: bad_input", out,
      1, true)
    assert.matches("ambiguous: 2 or more runs match title", out, 1, true)
    assert.equal(0, #sandbox.attachments())

    r = run.cli({ "--manifest", manifest, "--json" })
    assert.equal(1, r.code, r.stderr)
    local by_name = {}
    for _, a in ipairs(sandbox.attachments()) do by_name[a.filename] = a.entityId end
    assert.same({ ["by-title.csv"] = entity("runStep", 28), ["by-position.csv"] = entity("runStep", 7),
      ["part.csv"] = entity("part", 9) }, by_name)
  end)
end)

describe("integration: watch waits for a target found by name", function()
  local dir, inbox -- the rules in dir, the watched folder apart
  before_each(function()
    sandbox.get()
    sandbox.reset()
    dir, inbox = files.tmpdir(), files.tmpdir()
  end)
  after_each(function() files.rmdir(dir) files.rmdir(inbox) end)

  it("a file whose run does not exist yet waits; POST /admin/runs creates it and the file is attached", function()
    local rules = files.write(dir, "rules.lua", [[return { { match = "^(SN%d+)_final%.csv$",
      target = { run_step = { run = { where = { title = { eq = "%1 final test" } } }, title = "Final test" } } } }]])
    files.write(inbox, "SN004599_final.csv", "t,torque\n0,1\n")
    local pid, out, err, code = run.background({ "watch", inbox, "--rules", rules, "--settle", "0", "--json" })
    assert.is_true(run.wait_for(function() return files.read(out):find('"waiting_for_target"', 1, true) ~= nil end,
      20 * slowdown), files.read(err))
    local waiting = cjson.decode(files.read(out):match('[^\n]*"waiting_for_target"[^\n]*'))
    assert.equal("SN004599_final.csv", waiting.path)
    assert.matches("no run matches", waiting.message, 1, true)
    assert.equal(0, #sandbox.attachments())

    local created = sandbox.admin("POST", "/runs", { title = "SN004599 final test",
      steps = { "Receiving inspection", "Final test" } })
    local step = created.steps[2]
    assert.is_true(run.wait_for(function() return #sandbox.attachments() == 1 end, 30 * slowdown),
      files.read(out) .. files.read(err))
    assert.equal(tostring(step.entityId), tostring(sandbox.attachments()[1].entityId))
    assert(os.execute("kill -TERM " .. pid))
    assert.equal(0, code())
  end)

  it("an ambiguous name fails at once, and --target-wait 0 fails a name that matches nothing at once", function()
    local rules = files.write(dir, "rules.lua", [[return { { match = "^(SN%d+)_final%.csv$",
      target = { run = { where = { title = { eq = "%1 final test" } } } } } }]])
    files.write(inbox, "SN004512_final.csv", "a")
    files.write(inbox, "SN004599_final.csv", "b")
    local r = run.cli({ "watch", inbox, "--rules", rules, "--settle", "0", "--once" })
    assert.equal(1, r.code, r.stderr)
    assert.matches("ambiguous: 2 or more runs match", r.stderr, 1, true)
    assert.matches("not_found", r.stderr, 1, true) -- --once: no wait
    local t0 = os.time()
    local pid, _, err, code = run.background({ "watch", inbox, "--rules", rules, "--settle", "0",
      "--target-wait", "0" })
    assert.is_true(run.wait_for(function() return select(2, files.read(err):gsub("FAIL", "")) >= 2 end,
      20 * slowdown), files.read(err))
    assert.not_matches("wait  ", files.read(err), 1, true)
    assert.is_true(os.time() - t0 < 20 * slowdown)
    assert(os.execute("kill -TERM " .. pid))
    assert.equal(0, code())
  end)
end)
