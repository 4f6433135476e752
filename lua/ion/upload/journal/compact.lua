-- Compaction of the resume journal on open. A journal only grows (a file
-- gets a "put", a "registering" and an "attached" record, more after
-- retries); when more than half of its lines are superseded by a later one,
-- the open run writes each key's minimal records (the line resuming needs, as
-- it was: its latest attached record, or else its latest put; then its
-- flags) to a new file and renames it over the old one. An attached file's
-- put record goes: a rerun skips the file on its attachment alone. The core
-- copies from the offsets its index holds and notes the new ones, so the
-- new file is not scanned again (csrc/journal_compact.c).
-- Crash safety: until the rename the old journal is untouched (the new file
-- has another name); the rename replaces it whole; the new file is fsynced
-- before and the folder after. Locks: the new file is locked before
-- the rename and the old one unlocked only after it, so no other run can
-- lock either journal in between (journal.open checks that the file it
-- locked is still the one the path names).
local compact = {}

-- Below this many lines compaction saves too little to be worth a rewrite.
compact.MIN_LINES = 4096

--- Whether an index's stats call for compaction.
function compact.due(stats)
  return stats.lines >= compact.MIN_LINES and (stats.lines - stats.live) * 2 > stats.lines
end

local function folder_of(path)
  local folder = path:match("^(.*)/[^/]*$")
  if folder == nil then return "." end
  return folder == "" and "/" or folder
end

--- Writes the compacted copy of the open, locked journal at `path` (its
-- core, for locks and fsync, and its index) and renames it over the old
-- file: the new file's handle, locked, once the path names it (the index
-- then holds the new offsets, noted by the core as it copied: no second
-- scan; the journal takes the handle and lets the old one go), or nil when
-- it gave up before the rename (the old journal stays in use: compaction
-- only saves space). step(n), when given, is called after each step n (a
-- test hook: spec/journal_compact_spec.lua kills a child at each).
function compact.run(path, core, index, step)
  step = step or function() end
  local native = require("ion.upload.core")
  local tmp = path .. ".compact"
  os.remove(tmp) -- a crashed compaction's leftover: ours, since we hold the lock
  step(1)
  local out = io.open(tmp, "a+")
  if not out then return nil end
  local function give_up()
    index:drop()
    core.lock(out, "unlock")
    out:close()
    os.remove(tmp)
    return nil
  end
  if not core.lock(out, "exclusive") then return give_up() end
  step(2)
  out:setvbuf("full", 1048576) -- the copy writes hundreds of MiB: fewer, larger writes
  if not index:compact(out) then return give_up() end
  step(3)
  if not core.fsync(out) then return give_up() end
  step(4)
  if not os.rename(tmp, path) then return give_up() end
  step(5)
  -- Renamed: the path names the new file from now on, whatever follows.
  -- A failed folder sync only weakens durability of the rename itself.
  native.fsync_dir(folder_of(path))
  step(6)
  return out
end

-- Steps 1-6 are here; the 7th is the journal's own (Journal:compact), once
-- it has taken the new file.
compact.STEPS = 7

return compact
