-- The files of a watched folder before they reach the engine: seen (by an
-- inotify event or a scan), held as candidates until unchanged in size and
-- mtime for `settle` seconds, then handed on to be taken (watch/outcomes).
local errors = require("ion.upload.errors")
local rules_mod = require("ion.upload.watch.rules")
local glob = require("ion.upload.glob")
local shard = require("ion.upload.shard")

local Candidates = {}
Candidates.__index = Candidates

--- Candidates.new(core, root, o, queue, emit) -> candidates: o, the watch's
-- checked options (filter, hidden, settle, move_to, failed); queue, the
-- files past settling (a version it knows is not a candidate again).
function Candidates.new(core, root, o, queue, emit)
  return setmetatable({
    core = core, root = root, o = o, queue = queue, emit = emit,
    cand = {}, -- rel -> { key, since, info }: seen, not yet settled
    stopped = false,
  }, Candidates)
end

local function join(a, b)
  if a == "" then return b end
  return a .. "/" .. b
end

local function basename(rel)
  return rel:match("[^/]+$") or rel
end

-- A file's version: identity is (path, size, mtime).
local function key_of(info)
  return string.format("%d|%.6f", info.size, info.mtime)
end
Candidates.key_of = key_of

-- A name a writer is still busy with (watch/rules.lua, is_temporary; dot names
-- are not with `hidden`), unless take_temporary matches it.
local function temporary(o, rel)
  if not rules_mod.is_temporary(basename(rel), o.hidden) then return false end
  for _, m in ipairs(o.filter.take_temporary) do
    if m:match(rel) then return false end
  end
  return true
end

-- Whether rel is worth a look: not a temporary name, taken by the include
-- and exclude globs as `ion-upload -r` takes a file (glob.take_file), and
-- of this watch's shard, if it has one (o.shard: lua/ion/upload/shard.lua).
function Candidates:wanted(rel)
  return not temporary(self.o, rel) and glob.take_file(self.o.filter, rel) and shard.takes(self.o.shard, rel)
end

-- Notes a file seen (by an event or a scan): it becomes a candidate unless
-- that version is already done, queued, held or waiting.
function Candidates:saw(rel, info)
  if self.stopped or not self:wanted(rel) or self:in_skipped_dir(rel) then return end
  info = info or self.core.stat(self.root .. "/" .. rel)
  if not info or info.type ~= "file" then
    self.cand[rel] = nil
    return
  end
  local key = key_of(info)
  if self.queue:knows(rel, key) then return end
  local c = self.cand[rel]
  if not c or c.key ~= key then self.cand[rel] = { key = key, since = self.core.now(), info = info } end
end

-- Every file under rel (a folder relative to root), recursively.
function Candidates:scan(rel)
  local list = self.core.list_dir(rel == "" and self.root or (self.root .. "/" .. rel))
  if not list then return end
  for _, e in ipairs(list) do
    local r = join(rel, e.name)
    if e.type == "dir" and not self:skipped_dir(r) then
      self:scan(r)
    elseif e.type == "file" then
      self:saw(r, { type = "file", size = e.size, mtime = e.mtime })
    end
  end
end

-- The move and failed folders are not watched for new files when inside
-- dir; nor are temporary or excluded folders.
function Candidates:skipped_dir(rel)
  local abs = self.root .. "/" .. rel
  return abs == self.o.move_to or abs == self.o.failed or temporary(self.o, rel)
    or glob.skip_folder(self.o.filter, rel)
end

-- Whether a folder on the way to rel is skipped (an event from inside one).
function Candidates:under_skipped_dir(rel)
  local i = rel:find("/", 1, true)
  while i do
    if self:skipped_dir(rel:sub(1, i - 1)) then return true end
    i = rel:find("/", i + 1, true)
  end
  return false
end

-- Whether rel lies under a skipped folder: the watcher reports the files of
-- every subfolder, a move folder inside the watched one included.
function Candidates:in_skipped_dir(rel)
  local at = 1
  while true do
    local slash = rel:find("/", at, true)
    if not slash then return false end
    if self:skipped_dir(rel:sub(1, slash - 1)) then return true end
    at = slash + 1
  end
end

-- Candidates unchanged for `settle` seconds are taken, in name order (the
-- lines read as the folder lists); the rest wait. take(rel, c) takes one.
function Candidates:settle(now, take)
  local due = {}
  for rel, c in pairs(self.cand) do
    if now - c.since >= self.o.settle then due[#due + 1] = rel end
  end
  table.sort(due)
  for _, rel in ipairs(due) do
    local c = self.cand[rel]
    local info = self.core.stat(self.root .. "/" .. rel)
    self.cand[rel] = nil
    if info and info.type == "file" then
      local key = key_of(info)
      if key == c.key then
        take(rel, c)
      else
        self.cand[rel] = { key = key, since = now, info = info }
      end
    end
  end
end

-- What the inotify watcher has seen since the last read. The watcher is
-- the only walker: it reports each file of a new folder (a "dir" event
-- comes before them) with its type, size and mtime, so a file event is
-- neither stat-ed nor the folder scanned again here; only an overflow (lost
-- events) is.
function Candidates:read(watcher)
  local evs = watcher:read()
  if not evs then return end
  for _, ev in ipairs(evs) do
    if ev.kind == "file" then
      if not self:under_skipped_dir(ev.path) then self:saw(ev.path, ev) end
    elseif ev.kind == "overflow" then
      self:scan("")
    elseif ev.kind == "gone" then
      self.cand[ev.path] = nil
    elseif ev.kind == "error" then
      self.emit({ type = "watch_error", rel = ev.path, err = errors.from_core(ev.err, "watch: ") })
    end
  end
end

-- The graceful stop or the cancel: no file is taken any more.
function Candidates:stop()
  self.stopped = true
  self.cand = {}
end

-- When the first candidate settles (core.now() time), or nil.
function Candidates:next_due()
  local due
  for _, c in pairs(self.cand) do
    local t = c.since + self.o.settle
    if not due or t < due then due = t end
  end
  return due
end

-- Files seen and not settled yet.
function Candidates:count()
  local n = 0
  for _ in pairs(self.cand) do n = n + 1 end
  return n
end

function Candidates:empty()
  return next(self.cand) == nil
end

-- The candidates' paths, sorted.
function Candidates:names()
  local list = {}
  for rel in pairs(self.cand) do list[#list + 1] = rel end
  table.sort(list)
  return list
end

-- What a candidate was last seen as ({ type, size, mtime }), or nil.
function Candidates:info(rel)
  local c = self.cand[rel]
  return c and c.info
end

return Candidates
