-- integration: the journal after a crash. ion-upload runs as a child, is
-- killed with SIGKILL at several points (a readiness probe on the journal's
-- line count decides when), and is run again until it finishes: every file
-- ends up attached, and none twice except registrations that were in flight
-- at a kill (with --window 1, at most --concurrency per kill).
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")

local N = 40

local attachments_by_name = sandbox.attached_by_name

describe("integration: resume after SIGKILL", function()
  local dir
  local paths = {}

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    for i = 1, N do paths[i] = files.write(dir, string.format("log-%02d.txt", i), string.rep("r", 2000 + i)) end
  end)
  teardown(function() files.rmdir(dir) end)

  local cases = {
    { window = 1, concurrency = 3, bound = 3 },   -- one registration per document
    { window = 10, concurrency = 4, bound = 10 }, -- one document of registrations in flight
  }
  for _, case in ipairs(cases) do
    it(string.format("finishes without duplicates beyond the in-flight bound (window %d, concurrency %d)",
      case.window, case.concurrency), function()
      sandbox.reset()
      -- Slow enough that a kill lands mid-batch.
      sandbox.faults({ graphql_latency_ms = 40, storage_latency_ms = 30 })
      local jpath = dir .. "/resume-" .. case.window .. ".journal"
      os.remove(jpath)
      local args = { "--run-step", "9", "--journal", jpath, "--window", tostring(case.window),
        "--concurrency", tostring(case.concurrency), "--json" }
      for _, p in ipairs(paths) do args[#args + 1] = p end

      -- Kill points: after this many journal lines in all (2 per file: put, attached).
      local kills = 0
      for _, at in ipairs({ 3, 30, 55 }) do
        local pid = run.background(args)
        assert.is_true(run.wait_for(function() return run.lines(jpath) >= at or not run.alive(pid) end, 60))
        if run.alive(pid) then
          os.execute("kill -9 " .. pid)
          kills = kills + 1
        end
        assert.is_true(run.wait_exit(pid, 10))
      end
      assert.is_true(kills >= 2, "the runs finished before they could be killed")

      local r = run.cli(args)
      assert.equal(0, r.code, r.stderr)
      local lines = 0
      for line in r.stdout:gmatch("[^\n]+") do
        lines = lines + 1 -- one per file: the --json summary is on stderr
        assert.matches('"ok":true', line, 1, true)
      end
      assert.equal(N, lines)

      local by_name, total = attachments_by_name()
      for i = 1, N do
        local name = paths[i]:match("[^/]+$")
        assert.is_true((by_name[name] or 0) >= 1, name .. " not attached")
      end
      local duplicates = total - N
      assert.is_true(duplicates <= kills * case.bound,
        string.format("%d duplicates after %d kills (bound %d per kill)", duplicates, kills, case.bound))
      -- A further run changes nothing: everything is skipped.
      local again = run.cli(args)
      assert.equal(0, again.code)
      local skipped = select(2, again.stdout:gsub('"skipped":true', ""))
      assert.equal(N, skipped)
      local _, total2 = attachments_by_name()
      assert.equal(total, total2)
    end)
  end
end)
