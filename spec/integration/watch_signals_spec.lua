-- integration: stopping `ion-upload watch` (a real child process). The first
-- SIGTERM or SIGINT stops taking files and starting uploads, and lets the
-- PUTs and registrations in flight finish (exit 0); a second signal, of the
-- same kind or the other, ends the process at once, and the journal shows
-- the registration it cut short in doubt (a "registering" record with no
-- outcome), which a restart registers again. Storage or GraphQL answers
-- after a delay, so a PUT or a registration is in flight when the signals
-- come; readiness is the sandbox's count of PUTs, the journal's record and
-- the CLI's own line.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local cjson = require("cjson")

local SIGNUM = { INT = 2, TERM = 15 }

-- The journal's keys whose last record is "registering": in doubt.
local function in_doubt(journal)
  local last = {}
  for line in run.read(journal):gmatch("[^\n]+") do
    local ok, rec = pcall(cjson.decode, line)
    if ok and type(rec) == "table" and rec.k then last[rec.k] = rec.e end
  end
  local n = 0
  for _, e in pairs(last) do
    if e == "registering" then n = n + 1 end
  end
  return n
end

local count_filename = require("support.watch_steps").count_filename

describe("integration: ion-upload watch, the first signal and a second", function()
  local dir
  setup(function() sandbox.get() end)
  before_each(function()
    sandbox.reset()
    dir = files.tmpdir()
  end)
  after_each(function()
    -- (the sandbox's admin answers once an outage is over)
    assert(run.wait_for(function() return (pcall(sandbox.counters)) end, 30), "the sandbox is back")
    sandbox.faults({ storage_latency_ms = 0, graphql_latency_ms = 0 })
    files.rmdir(dir)
  end)

  for _, sig in ipairs({ "INT", "TERM" }) do
    it("SIG" .. sig .. ": the PUT in flight finishes and is registered, a file not started stays; exit 0", function()
      local inbox = dir .. "/in"
      assert(os.execute("mkdir -p '" .. inbox .. "'"))
      files.write(inbox, "a.txt", "first")
      files.write(inbox, "b.txt", "second")
      -- one PUT at a time, each held 2 s by storage: a.txt's is in flight when the signal comes
      sandbox.faults({ storage_latency_ms = 2000 })
      local pid, _, err, code = run.background({ "watch", inbox, "--run-step", "12", "--settle", "0",
        "--concurrency", "1", "--journal", dir .. "/w.journal" })
      assert.is_true(run.wait_for(function() return sandbox.counters().storage.puts >= 1 end, 30), run.read(err))
      os.execute("kill -" .. sig .. " " .. pid)
      assert.is_true(run.wait_exit(pid, 20), run.read(err))
      local text = run.read(err)
      assert.equal(0, code(), text)
      assert.equal(1, count_filename("a.txt"), text)
      assert.equal(0, count_filename("b.txt"), text)
      assert.equal(1, sandbox.counters().storage.puts, "no PUT starts after the signal")
      assert.is_nil(text:find("interrupted", 1, true), text)
      assert.matches("\nok    a.txt %-> attachment", text)
      assert.matches("stopping: ", text)
      assert.matches("\nstopped: 1 file not uploaded stays in the folder", text)
      assert.is_not_nil(io.open(inbox .. "/b.txt"))
    end)
  end

  it("SIGINT while ION is down: the file waiting for a retry stays, a line says so; exit 0", function()
    local inbox = dir .. "/in"
    assert(os.execute("mkdir -p '" .. inbox .. "'"))
    -- longer than the client's own retries (about 4 s): the file waits in the watch's queue
    sandbox.admin("POST", "/outage", { target = "both", mode = "refuse", seconds = 8 })
    local pid, _, err, code = run.background({ "watch", inbox, "--run-step", "12", "--settle", "0" })
    files.write(inbox, "w.txt", "waits")
    assert.is_true(run.wait_for(function()
      return run.read(err):find("waiting for ION since", 1, true) ~= nil
    end, 30), run.read(err))
    os.execute("kill -INT " .. pid)
    assert.is_true(run.wait_exit(pid, 20), run.read(err))
    local text = run.read(err)
    assert.equal(0, code(), text)
    assert.matches("\nstopped: 1 file not uploaded stays in the folder", text)
    assert.is_nil(text:find("FAIL", 1, true), text)
  end)

  for _, order in ipairs({ { "TERM", "INT" }, { "INT", "TERM" } }) do
    it("SIG" .. order[2] .. " after SIG" .. order[1] .. " stops at once; the journal keeps what is in doubt", function()
      local inbox, journal = dir .. "/in", dir .. "/w.journal"
      assert(os.execute("mkdir -p '" .. inbox .. "'"))
      sandbox.faults({ graphql_latency_ms = 4000 })
      local common = { "watch", inbox, "--run-step", "12", "--settle", "0", "--journal", journal }
      local pid, _, err, code = run.background(common)
      files.write(inbox, "s1.txt", "s1")
      assert.is_true(run.wait_for(function() return in_doubt(journal) >= 1 end, 60), "a registration went out")
      os.execute("kill -" .. order[1] .. " " .. pid)
      assert.is_true(run.wait_for(function()
        return run.read(err):find("stopping: no new file is taken", 1, true) ~= nil
      end, 10), run.read(err))
      os.execute("kill -" .. order[2] .. " " .. pid)
      assert.is_true(run.wait_exit(pid, 10))
      -- ended by the second signal, not by the graceful stop (which exits 0)
      assert.equal(128 + SIGNUM[order[2]], code(), run.read(err))
      assert.equal(1, in_doubt(journal))
      -- a restart registers it again and says it was in doubt
      sandbox.faults({ graphql_latency_ms = 0 })
      local once = {}
      for i, a in ipairs(common) do once[i] = a end
      once[#once + 1] = "--once"
      once[#once + 1] = "--json"
      local r = run.cli(once)
      assert.equal(0, r.code, r.stderr)
      assert.matches('"was_in_doubt":true', r.stdout)
      assert.is_true(count_filename("s1.txt") >= 1)
    end)
  end
end)
