-- The CLI's manifest: CSV (RFC 4180) with a header row path,target,id,filename
-- that maps each file to its own target. A bad row does not spoil the others:
-- it comes back as that file's error. manifest.open reads a file a chunk at
-- a time (csv.lua parses as text comes), a row when the CLI has room for it.
local csv = require("ion.upload.cli.csv")
local errors = require("ion.upload.errors")
local target_text = require("ion.upload.cli.target_text")
local targets = require("ion.upload.targets")

local manifest = {}

-- The manifest's target words and the type of their ids (ion.upload.targets).
manifest.target_kinds = {}
for _, t in ipairs(targets.list) do manifest.target_kinds[t.word] = t.id end

local REQUIRED = { "path", "target", "id" }
local KNOWN = { path = true, target = true, id = true, filename = true }

local function row_error(line, message)
  return errors.new("bad_input", string.format("manifest line %d: %s", line, message),
    { hint = "Fix that row: target is one of " .. table.concat(targets.keys, ", ")
      .. ", and id is that object's id or its name (field=value filters; a run step RUN/TITLE)" })
end

-- Turns one record into { path=, target=, filename= } or an error.
local function item_from(columns, rec)
  if #rec.fields > columns.n then -- a comma in a field not quoted, most often: never cut silently
    return { path = rec.fields[columns.path] or "", line = rec.line, err = errors.new("bad_input",
      string.format("manifest line %d: %d columns, the header has %d (%s)", rec.line, #rec.fields, columns.n,
        columns.names), { hint = "Quote a field that holds a comma (\"a, b.txt\"), or drop the extra column" }) }
  end
  local function get(name)
    local v = rec.fields[columns[name]]
    if v == nil then return nil end
    return v
  end
  local path, kind, id = get("path"), get("target"), get("id")
  if not path or path == "" then
    return { path = path or "", err = row_error(rec.line, "path is empty") }
  end
  local item = { path = path, line = rec.line }
  local filename = columns.filename and get("filename")
  if filename and filename ~= "" then item.filename = filename end
  local kind_type = manifest.target_kinds[kind or ""]
  if not kind_type then
    item.err = row_error(rec.line, string.format("unknown target %q", tostring(kind)))
    return item
  end
  if not id or id == "" then
    item.err = row_error(rec.line, "id is empty")
    return item
  end
  if kind_type ~= "integer" then
    item.target = { [kind] = id }
    return item
  end
  local number = id:match("^%s*(%d+)%s*$")
  if number then
    item.target = { [kind] = tonumber(number) }
    return item
  end
  -- found by name: field=value filters, RUN/TITLE (cli/target_text.lua)
  local value, why = target_text.manifest(kind, id)
  if value == nil then
    item.err = row_error(rec.line, "id of " .. kind .. " " .. why)
    return item
  end
  item.target = { [kind] = value }
  return item
end

local function not_csv(message)
  return errors.new("bad_input", "manifest is not valid CSV: " .. message,
    { hint = "Quote fields that hold commas, quotes or line breaks (RFC 4180)" })
end

local function no_header(message)
  return nil, errors.new("bad_input", message, { hint = "Start it with the header row path,target,id,filename" })
end

-- The header as the message quotes it: escaped, and cut when long.
local function quoted_header(fields)
  local s = table.concat(fields, ",")
  if #s > 80 then s = s:sub(1, 77) .. "..." end
  return "'" .. s:gsub("%c", "?") .. "'"
end

