-- Unit spec: the progress lines off a terminal (log_progress.lua), with a
-- stub clock stepped by hand and a sink in place of stderr (no sleeping).
local log_progress = require("ion.upload.cli.progress_log")
local cli_args = require("ion.upload.cli.args")

local MiB = 1024 * 1024

local function sink()
  local s = { text = {} }
  function s.write(_, ...) for _, v in ipairs({ ... }) do s.text[#s.text + 1] = v end end
  function s.flush() end
  function s.lines()
    local out = {}
    for l in table.concat(s.text):gmatch("[^\n]+") do out[#out + 1] = l end
    return out
  end
  return s
end

describe("ion.upload.cli.progress_log", function()
  it("prints one plain line every interval: files, bytes, rate, ETA", function()
    local clock, out = 100, sink()
    local log = log_progress.new({ out = out, now = function() return clock end, files = 2, bytes = 200 * MiB })
    assert.equal(10, log.interval) -- the default
    log:set_size(1, 100 * MiB)
    log:set_size(2, 100 * MiB)
    log:event({ type = "start", index = 1, path = "a.bin", total = 100 * MiB }, 1)
    log:event({ type = "start", index = 2, path = "b.bin", total = 100 * MiB }, 2)
    -- Progress several times a second, as upload_many reports it: 5 MiB/s.
    for step = 1, 80 do
      clock = 100 + step / 4
      local sent = step * 1.25 * MiB
      if sent <= 100 * MiB then
        log:event({ type = "progress", index = 1, bytes = sent, total = 100 * MiB }, 1)
      else
        log:event({ type = "progress", index = 2, bytes = sent - 100 * MiB, total = 100 * MiB }, 2)
      end
      if step == 40 then -- storage took the PUT (stored), then the registration landed
        log:event({ type = "progress", index = 1, bytes = 100 * MiB, total = 100 * MiB, stored = true }, 1)
        log:event({ type = "done", index = 1, total = 100 * MiB }, 1)
      end
    end
    local lines = out.lines()
    assert.same({
      "progress  0:10  0/2 files  50.0 MiB/200.0 MiB (25%)  5.0 MiB/s  ETA 0:30",
      "progress  0:20  1/2 files  100.0 MiB/200.0 MiB (50%)  5.0 MiB/s  ETA 0:20",
    }, lines)
    assert.not_matches("[\27\r]", table.concat(out.text))
  end)

  it("prints nothing before the first interval, and a line per event with 0", function()
    local clock, out = 0, sink()
    local log = log_progress.new({ out = out, now = function() return clock end, files = 1, bytes = 10, interval = 5 })
    log:event({ type = "start", index = 1, path = "a", total = 10 }, 1)
    clock = 4.9
    log:event({ type = "progress", index = 1, bytes = 5, total = 10 }, 1)
    assert.same({}, out.lines())
    local every = sink()
    log = log_progress.new({ out = every, now = function() return clock end, files = 1, bytes = 10, interval = 0 })
    log:event({ type = "start", index = 1, path = "a", total = 10 }, 1)
    log:event({ type = "progress", index = 1, bytes = 10, total = 10, stored = true }, 1)
    log:event({ type = "done", index = 1, total = 10 }, 1)
    local lines = every.lines()
    assert.equal(3, #lines)
    assert.matches("0/1 files  10 B/10 B %(100%%%)", lines[2])
    assert.matches("1/1 files  10 B/10 B %(100%%%)", lines[3])
  end)

  it("takes --progress-interval seconds, and refuses what is not", function()
    local a = assert(cli_args.parse({ "--run", "1", "--progress-interval", "0.5", "f" }))
    assert.equal(0.5, a.progress_interval)
    assert.is_nil(assert(cli_args.parse({ "--run", "1", "f" })).progress_interval)
    for _, bad in ipairs({ "x", "-1", "inf", "nan" }) do
      local r, msg = cli_args.parse({ "--run", "1", "--progress-interval=" .. bad, "f" })
      assert.is_nil(r)
      assert.matches("--progress-interval expects seconds", msg, 1, true)
    end
  end)
end)
