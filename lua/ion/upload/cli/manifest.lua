-- The CLI's manifest: CSV (RFC 4180) with a header row path,target,id,filename
-- that maps each file to its own target. A bad row does not spoil the others:
-- it comes back as that file's error.
local errors = require("ion.upload.errors")
local targets = require("ion.upload.targets")

local manifest = {}

-- The manifest's target words and the type of their ids (ion.upload.targets).
manifest.target_kinds = {}
for _, t in ipairs(targets.list) do manifest.target_kinds[t.word] = t.id end

local REQUIRED = { "path", "target", "id" }

-- Splits CSV text into records of fields. Quoted fields may hold commas,
-- doubled quotes and line breaks; CRLF and LF both end a record. Returns the
-- records with the line each starts on, or nil and a message.
function manifest.parse_csv(text)
  local records, fields, field = {}, {}, {}
  local i, n, line, start_line = 1, #text, 1, 1
  local quoted, was_quoted = false, false
  local function end_field()
    fields[#fields + 1] = table.concat(field)
    field, was_quoted = {}, false
  end
  local function end_record()
    local blank = #fields == 0 and #field == 0 and not was_quoted
    end_field()
    if not blank then
      records[#records + 1] = { fields = fields, line = start_line }
    end
    fields = {}
    start_line = line
  end
  while i <= n do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' then
        if text:sub(i + 1, i + 1) == '"' then
          field[#field + 1] = '"'
          i = i + 1
        else
          quoted = false
        end
      else
        if c == "\n" then line = line + 1 end
        field[#field + 1] = c
      end
    elseif c == '"' then
      if #field > 0 then
        return nil, string.format("line %d: a quote inside an unquoted field", line)
      end
      quoted, was_quoted = true, true
    elseif c == "," then
      end_field()
    elseif c == "\r" and text:sub(i + 1, i + 1) == "\n" then
      line = line + 1
      end_record()
      i = i + 1
    elseif c == "\n" then
      line = line + 1
      end_record()
    else
      if was_quoted then
        return nil, string.format("line %d: text after a closing quote", line)
      end
      field[#field + 1] = c
    end
    i = i + 1
  end
  if quoted then
    return nil, string.format("line %d: a quoted field is never closed", start_line)
  end
  if #field > 0 or #fields > 0 or was_quoted then end_record() end
  return records
end

local function row_error(line, message)
  return errors.new("bad_input", string.format("manifest line %d: %s", line, message),
    { hint = "Fix that row: target is one of " .. table.concat(targets.keys, ", ")
      .. ", and id is that object's id" })
end

-- Turns one record into { path=, target=, filename= } or an error.
local function item_from(columns, rec)
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
  if kind_type == "integer" then
    local number = id:match("^%s*(%d+)%s*$")
    if not number then
      item.err = row_error(rec.line, string.format("id %q of %s is not a whole number", id, kind))
      return item
    end
    item.target = { [kind] = tonumber(number) }
  else
    item.target = { [kind] = id }
  end
  return item
end

--- Parses manifest text. Returns an array of items — { path, target,
-- filename, line } or { path, err, line } for a row that can't be used — or
-- nil and a `bad_input` error when the file as a whole is unusable.
function manifest.parse(text)
  if type(text) ~= "string" then error("manifest text must be a string", 2) end
  text = text:gsub("^\239\187\191", "") -- a UTF-8 byte order mark from spreadsheets
  local records, perr = manifest.parse_csv(text)
  if not records then
    return nil, errors.new("bad_input", "manifest is not valid CSV: " .. perr,
      { hint = "Quote fields that hold commas, quotes or line breaks (RFC 4180)" })
  end
  local header = table.remove(records, 1)
  if not header then
    return nil, errors.new("bad_input", "manifest is empty",
      { hint = "Start it with the header row path,target,id,filename" })
  end
  local columns = {}
  for index, name in ipairs(header.fields) do
    columns[name:lower():match("^%s*(.-)%s*$")] = index
  end
  for _, name in ipairs(REQUIRED) do
    if not columns[name] then
      return nil, errors.new("bad_input", "manifest header has no " .. name .. " column",
        { hint = "Start it with the header row path,target,id,filename" })
    end
  end
  local items = {}
  for _, rec in ipairs(records) do
    items[#items + 1] = item_from(columns, rec)
  end
  return items
end

--- Reads and parses the manifest file at `path`.
function manifest.read(path)
  local fh, oerr = io.open(path, "rb")
  if not fh then
    return nil, errors.new("bad_input", "cannot read manifest: " .. tostring(oerr),
      { hint = "Check the --manifest path" })
  end
  local text = fh:read("*a")
  fh:close()
  return manifest.parse(text or "")
end

return manifest
