-- The files an `ion-upload` run takes, one entry at a time, as the run has
-- room for them: the FILE arguments (a folder, with -r, walked as it goes)
-- or the manifest's rows (read a chunk at a time). Nothing is listed ahead:
-- a back-fill of a million files holds only the entries in flight.
--
-- An entry: { path =, item = { path, target, filename }, size = (the
-- display's, from the walk or the argument's stat; nil for a manifest row)
-- } or { path =, err = } (a manifest row that can't be used, a folder that
-- can't be read: that file's error, in its place).
--
-- A file given twice to the same target (an argument twice, globs or
-- folders that overlap, a folder and a file in it, two manifest rows) is
-- taken once, the next times said in a note. The run keeps a 64-bit hash of
-- each file's key (core.hashset: 16 MB for a million files, no string a
-- file). The key is the real path: an argument's from its stat, a walked
-- file's from its folder's (no system call a file). A manifest row's is its
-- path as written, made absolute, and its target: a stat a row would cost a
-- rerun that skips 100,000 files about a sixth of its time.
local manifest = require("ion.upload.cli.manifest")
local shard = require("ion.upload.shard")
local target_text = require("ion.upload.cli.target_text")
local targets = require("ion.upload.targets")
local walk = require("ion.upload.cli.walk")

local inputs = {}

local Source = { __name = "ion.upload.cli.inputs" }
Source.__index = Source

-- The FILE arguments checked before anything is sent (a folder without -r,
-- a bad glob are usage errors): the folder filter | nil, message. Each
-- argument's stat (with its realpath, the key's) is kept for Source:entry,
-- and its size for the progress display: one stat an argument, not three.
-- Kept in arrays, not a table an argument: false where stat failed.
local function check_args(self, args, core)
  local filter, ferr
  if args.recursive then
    filter, ferr = walk.filter({ include = args.include, exclude = args.exclude, exclude_from = args.exclude_from })
    if not filter then return nil, ferr end
  end
  local types, reals, sizes = {}, {}, {}
  for i, path in ipairs(args.files) do
    local st = core.stat(path, true)
    if st and st.type == "directory" and not args.recursive then
      return nil, path .. " is a folder: add -r (--recursive) to upload the files in it"
    end
    types[i], reals[i], sizes[i] = st and st.type or false, st and st.real or false, st and st.size or false
  end
  self.arg_types, self.arg_reals, self.arg_sizes = types, reals, sizes
  return filter or false
end

--- The entries of a run: source | nil, usage message. notes(path, message)
-- hears what a walk skipped. core: stat, list_dir, and what the manifest
-- reader polls with.
function inputs.open(args, core, notes)
  local self = setmetatable({ args = args, core = core, notes = notes, arg_i = 0, seen = core.hashset() }, Source)
  if args.manifest then
    self.cwd = core.realpath(".") or "."
    local reader, err = manifest.open(args.manifest, core)
    if not reader then return nil, tostring(err) end
    self.reader = reader
    -- the first row, waited for: a manifest of no files is a usage error
    local first, rerr = reader:next(true)
    if rerr then
      reader:close()
      return nil, tostring(rerr)
    end
    if not first then
      reader:close()
      return nil, "manifest " .. args.manifest .. " lists no files"
    end
    self.first = first
    return self
  end
  local filter, ferr = check_args(self, args, core)
  if filter == nil then return nil, ferr end
  self.filter = filter or nil
  return self
end

