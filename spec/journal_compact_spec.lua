-- Unit spec: compaction of the resume journal on open, and what a crash
-- leaves. A child Lua opens a journal that calls for compaction and SIGKILLs
-- itself after step N of it (journal._compaction_step), for every N; at
-- step 3 (written, not yet synced) the new file is also cut at a seeded
-- byte count, as a kill in the middle of the write leaves it. The parent
-- then checks that the path holds the old journal byte for byte or a whole
-- compacted one, and that every key's state is what it was (less an
-- attached file's put record, which compaction drops: resumable() below).
local cjson = require("cjson")
local compact = require("ion.upload.journal.compact")
local interpreter = require("support.interpreter")
local journal = require("ion.upload.journal.file")

local function tmpname()
  local path = os.tmpname()
  os.remove(path)
  return path
end

local function read_all(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local s = fh:read("*a")
  fh:close()
  return s
end

local function count_lines(text)
  local n = 0
  for _ in text:gmatch("[^\n]+") do n = n + 1 end
  return n
end

-- A journal of `nkeys` files, most of whose lines are superseded: every
-- file's put retried `puts` times, then registering, and for most an
-- attached record; some end in doubt, some stale, some refused.
local function write_journal(path, seed, nkeys, puts)
  math.randomseed(seed)
  local lines = {}
  local function rec(t) lines[#lines + 1] = cjson.encode(t) end
  for i = 1, nkeys do
    local k = string.format("/data/run%02d/f%05d.log|%d|1700000000.%06d|run_step=%d", i % 9, i, i, i, i % 9 + 1)
    for p = 1, puts do rec({ v = 1, k = k, e = "put", s3Key = "u/" .. i .. "/" .. p, etag = "e" .. p, md5 = "m" }) end
    rec({ v = 1, k = k, e = "registering" })
    local fate = math.random(10)
    if fate <= 6 then
      rec({ v = 1, k = k, e = "attached", att = { id = i, entityId = "7", filename = "f" .. i } })
    elseif fate == 7 then
      rec({ v = 1, k = k, e = "in_doubt" })
    elseif fate == 8 then
      rec({ v = 1, k = k, e = "not_registered" })
    elseif fate == 9 then
      rec({ v = 1, k = k, e = "stale" })
    end -- 10: registering with nothing after it
  end
  local fh = assert(io.open(path, "wb"))
  fh:write(table.concat(lines, "\n"), "\n")
  fh:close()
  return #lines
end

local function states_of(path)
  local out = {}
  for k, s in assert(journal.each(path)) do out[k] = s end
  return out
end

-- What resuming needs of each state: compaction keeps an attached file's
-- attachment, not its put record (a rerun skips the file on the first).
local function resumable(states)
  local out = {}
  for k, s in pairs(states) do
    local copy = {}
    for f, v in pairs(s) do copy[f] = v end
    if copy.attached then copy.put = nil end
    out[k] = copy
  end
  return out
end

-- Runs a child that opens `path` and kills itself after compaction step `n`.
local function crash_child(path, n)
  local script = path .. ".child.lua"
  local fh = assert(io.open(script, "wb"))
  fh:write(([[
local journal = require("ion.upload.journal.file")
journal._compaction_step = function(step)
  if step == %d then
    local stat = io.open("/proc/self/stat"):read("*l")
    os.execute("kill -KILL " .. stat:match("^%%d+"))
  end
end
local j = assert(journal.open(%q))
j:close()
]]):format(n, path))
  fh:close()
  local ok = os.execute(("LUA_PATH=%q LUA_CPATH=%q %s %s 2>/dev/null"):format(package.path, package.cpath,
    interpreter, script))
  os.remove(script)
  return ok == true or ok == 0
end

describe("ion.upload.journal compaction", function()
  local path
  before_each(function() path = tmpname() end)
  after_each(function()
    os.remove(path)
    os.remove(path .. ".compact")
  end)

  it("compacts on open when more than half the lines are superseded, keeping every state", function()
    local nlines = write_journal(path, 11, 1000, 4)
    local before = states_of(path)
    local j = assert(journal.open(path))
    local stats = j.index:stats()
    assert.is_true(stats.lines < nlines / 2, stats.lines .. " lines left of " .. nlines)
    assert.equal(stats.live, stats.lines)
    for k, s in pairs(resumable(before)) do assert.same(s, j:lookup(k), k) end
    -- appends go to the new file, under the lock
    assert(j:record_attached("/late|1|1.000000|run=1", { id = 99 }))
    assert.is_nil(journal.open(path))
    j:close()
    assert.is_nil(read_all(path .. ".compact"))
    local after = states_of(path)
    assert.equal(99, after["/late|1|1.000000|run=1"].attached.id)
    after["/late|1|1.000000|run=1"] = nil
    assert.same(resumable(before), after)
    -- once compact, opening again rewrites nothing
    local text = read_all(path)
    assert(journal.open(path)):close()
    assert.equal(text, read_all(path))
  end)

  it("compacts a journal whose keys share hashes, keeping every key's state apart", function()
    write_journal(path, 12, 1000, 4)
    local before = states_of(path) -- read with the full hash: no two keys meet
    journal._hash_bits = 8 -- 1,000 keys on 255 hashes
    local ok, err = pcall(function()
      local j = assert(journal.open(path))
      local stats = j.index:stats()
      assert.is_true(stats.collided)
      assert.equal(stats.live, stats.lines) -- compacted
      for k, s in pairs(resumable(before)) do assert.same(s, j:lookup(k), k) end
      j:close()
    end)
    journal._hash_bits = nil
    assert(ok, err)
    assert.same(resumable(before), states_of(path))
  end)

  it("holds the lock across the rename: no other run opens the journal at any step", function()
    write_journal(path, 14, 1000, 4)
    local early = assert(io.open(path, "a+")) -- a run that opened the file just before
    local refused = {}
    journal._compaction_step = function(n)
      local other, err = journal.open(path)
      if other then other:close() end
      refused[n] = other == nil and err.message:find("in use by another run", 1, true) ~= nil
    end
    local ok, j = pcall(journal.open, path)
    journal._compaction_step = nil
    assert(ok, j)
    for n = 1, compact.STEPS do assert.is_true(refused[n], "step " .. n) end
    -- that early handle can lock the old file now, but it is no longer the
    -- journal: journal.open checks this after locking and opens the path again
    local core = require("ion.upload.core")
    assert.truthy(core.lock(early, "exclusive"))
    assert.is_false(core.same_file(early, path))
    early:close()
    j:close()
  end)

  it("leaves a journal alone below the threshold or when most lines still count", function()
    write_journal(path, 12, 300, 4) -- under compact.MIN_LINES lines
    local small = read_all(path)
    assert(journal.open(path)):close()
    assert.equal(small, read_all(path))
    local nlines = write_journal(path, 13, 2000, 1) -- over it, most lines live
    assert.is_true(nlines >= compact.MIN_LINES)
    local text = read_all(path)
    assert(journal.open(path)):close()
    assert.equal(text, read_all(path))
  end)

  for _, seed in ipairs({ 21, 22 }) do
    for n = 1, compact.STEPS do
      it("leaves the old journal or the new one, whole, when killed after step " .. n .. " (seed " .. seed .. ") #slow",
        function()
          local nlines = write_journal(path, seed * 100 + n, 1100, 3)
          local old = read_all(path)
          local before = states_of(path)
          assert.is_false(crash_child(path, n))
          local tmp = read_all(path .. ".compact")
          if n == 3 and tmp then -- a kill in mid-write: the new file cut at a seeded byte
            math.randomseed(seed + n)
            local fh = assert(io.open(path .. ".compact", "wb"))
            fh:write(tmp:sub(1, math.random(#tmp)))
            fh:close()
          end
          local now = read_all(path)
          if n < 5 then
            assert.equal(old, now) -- not renamed yet: the old journal, untouched
            assert.same(before, states_of(path))
          else
            assert.is_true(count_lines(now) < nlines / 2) -- renamed: the whole new journal
            assert.same(resumable(before), states_of(path))
          end
          -- and the next run opens it (compacting if still due), what resuming needs unchanged
          assert(journal.open(path)):close()
          assert.same(resumable(before), states_of(path))
          assert.is_nil(read_all(path .. ".compact"))
        end)
    end
  end
end)
