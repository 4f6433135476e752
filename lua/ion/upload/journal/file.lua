-- The resume journal: an append-only JSON-lines file that lets a batch be run
-- again after a crash without uploading or attaching anything twice.
--
-- Each line is one record about one file, keyed by the file's absolute path,
-- size, mtime and target:
--   {"v":1,"k":KEY,"e":"put","s3Key":…,"etag":…,"md5":…}   bytes are in storage
--     (plus "sha256":… when the run asked for it)
--   {"v":1,"k":KEY,"e":"attached","att":{…}}               attachment registered
--   {"v":1,"k":KEY,"e":"registering"}  a registration is about to be sent
--   {"v":1,"k":KEY,"e":"in_doubt"}     a registration's answer was lost
--   {"v":1,"k":KEY,"e":"not_registered"} a registration was refused (nothing recorded)
-- A "registering" record with nothing after it (a crash while the document
-- was out) is in doubt, like "in_doubt": the next run registers it again and
-- counts it.
-- Every record is flushed and fsynced before the step it describes is taken
-- to be done, so a crash loses at most the record being written (a truncated
-- last line, which loading tolerates).
local cjson = require("cjson.safe")
local compact = require("ion.upload.journal.compact")
local errors = require("ion.upload.errors")
local jstate = require("ion.upload.journal.state")
local shard_record = require("ion.upload.journal.shard_record")

-- The C core reads the journal (core.journal_index), whatever core the
-- caller passed for locks and fsync (unit specs stub those).
local function native() return require("ion.upload.core") end

local journal = {}

local Journal = {}
Journal.__index = Journal
Journal.__name = "ion.upload.journal.file"

local VERSION = 1

local function new_journal(fields)
  return setmetatable(fields, Journal)
end

local function lock_current(core, path)
  for _ = 1, 10 do
    local fh, oerr = io.open(path, "a+")
    if not fh then return nil, oerr end
    local locked, lerr = core.lock(fh, "exclusive")
    if not locked then
      fh:close()
      return nil, nil, lerr
    end
    -- another run may have compacted the journal (renamed a new file over
    -- it) between our open and our lock: then lock the file the path names
    if native().same_file(fh, path) then return fh end
    core.lock(fh, "unlock")
    fh:close()
  end
  return nil, "it keeps being replaced"
end