-- A path made absolute, "//" and "/./" taken out (".." kept: a link may
-- lead elsewhere); as given when it needs nothing, as most do.
local function absolute(cwd, path)
  if path:sub(1, 1) ~= "/" then path = cwd .. "/" .. path end
  if not (path:find("/%.?/") or path:find("/%.$")) then return path end
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part ~= "." then parts[#parts + 1] = part end
  end
  return "/" .. table.concat(parts, "/")
end

function Source:from_row(row)
  if row.err then return { path = row.path, err = row.err } end
  -- a target found by name is keyed by its text (two rows naming one run the same way are one)
  local kind, v = next(row.target)
  self.key = absolute(self.cwd, row.path) .. "\0"
    .. (type(v) == "table" and target_text.describe(row.target) or targets.cache_key(kind, v))
  return { path = row.path, shard_key = row.path,
    item = { path = row.path, target = row.target, filename = row.filename, shard_key = row.path } }
end

-- The next entry of a folder walk, or nil when that walk has ended.
function Source:from_walk()
  local args = self.args
  while true do
    local rec = self.walking()
    if not rec then
      if self.found == 0 then self.notes(self.walk_root, "no file to upload in this folder") end
      self.walking = nil
      return nil
    end
    if rec.kind == "file" then
      self.found = self.found + 1
      if rec.linked then
        self.key = self.core.realpath(rec.path)
      else
        self.key = self.walk_real and self.walk_real .. rec.rel
      end
      return { path = rec.path, size = rec.size, shard_key = rec.rel, item = { path = rec.path, target = args.target,
        filename = args.relative_names and rec.rel or nil, shard_key = rec.rel } }
    elseif rec.kind == "error" then
      return { path = rec.path, err = rec.err }
    else
      self.notes(rec.path, rec.message)
    end
  end
end

-- The next entry, duplicates and all, with its key in self.key (nil:
-- none, the file is not there or no regular file: the upload says why).
function Source:entry(block)
  self.key = nil
  if self.reader then
    if self.first then
      local row = self.first
      self.first = nil
      return self:from_row(row)
    end
    local row, err = self.reader:next(block)
    if row then return self:from_row(row) end
    return row, err
  end
  while true do
    if self.walking then
      local e = self:from_walk()
      if e then return e end
    end
    self.arg_i = self.arg_i + 1
    local path = self.args.files[self.arg_i]
    if not path then return nil end
    local i = self.arg_i -- its stat from check_args, let go as it is used
    local kind, key, size = self.arg_types[i], self.arg_reals[i], self.arg_sizes[i]
    self.arg_types[i], self.arg_reals[i], self.arg_sizes[i] = false, false, false
    if kind == "directory" then
      self.walking = walk.files(path, { hidden = self.args.hidden, follow = self.args.follow, filter = self.filter,
        list_dir = self.core.list_dir })
      self.walk_root, self.found = path, 0
      local real = self.core.realpath(path)
      self.walk_real = real and (real == "/" and real or real .. "/")
    else
      self.key = key or nil
      -- the display size stream.lua would stat for: 0 unless a regular file
      return { path = path, size = kind == "file" and size or 0, shard_key = path,
        item = { path = path, target = self.args.target } }
    end
  end
end

--- The next entry | false (none ready yet: a manifest pipe waits for its
-- writer; only when not `block`) | nil (no more) | nil, err (the manifest
-- could not be read further). A file already taken is skipped, with a note;
-- with --shard, a file of another shard silently (e.shard_key: the key of
-- lua/ion/upload/shard.lua; none for a folder that cannot be read: every
-- shard reports it).
function Source:next(block)
  while true do
    local e, err = self:entry(block)
    local other = e and e.shard_key and not shard.takes(self.args.shard, e.shard_key)
    if not other then
      if not e or not self.key or self.seen:add(self.key) then return e, err end
      self.notes(e.path, "given twice (the same file, to the same target): taken once")
    end
  end
end

--- The descriptor to poll for more entries (a manifest's), or nil.
function Source:fd()
  return self.reader and self.reader:fd()
end

--- Every entry, for --dry-run (client:plan wants the whole list).
function Source:all()
  local list = {}
  while true do
    local e, err = self:next(true)
    if not e then return list, err end
    list[#list + 1] = e
  end
end

function Source:close()
  if self.reader then self.reader:close() end
end

return inputs
