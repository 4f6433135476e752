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
local errors = require("ion.upload.errors")

local journal = {}

local Journal = {}
Journal.__index = Journal
Journal.__name = "ion.upload.journal"

local VERSION = 1

-- Folds one decoded record into the state of its file.
local function apply(entries, rec)
  local state = entries[rec.k]
  if not state then
    state = {}
    entries[rec.k] = state
  end
  if rec.e == "put" then
    state.put = { s3Key = rec.s3Key, etag = rec.etag, md5 = rec.md5, sha256 = rec.sha256 }
  elseif rec.e == "attached" then
    state.attached = rec.att
    state.in_doubt, state.registering = nil, nil
  elseif rec.e == "registering" then
    state.registering = true
  elseif rec.e == "in_doubt" then
    state.in_doubt = true
  elseif rec.e == "not_registered" then
    state.registering = nil
  elseif rec.e == "stale" then
    -- Storage no longer had the object: forget the PUT, upload again.
    state.put, state.registering = nil, nil
  end
end

-- Reads what earlier runs recorded. Lines that do not decode are skipped:
-- only the last one can be cut short by a crash, and a record that is lost
-- only means that step is done again. Returns the state per key, the number
-- of lines skipped and whether the file ends without a newline.
local function load(fh)
  local entries, skipped = {}, 0
  local content = fh:read("*a") or ""
  for line in content:gmatch("[^\n]+") do
    local rec = cjson.decode(line)
    if type(rec) == "table" and rec.v == VERSION and type(rec.k) == "string" then
      apply(entries, rec)
    else
      skipped = skipped + 1
    end
  end
  local unterminated = #content > 0 and content:sub(-1) ~= "\n"
  return entries, skipped, unterminated
end

--- Opens (or creates) the journal at `path` and takes an exclusive lock on it
-- for as long as it stays open, so two runs can't interleave their records.
-- `opts.core` replaces ion.upload.core (the batch passes its client's, which
-- unit specs stub). Returns the journal, or nil and a `bad_input` error.
function journal.open(path, opts)
  if type(path) ~= "string" or path == "" then
    error("journal path must be a non-empty string", 2)
  end
  local core = opts and opts.core or require("ion.upload.core")
  local fh, oerr = io.open(path, "a+")
  if not fh then
    return nil, errors.new("bad_input", "cannot open journal " .. path .. ": " .. tostring(oerr),
      { hint = "Check that the journal's folder exists and is writable." })
  end
  local locked, lerr = core.lock(fh, "exclusive")
  if not locked then
    fh:close()
    local busy = type(lerr) == "table" and lerr.code == "busy"
    return nil, errors.new("bad_input",
      busy and ("journal " .. path .. " is in use by another run")
        or ("cannot lock journal " .. path .. ": " .. tostring(lerr and lerr.message or lerr)),
      { hint = busy and "Wait for the other ion-upload run to finish, or give this run its own journal."
        or "Put the journal on a local file system that supports locks." })
  end
  fh:seek("set", 0)
  local entries, skipped, unterminated = load(fh)
  fh:seek("end", 0)
  if unterminated then
    -- A crash cut the last record short: start the next one on a line of its own.
    fh:write("\n")
  end
  local self = setmetatable({ path = path, fh = fh, core = core, entries = entries, skipped = skipped }, Journal)
  return self
end

--- What a journal holds, read without a lock and without writing a byte
-- (client:plan): a read-only journal (lookup, close) | nil,
-- err (bad_input). A journal that does not exist yet reads as empty.
function journal.peek(path)
  if type(path) ~= "string" or path == "" then
    error("journal path must be a non-empty string", 2)
  end
  local entries = {}
  local fh, oerr, errno = io.open(path, "rb")
  if fh then
    local ok, rerr = fh:read(0) -- a folder opens, then fails to read
    if ok == nil and rerr then oerr = rerr else entries = load(fh) end
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
  -- no fh: close() has nothing to do, and a write raises "journal is closed"
  return setmetatable({ path = path, entries = entries, read_only = true }, Journal)
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

--- What a journal file holds, read without creating or locking it (for
-- ion-upload verify): entries by key (as Journal:lookup's) | nil, err.
function journal.read(path)
  local fh, oerr = io.open(path, "rb")
  if not fh then
    return nil, errors.new("bad_input", "cannot read journal " .. path .. ": " .. tostring(oerr))
  end
  local entries = load(fh)
  fh:close()
  return entries
end

--- What earlier runs (and this one) recorded for `key`: nil, or a table with
-- `put` = {s3Key, etag, md5}, `attached` = attachment, `in_doubt` = true,
-- `registering` = true (sent, and no outcome recorded: in doubt too).
function Journal:lookup(key)
  return self.entries[key]
end

-- Writes records in one write and one fsync; true | nil, err.
function Journal:write_records(recs)
  if not self.fh then
    error("journal is closed", 3)
  end
  local lines = {}
  for i, rec in ipairs(recs) do lines[i] = assert(cjson.encode(rec)) .. "\n" end
  local ok, werr = self.fh:write(table.concat(lines))
  if ok then
    ok, werr = self.core.fsync(self.fh)
  end
  if not ok then
    return nil, errors.new("bad_input", "cannot write journal " .. self.path .. ": "
      .. tostring(type(werr) == "table" and werr.message or werr),
      { hint = "Free some disk space or fix the journal's permissions, then run again: nothing is lost." })
  end
  for _, rec in ipairs(recs) do apply(self.entries, rec) end
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
  if self.fh then
    self.core.lock(self.fh, "unlock")
    self.fh:close()
    self.fh = nil
  end
end

Journal.__gc = Journal.close
Journal.__close = Journal.close

return journal
