-- The files of a watched folder before they reach the engine: seen (by an
-- inotify event or a scan), held as candidates until unchanged in size and
-- mtime for `settle` seconds, then matched to a target and taken. Methods
-- of the watch job (self), mixed in by ion.upload.watch.watcher.
local errors = require("ion.upload.errors")
local rules_mod = require("ion.upload.watch.rules")
local glob = require("ion.upload.glob")
local shard = require("ion.upload.shard")

local M = {}

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
M.key_of = key_of

-- A name a writer is still busy with (watch/rules.lua, is_temporary; dot names
-- are not with `hidden`), unless take_temporary matches it.
local function temporary(o, rel)
  if not rules_mod.is_temporary(basename(rel), o.hidden) then return false end
  for _, m in ipairs(o.filter.take_temporary) do
    if m:match(rel) then return false end
  end
  return true
end

-- Whether rel is worth a look: not a temporary name, and taken by the
-- include and exclude globs as `ion-upload -r` takes a file (glob.take_file).
function M:wanted(rel)
  return not temporary(self.o, rel) and glob.take_file(self.o.filter, rel) and shard.takes(self.o.shard, rel)
end

-- Notes a file seen (by an event or a scan): it becomes a candidate unless
-- that version is already done, queued, held or waiting.
function M:saw(rel, info)
  if self.stopping or not self:wanted(rel) or self:in_skipped_dir(rel) then return end
  info = info or self.core.stat(self.root .. "/" .. rel)
  if not info or info.type ~= "file" then
    self.cand[rel] = nil
    return
  end
  local key = key_of(info)
  local held = self.held[rel]
  if self.uploaded.versions:has(rel .. "\0" .. key) or held == key .. "#" .. self.gen or held == key .. "#doubt" then
    return
  end
  local f = self.inflight[rel]
  if f and f.key == key then return end
  local wt = self.waiting[rel]
  if wt and wt.key == key then return end
  local c = self.cand[rel]
  if not c or c.key ~= key then self.cand[rel] = { key = key, since = self.core.now(), info = info } end
end

-- Every file under rel (a folder relative to root), recursively.
function M:scan(rel)
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
function M:skipped_dir(rel)
  local abs = self.root .. "/" .. rel
  return abs == self.o.move_to or abs == self.o.failed or temporary(self.o, rel)
    or glob.skip_folder(self.o.filter, rel)
end

-- Whether a folder on the way to rel is skipped (an event from inside one).
function M:under_skipped_dir(rel)
  local i = rel:find("/", 1, true)
  while i do
    if self:skipped_dir(rel:sub(1, i - 1)) then return true end
    i = rel:find("/", i + 1, true)
  end
  return false
end

-- Whether rel lies under a skipped folder: the watcher reports the files of
-- every subfolder, a move folder inside the watched one included.
function M:in_skipped_dir(rel)
  local at = 1
  while true do
    local slash = rel:find("/", at, true)
    if not slash then return false end
    if self:skipped_dir(rel:sub(1, slash - 1)) then return true end
    at = slash + 1
  end
end

function M:target_for(rel, info)
  if self.o.target then return { target = self.o.target } end
  return rules_mod.match(self.o.rules, rel, info)
end

-- A settled file goes into the engine (or is reported unmatched / bad) and
-- is announced `taken`: once per version, so not again for a retry
-- (c.announced), and not at all when its outcome came within add (the
-- journal shows it attached, or it was refused at once): then its `done` or
-- `error` says it all, and a `taken` after it would read as a new upload.
function M:take(rel, c)
  local key = c.key
  local m, merr = self:target_for(rel, c.info)
  if not m then
    self.held[rel] = key .. "#" .. self.gen
    if merr then
      self.emit({ type = "failed", rel = rel, path = self.root .. "/" .. rel, err = merr, permanent = true })
    else
      self.emit({ type = "unmatched", rel = rel, path = self.root .. "/" .. rel })
    end
    return
  end
  local rewritten = self.uploaded.paths:has(rel)
  self.adding, self.final_in_add = rel, false -- an item skipped or refused at once has its event inside add
  local index = self.job:add({ path = self.root .. "/" .. rel, target = m.target, filename = m.filename,
    shard_key = rel })
  self.adding = nil
  self.by_index[index] = rel
  local announced = c.announced or not self.final_in_add
  self.inflight[rel] = { key = key, index = index, announced = announced, target = m.target }
  if announced and not c.announced then
    self.emit({ type = "taken", rel = rel, path = self.root .. "/" .. rel, index = index,
      rewritten = rewritten or nil, size = c.info.size })
  end
end

-- Candidates unchanged for `settle` seconds are taken, in name order (the
-- lines read as the folder lists); the rest wait.
function M:settle_candidates(now)
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
        self:take(rel, c)
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
function M:read_watcher()
  if not self.watcher then return end
  local evs = self.watcher:read()
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

return M
