-- integration: what bin/ion-upload reports as it goes and at the end,
-- against the sandbox: the progress lines of log mode (stderr not a
-- terminal), files counted done as their registrations land, and the
-- --json summary line. (The terminal's bars and table: cli_spec.lua.)
local cjson = require("cjson")
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")

local MiB = 1024 * 1024

local function lines_of(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

describe("integration: ion-upload's progress and summary", function()
  local dir, big

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    big = {}
    for i = 1, 3 do big[i] = files.write(dir, "big" .. i .. ".bin", string.rep(string.char(64 + i), 2 * MiB)) end
  end)
  teardown(function()
    files.rmdir(dir)
    sandbox.faults({ storage_latency_ms = 0 })
  end)
  before_each(function() sandbox.reset() end)

  it("off a terminal prints plain progress lines, and counts each file done as it is registered", function()
    -- Each PUT is held 0.8 s before storage reads it and one PUT runs at a
    -- time: file 1's registration lands while file 3 has sent nothing.
    sandbox.faults({ storage_latency_ms = 800 })
    local r = run.cli({ "--run-step", "12", "--concurrency", "1", "--window", "1", "--progress-interval", "0",
      big[1], big[2], big[3] })
    assert.equal(0, r.code, r.stderr)
    assert.is_nil(r.stderr:find("\27", 1, true), "an escape byte in log mode")
    assert.is_nil(r.stderr:find("\r", 1, true))
    local progress, ok_lines, last_done = {}, 0, 0
    for _, line in ipairs(lines_of(r.stderr)) do
      if line:match("^ok    ") then ok_lines = ok_lines + 1 end
      local done, sent = line:match("^progress  %d+:%d%d  (%d)/3 files  ([%d.]+ [KMG]?i?B)/6%.0 MiB %(%d+%%%)  "
        .. "[%d.]+ [KMG]?i?B/s  ETA [%d:-]+$")
      if line:match("^progress") then
        assert.is_not_nil(done, line)
        progress[#progress + 1] = { done = tonumber(done), sent = sent }
        assert.is_true(tonumber(done) >= last_done, "files done went down: " .. line)
        last_done = tonumber(done)
      end
    end
    assert.equal(3, ok_lines) -- the per-file lines stay the log's record
    assert.is_true(#progress >= 3, r.stderr)
    assert.equal(3, progress[#progress].done)
    local early = false
    for _, p in ipairs(progress) do
      if p.done == 1 and p.sent ~= "6.0 MiB" then early = true end
    end
    assert.is_true(early, "no line with file 1 registered before the last bytes were sent:\n" .. r.stderr)
    assert.matches("ion-upload: 3 attached, 0 skipped, 0 failed; 6.0 MiB in", r.stderr, 1, true)
  end)

  it("on a terminal, the bar counts the bytes the summary counts: a failed file's leave it", function()
    -- one file attached, one to a run step that does not exist, one missing
    local to_nowhere = files.write(dir, "to-nowhere.bin", string.rep("n", MiB))
    local m = files.write(dir, "failing.csv", "path,target,id\n" .. big[1] .. ",run_step,12\n" .. to_nowhere
      .. ",run_step,99999\n" .. dir .. "/missing.bin,run_step,12\n")
    local r = run.terminal({ "--manifest", m, "--limit-rate", "8M" })
    assert.equal(1, r.code, r.screen)
    local bars = {}
    local size = "([%d.]+ [KMG]?i?B)"
    for files_done, sent, total in r.screen:gmatch("%d+%%  (%d/3 files[^\r\n]-)  " .. size .. "/" .. size) do
      bars[#bars + 1] = { files = files_done, sent = sent, total = total }
    end
    assert.is_true(#bars >= 2, r.screen)
    local last = bars[#bars]
    assert.same({ files = "3/3 files, 2 failed", sent = "2.0 MiB", total = "2.0 MiB" }, last)
    for _, b in ipairs(bars) do
      assert.is_true(b.sent:match("[KMG]?i?B$") ~= "MiB" or tonumber(b.sent:match("[%d.]+")) <= 2, r.screen)
    end
    -- the summary table's bytes column says the same
    assert.matches("\n +1 +0 +2 +0 +2%.0 MiB ", r.screen)
  end)

  it("on a terminal, each file leaves its line above the bars: the attachment ids without --json", function()
    local r = run.terminal({ "--run-step", "12", big[2], big[3], dir .. "/gone.bin" })
    assert.equal(1, r.code, r.screen)
    local ids = {}
    for path, id in r.screen:gmatch("ok    ([^\r\n]-) %-> attachment (%d+) on entity %d+ %(2%.0 MiB%)\r?\n") do
      ids[path] = tonumber(id)
    end
    local attached = {}
    for _, a in ipairs(sandbox.attachments()) do attached[#attached + 1] = a.id end
    table.sort(attached)
    local seen = { ids[big[2]], ids[big[3]] }
    table.sort(seen)
    assert.same(attached, seen, r.screen)
    assert.matches("FAIL  " .. (dir .. "/gone.bin"):gsub("%p", "%%%0") .. ": ", r.screen)
    -- the bars come back below the lines: the last thing before the summary is a bar
    assert.matches("%] 100%%  3/3 files, 1 failed  4%.0 MiB/4%.0 MiB[^\n]*\r?\n +attached", r.screen)
  end)

  it("prints no progress line with --quiet, nor before the first interval", function()
    local r = run.cli({ "--run-step", "12", "--quiet", "--progress-interval", "0", big[1] })
    assert.equal(0, r.code, r.stderr)
    assert.equal("", r.stderr)
    r = run.cli({ "--run-step", "12", "--progress-interval", "3600", big[1] })
    assert.equal(0, r.code, r.stderr)
    assert.not_matches("progress", r.stderr, 1, true)
    assert.matches("^ok    ", r.stderr)
  end)

  it("--json: stdout holds the files' lines only, stderr ends with one JSON summary line", function()
    local small = files.write(dir, "small.txt", "hello\n")
    local r = run.cli({ "--part", "50", "--json", small, dir .. "/missing.txt", big[1] })
    assert.equal(1, r.code, r.stderr)
    local lines = lines_of(r.stdout)
    assert.equal(3, #lines)
    for i, path in ipairs({ small, dir .. "/missing.txt", big[1] }) do
      assert.equal(path, cjson.decode(lines[i]).path)
    end
    local errs = lines_of(r.stderr)
    local last = errs[#errs]
    local s = cjson.decode(last).summary
    assert.same({ files = 3, attached = 2, skipped = 0, failed = 1, in_doubt = 0, was_in_doubt = 0,
      bytes = 6 + 2 * MiB }, { files = s.files, attached = s.attached, skipped = s.skipped, failed = s.failed,
      in_doubt = s.in_doubt, was_in_doubt = s.was_in_doubt, bytes = s.bytes })
    assert.is_true(s.seconds > 0)
    -- bytes per second (seconds is rounded to ms in the line: allow that much)
    assert.is_true(math.abs(s.rate - s.bytes / s.seconds) <= s.bytes / s.seconds * 0.001 / s.seconds + 1, last)
    assert.is_nil(s.interrupted)
    assert.matches('^{"summary":{"files":3,"attached":2,', last)

    -- Again with a journal, quiet: skipped files counted; stderr holds only the summary.
    local j = dir .. "/summary.journal"
    os.remove(j)
    r = run.cli({ "--part", "50", "--json", "--journal", j, small, big[1] })
    assert.equal(0, r.code, r.stderr)
    r = run.cli({ "--part", "50", "--json", "--quiet", "--journal", j, small, big[1] })
    assert.equal(0, r.code, r.stderr)
    lines = lines_of(r.stdout)
    assert.equal(2, #lines)
    errs = lines_of(r.stderr)
    assert.equal(1, #errs, r.stderr)
    s = cjson.decode(errs[1]).summary
    assert.same({ 2, 0, 2, 0 }, { s.files, s.attached, s.skipped, s.bytes })
  end)
end)