--- Opens (or creates) the journal at `path` and takes an exclusive lock on it
-- for as long as it stays open, so two runs can't interleave their records.
-- When more than half its lines are superseded, it is compacted first
-- (journal_compact.lua). `opts.core` replaces ion.upload.core for locks and
-- fsync (the batch passes its client's, which unit specs stub). `opts.shard`
-- ({ k, n }): the journal records it, and one of another shard is refused.
-- Returns the journal, or nil and a `bad_input` error.
function journal.open(path, opts)
  if type(path) ~= "string" or path == "" then
    error("journal path must be a non-empty string", 2)
  end
  local core = opts and opts.core or native()
  local fh, oerr, lerr = lock_current(core, path)
  if not fh and oerr then
    return nil, errors.new("bad_input", "cannot open journal " .. path .. ": " .. tostring(oerr),
      { hint = "Check that the journal's folder exists and is writable." })
  elseif not fh then
    local busy = type(lerr) == "table" and lerr.code == "busy"
    return nil, errors.new("bad_input",
      busy and ("journal " .. path .. " is in use by another run")
        or ("cannot lock journal " .. path .. ": " .. tostring(lerr and lerr.message or lerr)),
      { hint = busy and "Wait for the other ion-upload run to finish, or give this run its own journal."
        or "Put the journal on a local file system that supports locks." })
  end
  local index, stats, ierr = jstate.index_file(fh, journal._hash_bits)
  if not index then
    fh:close()
    return nil, errors.new("bad_input", "cannot read journal " .. path .. ": "
      .. tostring(type(ierr) == "table" and ierr.message or ierr), { hint = "Check the journal file and its disk" })
  end
  fh:seek("end", 0)
  if stats.unterminated then
    -- A crash cut the last record short: start the next one on a line of its own.
    fh:write("\n")
    fh:flush()
  end
  local self = new_journal({ path = path, fh = fh, core = core, index = index, skipped = stats.skipped })
  local sok, serr = shard_record.claim(self, opts and opts.shard or false)
  if not sok then self:close() return nil, serr end
  if compact.due(stats) then self:compact() end
  return self
end

-- Compacts the journal (journal_compact.lua), then takes the new file in
-- place of the old one (its lock let go only now; the index has its offsets).
function Journal:compact()
  local out = compact.run(self.path, self.core, self.index, journal._compaction_step)
  if not out then return false end
  out:seek("end", 0)
  self.index:adopt()
  self.core.lock(self.fh, "unlock")
  self.fh:close()
  self.fh, self.skipped = out, self.index:stats().skipped
  if journal._compaction_step then journal._compaction_step(compact.STEPS) end
  return true
end

--- What a journal holds, read without a lock and without writing a byte
-- (client:plan): a read-only journal (lookup, each, close) | nil,
-- err (bad_input). A journal that does not exist yet reads as empty. With
-- `s` (a checked shard, or false: a run of no shard), one of another shard
-- is refused.
function journal.peek(path, s)
  if type(path) ~= "string" or path == "" then
    error("journal path must be a non-empty string", 2)
  end
  local index
  local fh, oerr, errno = io.open(path, "rb")
  if fh then
    local ok, rerr = fh:read(0) -- a folder opens, then fails to read
    if ok == nil and rerr then
      oerr = rerr
    else
      local stats
      index, stats = jstate.index_file(fh, journal._hash_bits)
      oerr = stats == nil and "unreadable" or nil
    end
    fh:close()
  elseif errno == 2 then -- ENOENT: not yet; the run would create it, in its folder
    local folder = path:match("^(.*)/[^/]*$") or "."
    local dh = io.open(folder == "" and "/" or folder, "rb")
    if dh then dh:close() oerr = nil else oerr = "its folder does not exist" end
  end
  if oerr then
    return nil, errors.new("bad_input", "cannot read journal " .. path .. ": " .. tostring(oerr),
      { hint = "Check that the journal is a file you may read and write." })
  end
  local sok, serr = shard_record.matches(path, index, s)
  if not sok then index:close() return nil, serr end
  -- no fh: a write raises "journal is closed"
  return new_journal({ path = path, index = index, read_only = true })
end

--- The key of one file and target. `target_key` is a canonical string of the
-- target (for example "run_step=12"); `info` comes from core.stat.
function journal.key(abs_path, info, target_key)
  return string.format("%s|%d|%.6f|%s", abs_path, info.size, info.mtime, target_key)
end

--- The parts of a key: abs_path, size, mtime, target_key (as "run_step=12")
-- | nil when it is not one of ours. (Read from the right: a path may hold "|".)
function journal.parse_key(key)
  if type(key) ~= "string" then return nil end
  local abs, size, mtime, target_key = key:match("^(.*)|(%d+)|(%d+%.?%d*)|(%l[%l_]*=.*)$")
  if not abs then return nil end
  return abs, tonumber(size), tonumber(mtime), target_key
end

--- Every file of the journal at `path`, read without creating or locking
-- it (ion-upload verify): an iterator of key, state (as Journal:lookup's)
-- | nil, err. The states are read one at a time: a journal of any size.
function journal.each(path)
  local fh, oerr = io.open(path, "rb")
  if not fh then
    return nil, errors.new("bad_input", "cannot read journal " .. path .. ": " .. tostring(oerr))
  end
  fh:close()
  local jnl, err = journal.peek(path)
  if not jnl then return nil, err end
  return jnl:each()
end

--- The same as one table of states by key (small journals, specs).
function journal.read(path)
  local iter, err = journal.each(path)
  if not iter then return nil, err end
  local entries = {}
  for key, state in iter do entries[key] = state end
  return entries
end

--- What earlier runs (and this one) recorded for `key`: nil, or a table with
-- `put` = {s3Key, etag, md5}, `attached` = attachment, `in_doubt` = true,
-- `registering` = true (sent, and no outcome recorded: in doubt too).
function Journal:lookup(key)
  if not self.index then return nil end
  return jstate.of(self.index, key)
end

--- What resuming `key` needs: lookup's state, without `put` when the file
-- is attached (the engine skips it; a rerun reads one record a file).
function Journal:resume_state(key)
  if not self.index then return nil end
  return jstate.to_resume(self.index, key)
end

--- Every key and its state, one at a time (in no particular order).
function Journal:each()
  local index, i = self.index, 0
  return function()
    while index do
      local after, first = index:next(i)
      if not after then break end
      i = after
      local rec = jstate.record_at(index, first)
      if rec and type(rec.k) == "string" and rec.k ~= shard_record.KEY then return rec.k, jstate.of(index, rec.k) end
    end
    if self.read_only then self:close() end -- a journal.each(path): read to its end
    return nil
  end
end

-- Writes records in one write and one fsync; true | nil, err.
function Journal:write_records(recs)
  if not self.fh then
    error("journal is closed", 3)
  end
  local lines = {}
  for i, rec in ipairs(recs) do lines[i] = assert(cjson.encode(rec)) .. "\n" end
  local at = self.fh:seek("end", 0)
  local ok, werr = self.fh:write(table.concat(lines))
  if ok then
    ok, werr = self.core.fsync(self.fh)
  end
  if not ok then
    return nil, errors.new("bad_input", "cannot write journal " .. self.path .. ": "
      .. tostring(type(werr) == "table" and werr.message or werr),
      { hint = "Free some disk space or fix the journal's permissions, then run again: nothing is lost." })
  end
  for i, rec in ipairs(recs) do
    local applied, aerr = self.index:apply(rec.k, rec.e, at)
    if not applied then -- the records are on disk: the next run reads them
      return nil, errors.new("bad_input", "cannot read journal " .. self.path .. " back: "
        .. tostring(type(aerr) == "table" and aerr.message or aerr),
        { hint = "Check the disk the journal is on, then run again: nothing is lost." })
    end
    at = at + #lines[i]
  end
  return true
end

function Journal:append(key, event, fields)
  local rec = { v = VERSION, k = key, e = event }
  for name, value in pairs(fields or {}) do
    rec[name] = value
  end
  return self:write_records({ rec })
end

--- Before a registration document goes out: one record per file in it
-- (`keys`), all on disk before the document is sent.
function Journal:record_registering(keys)
  local recs = {}
  for i, key in ipairs(keys) do recs[i] = { v = VERSION, k = key, e = "registering" } end
  return self:write_records(recs)
end

function Journal:record_not_registered(key)
  return self:append(key, "not_registered")
end

function Journal:record_put(key, put)
  return self:append(key, "put", { s3Key = put.s3Key, etag = put.etag, md5 = put.md5, sha256 = put.sha256 })
end

function Journal:record_attached(key, att)
  return self:append(key, "attached", { att = att })
end

function Journal:record_in_doubt(key)
  return self:append(key, "in_doubt")
end

function Journal:record_stale(key)
  return self:append(key, "stale")
end

function Journal:close()
  if self.index then
    self.index:close()
    self.index = nil
  end
  if self.fh then
    self.core.lock(self.fh, "unlock")
    self.fh:close()
    self.fh = nil
  end
end

Journal.__gc = Journal.close
Journal.__close = Journal.close

return journal
