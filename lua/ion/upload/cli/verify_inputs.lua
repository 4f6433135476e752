-- What `ion-upload verify` checks, from its inputs: a journal, a receipts
-- file, a manifest (its files looked up in the journal or the receipts), or
-- attachment ids. Each entry is { label, id, target, expect } (expect: what
-- client:verify compares with), or { label, missing = reason } for a file
-- with no attachment on record, or { label, err = message } for an input
-- line that can't be used.
local cjson = require("cjson.safe")
local journal = require("ion.upload.journal.file")
local manifest = require("ion.upload.cli.manifest")
local receipts = require("ion.upload.cli.receipts")
local targets = require("ion.upload.targets")

local inputs = {}

local function value(v)
  if v == cjson.null then return nil end
  return v
end

-- A whole number as an integer where Lua has them (a JSON number decodes
-- as a float on 5.3+); anything else as it is.
local function whole(v)
  if type(v) == "number" and math.tointeger then return math.tointeger(v) or v end
  return v
end

local function by_label(a, b)
  if a.label ~= b.label then return a.label < b.label end
  return tostring(a.target) < tostring(b.target)
end

-- One journal's files added to out (at: journal key -> its index in out):
-- true | nil, message. A key already there (another shard's journal) is
-- kept once, by the record that shows it attached if one does.
local function add_journal(path, out, at)
  local each, err = journal.each(path)
  if not each then return nil, tostring(err.message) end
  for key, state in each do
    local abs, size, mtime, target_key = journal.parse_key(key)
    local a, e = state.attached, nil
    if abs and type(a) == "table" then
      e = { label = abs, target = target_key, id = targets.object_id(a.id) or a.id, expect = {
        path = abs, size = size, mtime = mtime, md5 = value(a.md5), sha256 = value(a.sha256),
        etag = value(a.etag), s3Key = value(a.s3Key) } }
    elseif abs and (state.put or state.registering or state.in_doubt) then
      e = { label = abs, target = target_key,
        missing = "the journal records no attachment for this file (never registered, or in doubt)" }
    end
    local i = e and at[key]
    if e and not i then
      out[#out + 1], at[key] = e, #out + 1
    elseif e and out[i].missing and not e.missing then
      out[i] = e
    end
  end
  return true
end

--- Entries of the files of several journals (`verify --journal
-- 'uploads.*.journal'`, one a shard), as one list | nil, message. Sorted by path.
function inputs.from_journals(paths)
  local out, at = {}, {}
  for _, path in ipairs(paths) do
    local ok, err = add_journal(path, out, at)
    if not ok then return nil, err end
  end
  table.sort(out, by_label)
  return out
end

--- Entries of a journal's files | nil, message. Sorted by path.
function inputs.from_journal(path)
  return inputs.from_journals({ path })
end

--- Entries of a receipts file, in its order | nil, message.
function inputs.from_receipts(path)
  local lines, err = receipts.read(path)
  if not lines then return nil, err end
  local out = {}
  for _, l in ipairs(lines) do
    if l.err then
      out[#out + 1] = { label = path .. ":" .. l.line, err = l.err }
    else
      local r = l.rec
      local t = type(r.target) == "table" and r.target or {}
      local kind, tid = value(t.kind), value(t.id)
      local rpath = value(r.path)
      out[#out + 1] = { label = type(rpath) == "string" and rpath or ("attachment " .. tostring(r.id)),
        -- a JSON number comes back a float on Lua 5.3+: ids and target ids as whole numbers
        id = targets.object_id(r.id) or r.id,
        target = kind and targets.cache_key(tostring(kind), targets.object_id(tid) or tid) or nil, expect = {
          path = rpath, size = whole(value(r.size)), mtime = value(r.mtime), md5 = value(r.md5),
          sha256 = value(r.sha256), etag = value(r.etag), s3Key = value(r.s3Key) } }
    end
  end
  return out
end

-- A path made absolute without needing the file to exist.
local function absolute(core, path, getenv)
  local real = core.realpath(path)
  if real then return real end
  if path:sub(1, 1) == "/" then return path end
  return ((getenv("PWD") or "."):gsub("/$", "")) .. "/" .. path:gsub("^%./", "")
end

--- The manifest's files, each matched with its latest record among
-- `records` (entries of a journal or receipts) | nil, message.
function inputs.from_manifest(path, records, core, getenv)
  local rows, err = manifest.read(path)
  if not rows then return nil, tostring(err.message) end
  local latest, by_path = {}, {}
  for _, e in ipairs(records) do
    if e.expect and e.expect.path then
      latest[e.expect.path .. "\0" .. tostring(e.target)] = e
      by_path[e.expect.path] = e
    end
  end
  local out = {}
  for _, row in ipairs(rows) do
    if row.err then
      out[#out + 1] = { label = tostring(row.path), err = tostring(row.err.message) }
    else
      local abs = absolute(core, row.path, getenv)
      local _, named = next(row.target)
      if type(named) == "table" then -- found by name: the record holds what it resolved to; the path decides
        out[#out + 1] = by_path[abs] or { label = row.path, missing = "no upload of this file is on record" }
      else
        local kind, id = targets.parse(row.target)
        local found = kind and latest[abs .. "\0" .. targets.cache_key(kind, id)]
        out[#out + 1] = found or { label = row.path,
          missing = "no upload of this file to " .. targets.cache_key(kind or "?", id) .. " is on record" }
      end
    end
  end
  return out
end

--- Attachment ids given as arguments | nil, message (a usage error).
function inputs.from_ids(args)
  local out = {}
  for _, a in ipairs(args) do
    local id = targets.object_id(a)
    if not id then return nil, "'" .. a .. "' is no attachment id (a positive whole number)" end
    out[#out + 1] = { label = "attachment " .. id, id = id, expect = {} }
  end
  return out
end

return inputs