-- The columns of a header record: columns (name -> index; n, names) | nil,
-- err. A column it does not know (a typo such as "filname" would drop every
-- filename) or one named twice is refused.
local function columns_of(header)
  if not header then return no_header("manifest is empty") end
  if header.err then return nil, not_csv(header.err) end
  local columns = { n = #header.fields }
  for index, field in ipairs(header.fields) do
    local name = field:lower():match("^%s*(.-)%s*$")
    if not KNOWN[name] then
      local sep = #header.fields == 1 and field:match("[;\t|]")
      if sep then
        return no_header("manifest header has no path column: it reads " .. quoted_header(header.fields)
          .. ", but a manifest's columns are separated by commas, not by " .. (sep == "\t" and "tabs" or sep))
      end
      return no_header(string.format("manifest header column %d is %s: the columns are path, target, id and "
        .. "filename", index, name == "" and "empty" or quoted_header({ field })))
    end
    if columns[name] then return no_header("manifest header names the " .. name .. " column twice") end
    columns[name] = index
  end
  for _, name in ipairs(REQUIRED) do
    if not columns[name] then return no_header("manifest header has no " .. name .. " column") end
  end
  columns.names = table.concat(header.fields, ",")
  return columns
end

-- A record after the header as an item; a broken one (bad CSV) is that
-- row's error, in its place (broken = true), under its path when the row
-- got that far, else under where it is: name:line (name: the manifest's).
local function row_of(columns, rec, name)
  if rec.err then
    local path = rec.fields and rec.fields[columns.path]
    if not path or path == "" then path = name .. ":" .. rec.line end
    return { path = path, line = rec.line, broken = true, err = errors.new("bad_input", "manifest " .. rec.err,
      { hint = "Quote fields that hold commas, quotes or line breaks (RFC 4180); a quote in a quoted field is "
        .. "written twice" }) }
  end
  return item_from(columns, rec)
end

--- Parses manifest text. Returns an array of items — { path, target,
-- filename, line } or { path, err, line } for a row that can't be used — or
-- nil and a `bad_input` error when the text as a whole is unusable (no
-- header, broken CSV anywhere).
function manifest.parse(text)
  if type(text) ~= "string" then error("manifest text must be a string", 2) end
  local records, perr = csv.parse(text)
  if not records then return nil, not_csv(perr) end
  local columns, cerr = columns_of(table.remove(records, 1))
  if not columns then return nil, cerr end
  local items = {}
  for _, rec in ipairs(records) do
    items[#items + 1] = item_from(columns, rec)
  end
  return items
end

-- How much of the file one read asks for.
manifest.chunk = 64 * 1024

local Reader = { __name = "ion.upload.cli.manifest.reader" }
Reader.__index = Reader

local function cannot_read(err)
  return errors.new("bad_input", "cannot read manifest: " .. tostring(type(err) == "table" and err.message or err),
    { hint = "Check the --manifest path" })
end

--- Opens the manifest at `path` and reads its header (waiting for it, if
-- the file is a pipe): reader | nil, err (the file as a whole is unusable).
-- core: core.read_some and core.fileno read the descriptor a chunk at a
-- time, never more than is there (a FIFO that a program writes to as it goes
-- never blocks a reader that polls first); without them file:read is used.
function manifest.open(path, core)
  local fh, oerr = io.open(path, "rb")
  if not fh then return nil, cannot_read(oerr) end
  local r = setmetatable({ fh = fh, parser = csv.parser(), core = core, name = path }, Reader)
  if core and core.read_some and core.fileno then r.descriptor = core.fileno(fh) end
  local ok, err = r:fill(true)
  if ok == nil then
    r:close()
    return nil, err
  end
  local columns, cerr = columns_of(r.parser:next())
  if not columns then
    r:close()
    return nil, cerr
  end
  r.columns = columns
  return r
end

-- Reads one more chunk when no record is ready: true (a chunk was fed, or
-- the end), false (nothing there yet: `block` unset and the pipe is empty),
-- nil, err (a read failed).
function Reader:fill(block)
  if self.parser.done then return true end
  local chunk, err
  if self.descriptor then
    if not block and self.core.poll({ self.descriptor }, {}, 0) == 0 then return false end
    chunk, err = self.core.read_some(self.fh, manifest.chunk)
  else
    chunk, err = self.fh:read(manifest.chunk)
  end
  if err then return nil, cannot_read(err) end
  self.parser:feed(chunk, chunk == nil)
  return true
end

--- The next row: an item as parse gives them | false (none ready yet and
-- not `block`) | nil (the end) | nil, err (the file could not be read).
function Reader:next(block)
  while true do
    local rec = self.parser:next()
    if rec then return row_of(self.columns, rec, self.name) end
    if self.parser:ended() then return nil end
    local ok, err = self:fill(block)
    if ok == nil then return nil, err end
    if ok == false then return false end
  end
end

--- The descriptor to poll for more rows (nil: reads never wait).
function Reader:fd()
  return self.descriptor
end

function Reader:close()
  if self.fh then self.fh:close() end
  self.fh = nil
end

--- Reads and parses the whole manifest file at `path` (ion-upload verify):
-- items | nil, err as parse, a chunk at a time.
function manifest.read(path, core)
  local r, err = manifest.open(path, core)
  if not r then return nil, err end
  local items = {}
  while true do
    local item, rerr = r:next(true)
    if not item then
      r:close()
      if rerr then return nil, rerr end
      return items
    end
    if item.broken then
      r:close()
      return nil, item.err
    end
    items[#items + 1] = item
  end
end

return manifest
