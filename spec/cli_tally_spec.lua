-- Unit spec: what the CLI's progress counts (tally.lua) and the terminal
-- display's per-file lines (cli_progress.lua), fed stub events in the shape
-- upload_many gives them and a stub clock (no network, no terminal).
local tally = require("ion.upload.cli.tally")
local progress = require("ion.upload.cli.progress_bars")

local MiB = 1024 * 1024

-- Six files started at once (one URL window), as upload_many reports them.
local function six(now)
  local t = tally.new({ now = now, files = 6, bytes = 6 * 100 * MiB })
  for i = 1, 6 do
    t:set_size(i, 100 * MiB)
    t:event({ type = "start", index = i, path = "f" .. i .. ".bin", bytes = 0, total = 100 * MiB }, i)
  end
  return t
end

local function paths(list)
  local out = {}
  for k, f in ipairs(list) do out[k] = f.path .. ":" .. f.state end
  return out
end

describe("ion.upload.cli.tally", function()
  it("grows its totals as files stream in, and forgets each file once it is done", function()
    local t = tally.new({ now = function() return 0 end })
    for i = 1, 1000 do
      t:add_file(i, 10)
      t:event({ type = "start", index = i, path = "f" .. i, total = 10 }, i)
      t:event({ type = "progress", index = i, bytes = 5, total = 10 }, i)
      -- one in 7 fails half sent; storage takes the others' PUTs
      if i % 7 ~= 0 then t:event({ type = "progress", index = i, bytes = 10, total = 10, stored = true }, i) end
      t:event({ type = i % 7 == 0 and "error" or "done", index = i }, i)
      t:event({ type = "progress", index = i, bytes = 10, total = 10 }, i) -- late: ignored
    end
    -- the 142 failed files' bytes leave both figures, as they leave the summary's
    assert.same({ 1000, 8580, 1000, 142 }, { t.files, t.bytes, t.done_files, t.failed })
    assert.equal(8580, t:bytes_done())
    assert.equal("1000/1000 files, 142 failed", t:files_text())
    assert.is_nil(next(t.sent))
    assert.is_nil(next(t.stored))
    assert.is_nil(next(t.sizes))
    assert.is_nil(next(t.active))
  end)

  it("lists the files whose bytes move, not the first ones started", function()
    local clock = 0
    local t = six(function() return clock end)
    -- libcurl reports 0 of 0 before a PUT's first byte (seen with 10 files of
    -- 30-400 MiB: that report had taken files 1-4 off the display, leaving
    -- files 5 and 6, still waiting for a PUT slot, shown at 0 %).
    for i = 3, 6 do t:event({ type = "progress", index = i, bytes = 0, total = 0 }, i) end
    clock = 0.5
    for i = 3, 6 do t:event({ type = "progress", index = i, bytes = i * MiB, total = 100 * MiB }, i) end
    assert.same({ "f3.bin:moving", "f4.bin:moving", "f5.bin:moving", "f6.bin:moving" }, paths(t:moving(4)))
    assert.same({ "f3.bin:moving", "f4.bin:moving", "f5.bin:moving", "f6.bin:moving", "f1.bin:waiting",
      "f2.bin:waiting" }, paths(t:moving(10)))
    -- f4 has sent everything (it waits for its registration): off the list;
    -- f1 starts moving and comes after those that moved before it.
    clock = 1
    t:event({ type = "progress", index = 4, bytes = 100 * MiB, total = 100 * MiB }, 4)
    t:event({ type = "progress", index = 1, bytes = MiB, total = 100 * MiB }, 1)
    assert.same({ "f3.bin:moving", "f5.bin:moving", "f6.bin:moving", "f1.bin:moving" }, paths(t:moving(4)))
    -- f3 stops moving for longer than 2 s: the moving ones go first.
    clock = 2.8
    for _, i in ipairs({ 5, 6, 1 }) do
      t:event({ type = "progress", index = i, bytes = 50 * MiB, total = 100 * MiB }, i)
    end
    local list = t:moving(4)
    assert.same({ "f5.bin:moving", "f6.bin:moving", "f1.bin:moving", "f3.bin:stalled" }, paths(list))
    assert.equal(3 * MiB, list[4].sent)
  end)

  it("counts a file done as its registration lands, one event at a time", function()
    local clock = 0
    local t = six(function() return clock end)
    local seen = {}
    for i = 1, 6 do
      clock = i
      t:event({ type = "progress", index = i, bytes = 100 * MiB, total = 100 * MiB, stored = true }, i)
      -- file 4's registration fails: its bytes were sent all the same (the summary counts them)
      t:event(i == 4 and { type = "error", index = i } or { type = "done", index = i, total = 100 * MiB }, i)
      seen[i] = t.done_files
    end
    assert.same({ 1, 2, 3, 4, 5, 6 }, seen)
    local s = t:stats()
    assert.equal(600 * MiB, s.bytes_done)
    assert.equal(1, s.fraction)
    assert.equal(100 * MiB, s.rate)
    assert.equal(0, s.eta)
    assert.same({}, t:moving(4))
  end)

  it("counts only the bytes storage took: a failed, a skipped or an earlier run's file sends none", function()
    local t = tally.new({ now = function() return 0 end })
    local sizes = { 80 * MiB, 50 * MiB, 0, 30 * MiB, 20 * MiB, 10 * MiB }
    for i, size in ipairs(sizes) do t:add_file(i, size) end
    assert.equal(190 * MiB, t.bytes)
    -- 1: sent and attached
    t:event({ type = "start", index = 1, path = "ok.bin", total = 80 * MiB }, 1)
    t:event({ type = "progress", index = 1, bytes = 80 * MiB, total = 80 * MiB, stored = true }, 1)
    t:event({ type = "done", index = 1, total = 80 * MiB }, 1)
    -- 2: its target does not exist (no PUT); 3: missing (never started)
    t:event({ type = "start", index = 2, path = "to-nowhere.bin", total = 50 * MiB }, 2)
    t:event({ type = "error", index = 2 }, 2)
    t:event({ type = "error", index = 3 }, 3)
    assert.equal(80 * MiB, t:bytes_done())
    assert.equal(140 * MiB, t.bytes) -- still to send: 4, 5 and 6
    -- 4: libcurl said all sent, then storage refused it (no `stored`)
    t:event({ type = "start", index = 4, path = "refused.bin", total = 30 * MiB }, 4)
    t:event({ type = "progress", index = 4, bytes = 30 * MiB, total = 30 * MiB }, 4)
    assert.equal(110 * MiB, t:bytes_done()) -- in flight: counted as it goes
    t:event({ type = "error", index = 4 }, 4)
    -- 5: skipped per the journal; 6: stored by an earlier run, registered now
    t:event({ type = "done", index = 5, skipped = true, total = 20 * MiB }, 5)
    t:event({ type = "start", index = 6, path = "resumed.bin", total = 10 * MiB }, 6)
    t:event({ type = "done", index = 6, total = 10 * MiB }, 6)
    local s = t:stats()
    assert.same({ 80 * MiB, 80 * MiB, 1 }, { s.bytes_done, t.bytes, s.fraction })
    assert.equal("6/6 files, 3 failed", t:files_text())
  end)

  it("takes an empty file off the list once its 0 of 0 is sent", function()
    local t = tally.new({ now = function() return 0 end, files = 1, bytes = 0 })
    t:set_size(1, 0)
    t:event({ type = "start", index = 1, path = "empty", total = 0 }, 1)
    assert.equal(1, #t:moving(4))
    t:event({ type = "progress", index = 1, bytes = 0, total = 0 }, 1)
    assert.equal(0, #t:moving(4))
  end)

  it("writes times as m:ss or h:mm:ss", function()
    assert.equal("0:07", tally.clock(7.2))
    assert.equal("2:05", tally.clock(125))
    assert.equal("1:01:01", tally.clock(3661))
    assert.equal("--:--", tally.clock(nil))
    assert.equal("--:--", tally.clock(math.huge))
  end)

  it("sizes the files by stat, a missing one as 0", function()
    local st = { a = { type = "file", size = 10 }, d = { type = "directory", size = 4096 } }
    local sizes, total = tally.sizes({ { path = "a" }, { path = "gone" }, { path = "d" } }, { 2, 4, 5 },
      function(p) return st[p] end)
    assert.same({ [2] = 10, [4] = 0, [5] = 0 }, sizes)
    assert.equal(10, total)
  end)
end)

describe("ion.upload.cli.cli_progress: the files' lines", function()
  it("shows the moving files with their share, and a waiting one as waiting", function()
    local clock = 0
    local d = progress.new({ out = { write = function() end, flush = function() end }, width = 80,
      now = function() return clock end, files = 6, bytes = 600 * MiB })
    for i = 1, 6 do
      d:set_size(i, 100 * MiB)
      d:event({ type = "start", index = i, path = "f" .. i .. ".bin", total = 100 * MiB }, i)
    end
    for i = 3, 5 do d:event({ type = "progress", index = i, bytes = 0, total = 0 }, i) end
    clock = 1
    for i = 3, 5 do d:event({ type = "progress", index = i, bytes = 25 * MiB, total = 100 * MiB }, i) end
    local lines = d:lines()
    assert.equal(5, #lines)
    for k, i in ipairs({ 3, 4, 5 }) do
      assert.matches("^  f" .. i .. "%.bin  25%% of 100%.0 MiB$", lines[k + 1])
    end
    assert.matches("^  f1%.bin waiting, 100%.0 MiB$", lines[5])
    for _, l in ipairs(lines) do assert.is_true(#l <= 80, l) end
  end)
end)
