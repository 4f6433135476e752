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

-- Test hook (spec/journal_compact_spec.lua kills a child at each step):
-- journal._compaction_step(n) is called after step n when set.
local function step(journal, n)
  if journal._compaction_step then journal._compaction_step(n) end
end

--- Compacts the open, locked journal `self` (fields path, fh, core, index)
-- in place. True when the journal was replaced: self.fh is then the new
-- file, and self.index describes it (the core noted each line's new offset
-- as it copied: no second scan). Failing before the rename leaves the old
-- journal in use (compaction only saves space).
function compact.run(self, journal)
  local core, native = self.core, require("ion.upload.core")
  local tmp = self.path .. ".compact"
  os.remove(tmp) -- a crashed compaction's leftover: ours, since we hold the lock
  step(journal, 1)
  local out = io.open(tmp, "a+")
  if not out then return false end
  local function give_up()
    self.index:drop()
    core.lock(out, "unlock")
    out:close()
    os.remove(tmp)
    return false
  end
  if not core.lock(out, "exclusive") then return give_up() end
  step(journal, 2)
  out:setvbuf("full", 1048576) -- the copy writes hundreds of MiB: fewer, larger writes
  if not self.index:compact(out) then return give_up() end
  step(journal, 3)
  if not core.fsync(out) then return give_up() end
  step(journal, 4)
  if not os.rename(tmp, self.path) then return give_up() end
  step(journal, 5)
  -- Renamed: the path names the new file from now on, whatever follows.
  -- A failed folder sync only weakens durability of the rename itself.
  native.fsync_dir(folder_of(self.path))
  step(journal, 6)
  out:seek("end", 0)
  self.index:adopt()
  core.lock(self.fh, "unlock")
  self.fh:close()
  self.fh = out
  step(journal, 7)
  return true
end

compact.STEPS = 7

return compact
