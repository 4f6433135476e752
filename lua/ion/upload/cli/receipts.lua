-- `--receipts FILE`: one JSON line per file attached, appended as it lands
-- (flushed per line), for an auditor: what was sent (path, size, mtime,
-- MD5, SHA-256) and where it went (ETag, attachment, entity, target, name,
-- UTC time). A file the journal shows as attached by an earlier run gets no
-- new line (its line is in that run's receipts). `ion-upload verify
-- --receipts FILE` reads them back (receipts.read).
local cjson = require("cjson.safe")
local target_text = require("ion.upload.cli.target_text")
local targets = require("ion.upload.targets")

local receipts = {}

local Writer = {}
Writer.__index = Writer

-- JSON object text with its keys in the order given; "/" left as is. A
-- value { raw = text } is put in as it is.
local function object(fields)
  local parts = {}
  for _, kv in ipairs(fields) do
    if kv[2] ~= nil then
      local v = kv[2]
      if type(v) ~= "table" or not v.raw then v = { raw = (assert(cjson.encode(v)):gsub("\\/", "/")) } end
      parts[#parts + 1] = cjson.encode(kv[1]) .. ":" .. v.raw
    end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end
receipts.object = object

-- { kind, id } of an item's target table ({ run_step = 12 }); the id as the
-- library reads it (a watch rule's capture "12" is 12). A target found by
-- name: kind, nil, its words (the entity it resolved to is entityId).
local function target_of(target)
  for _, t in ipairs(targets.list) do
    if type(target) == "table" and target[t.key] ~= nil then
      if type(target[t.key]) == "table" then return t.key, nil, target_text.describe(target) end
      local kind, id = targets.check_id(t.key, target[t.key])
      return t.key, kind and id or target[t.key]
    end
  end
  return nil
end

--- The receipt line of one attached file (no newline).
function receipts.line(rec)
  return object({
    -- mtime to the microsecond, as the journal keys it (cjson keeps 14 digits)
    { "path", rec.path }, { "size", rec.size },
    { "mtime", rec.mtime and { raw = string.format("%.6f", rec.mtime) } or nil }, { "md5", rec.md5 },
    { "sha256", rec.sha256 or cjson.null }, { "etag", rec.etag }, { "id", rec.id }, { "entityId", rec.entityId },
    { "target", rec.kind and { raw = object({ { "kind", rec.kind }, { "id", rec.target_id },
      { "lookup", rec.lookup } }) } or nil },
    { "filename", rec.filename }, { "s3Key", rec.s3Key }, { "time", rec.time },
  })
end

--- writer | nil, message. The file is opened for appending (created 0644
-- by the umask's leave: receipts hold no secret) before any upload starts,
-- so an unwritable place is a usage error, not a surprise at the end.
function receipts.open(path, core)
  local fh, err = io.open(path, "a")
  if not fh then return nil, "cannot open receipts file " .. path .. ": " .. tostring(err) end
  return setmetatable({ path = path, fh = fh, core = core, written = 0 }, Writer)
end

--- One line for a file attached in this run (nothing when skipped).
function Writer:done(item, att, skipped)
  if skipped or not self.fh or type(att) ~= "table" then return end
  local abs = self.core.realpath(item.path) or item.path
  local st = self.core.stat(abs)
  local kind, tid, lookup = target_of(item.target)
  local line = receipts.line({
    path = abs, size = att.size, mtime = st and st.mtime or nil, md5 = att.md5, sha256 = att.sha256,
    etag = att.etag, id = att.id, entityId = att.entityId, kind = kind, target_id = tid, lookup = lookup,
    filename = att.filename, s3Key = att.s3Key, time = os.date("!%Y-%m-%dT%H:%M:%SZ"),
  })
  local ok, err = self.fh:write(line, "\n")
  if ok then ok, err = self.fh:flush() end
  if not ok and not self.err then self.err = "cannot write receipts file " .. self.path .. ": " .. tostring(err) end
  if ok then self.written = self.written + 1 end
end

--- true | nil, message (the first write that failed).
function Writer:close()
  if self.fh then
    self.fh:close()
    self.fh = nil
  end
  if self.err then return nil, self.err end
  return true
end

--- The receipts of a file: list of { line =, rec = } or { line =, err = }
-- | nil, message. A last line cut short (a crash while it was written) is
-- left out; any other line that is no receipt is an error in its place.
function receipts.read(path)
  local fh, oerr = io.open(path, "rb")
  if not fh then return nil, "cannot read receipts file " .. path .. ": " .. tostring(oerr) end
  local text = fh:read("*a") or ""
  fh:close()
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  if text:sub(-1) == "\n" or text == "" then lines[#lines] = nil end -- the empty piece after the last newline
  local cut_short = #text > 0 and text:sub(-1) ~= "\n"
  local out = {}
  for n, line in ipairs(lines) do
    if line:match("%S") then
      local rec = cjson.decode(line)
      if type(rec) == "table" and rec.id ~= nil and rec.id ~= cjson.null then
        out[#out + 1] = { line = n, rec = rec }
      elseif not (cut_short and n == #lines) then
        out[#out + 1] = { line = n, err = "line " .. n .. " of " .. path .. " is no receipt" }
      end
    end
  end
  return out
end

return receipts
