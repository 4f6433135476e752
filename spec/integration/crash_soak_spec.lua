-- integration: the crash soak. ion-upload with a journal
-- and --window 1 is killed with SIGKILL again and again at seeded random
-- moments of a 200-file batch (a random count of journal lines, then a
-- random few milliseconds more), then run to completion: every file is
-- attached, and the only duplicates are registrations in flight at a kill:
-- each such file has a "registering" record with no outcome, so the next run
-- counts it in doubt and registers it again. Duplicates <= files counted in
-- doubt <= --concurrency per kill. `make test` kills 10 times (a few
-- seconds); `make soak` (#soak) 40 times, with another seed.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local cjson = require("cjson")

-- Per file name, how many "registering" records the journal holds: each one
-- after the first is a registration sent again after an earlier one was in
-- doubt (and counted so by the run that sent it).
local function registering_per_file(journal)
  local out = {}
  for line in run.read(journal):gmatch("[^\n]+") do
    local rec = cjson.decode(line)
    if rec and rec.e == "registering" then
      local name = rec.k:match("^([^|]*)"):match("[^/]+$")
      out[name] = (out[name] or 0) + 1
    end
  end
  return out
end

local N, CONCURRENCY = 200, 4

local function crash_soak(KILLS, seed)
    return function()
      sandbox.get()
      sandbox.reset()
      sandbox.faults({ graphql_latency_ms = 5, storage_latency_ms = 5 })
      local dir = files.tmpdir()
      local paths = {}
      for i = 1, N do paths[i] = files.write(dir, string.format("crash-%03d.log", i), string.rep("c", 500 + i * 37)) end
      local journal = dir .. "/crash.journal"
      local args = { "--run-step", "21", "--journal", journal, "--window", "1", "--concurrency",
        tostring(CONCURRENCY), "--json", "--quiet" }
      for _, p in ipairs(paths) do args[#args + 1] = p end

      -- A fixed-seed PRNG (Park-Miller) picks the moments.
      local state = seed
      local function random(n)
        state = (state * 16807) % 2147483647
        return state % n
      end
      local core = require("ion.upload.core")
      local kills, runs = 0, 0
      while kills < KILLS and runs < 3 * KILLS do
        runs = runs + 1
        local before = run.lines(journal)
        -- 3 lines per file (put, registering, attached): spread the kills over the batch
        local at = before + 1 + random(math.floor(2.4 * N / KILLS))
        local pid = run.background(args)
        run.wait_for(function() return run.lines(journal) >= at or not run.alive(pid) end, 60)
        core.sleep(random(40) / 1000)
        if run.alive(pid) then
          os.execute("kill -9 " .. pid)
          kills = kills + 1
        end
        assert.is_true(run.wait_exit(pid, 10))
        if run.lines(journal) >= 3 * N then break end
      end
      local r = run.cli(args)
      assert.equal(0, r.code, r.stderr)
      local by_name, total = {}, 0
      for _, a in ipairs(sandbox.attachments()) do
        by_name[a.filename] = (by_name[a.filename] or 0) + 1
        total = total + 1
      end
      for i = 1, N do
        local name = paths[i]:match("[^/]+$")
        assert.is_true((by_name[name] or 0) >= 1, name .. " not attached")
      end
      local dups = total - N
      local regs, in_doubt = registering_per_file(journal), 0
      for i = 1, N do
        local name = paths[i]:match("[^/]+$")
        local sent = regs[name] or 0
        assert.is_true(sent >= 1, name .. ": no registering record")
        in_doubt = in_doubt + sent - 1
        -- a file registered twice was counted in doubt (registered again) at least once
        assert.is_true(by_name[name] <= sent, name .. ": " .. by_name[name] .. " attachments, " .. sent .. " sent")
      end
      io.stderr:write(string.format("crash soak: %d files, %d SIGKILLs, all attached, %d counted in doubt and "
        .. "registered again, %d duplicates (bound %d)\n", N, kills, in_doubt, dups, kills * CONCURRENCY))
      assert.is_true(kills >= KILLS / 2, "only " .. kills .. " runs could be killed")
      assert.is_true(dups <= in_doubt)
      assert.is_true(in_doubt <= kills * CONCURRENCY)
      local again = run.cli(args)
      assert.equal(0, again.code)
      assert.equal(N, select(2, again.stdout:gsub('"skipped":true', "")))
      files.rmdir(dir)
    end
end

describe("integration: crash soak", function()
  it(string.format("%d files, 10 SIGKILLs at random moments, --window 1 --concurrency %d", N, CONCURRENCY),
    crash_soak(10, 20240607))
  it(string.format("%d files, 40 SIGKILLs at random moments #soak", N), crash_soak(40, 777))
end)
