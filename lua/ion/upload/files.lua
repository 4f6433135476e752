-- Local file checks, done before any network call.
local errors = require("ion.upload.errors")

local files = {}

-- S3 takes at most 5 GiB in a single PUT: a bigger file is refused before any
-- traffic (from its size alone, never read).
files.max_size = 5 * 1024 * 1024 * 1024

-- Longest name asked of requestFileUploadUrl: ION builds the storage key from
-- it, and a key holds at most 1024 bytes (a file name 255 on most disks).
files.max_key_name = 200

local function bad(message)
  return nil, errors.new("bad_input", message, { field = "path" })
end

--- nil, the error of a file this process may not read.
function files.unreadable(path)
  return bad(path .. ": not readable")
end

-- The last component of a path ("a/b/c.jpg" -> "c.jpg"; "a/b/" -> "b").
-- One match from the start ("^.*" runs to the end and backs up to the last
-- separator): a pattern anchored with $ would be tried from every position
-- of the path, once per file of a million.
local function is_sep(byte) return byte == 47 or byte == 92 end -- "/" or "\"

function files.basename(path)
  local stop = #path
  while stop > 0 and is_sep(path:byte(stop)) do stop = stop - 1 end -- trailing separators: rare
  if stop == 0 then return path end
  if stop < #path then path = path:sub(1, stop) end
  return path:sub(path:match("^.*[/\\]()") or 1)
end

-- { size =, mtime =, real =, readable = } of a regular file, readable unless
-- readable is nil (mtime only with stat) | nil, err (bad_input).
-- stat: core.stat when the core is loaded; without it, plain io.
-- with_realpath: asks stat for the file's realpath too (`real`, when it can;
-- core.stat then leaves `readable` to be asked apart: engine/plan.lua).
function files.check(path, stat, with_realpath)
  if path == "" then return bad("path is empty") end
  if stat then
    local st, serr = stat(path, with_realpath)
    if not st then
      local why = tostring(type(serr) == "table" and serr.message or serr or "cannot stat")
      return bad(why:find(path, 1, true) and why or (path .. ": " .. why))
    end
    if st.type == "directory" then return bad(path .. ": is a directory") end
    if st.type ~= "file" then return bad(path .. ": not a regular file (" .. tostring(st.type) .. ")") end
    if st.readable == false then return files.unreadable(path) end
    if st.size > files.max_size then
      return bad(path .. ": " .. st.size .. " bytes, over the 5 GiB a single PUT to storage may carry")
    end
    -- mtime and real: the journal key's (engine/items.lua); readable: nil when not asked
    return { size = st.size, mtime = st.mtime, real = st.real, readable = st.readable }
  end
  local f, oerr = io.open(path, "rb")
  if not f then return bad(tostring(oerr)) end
  local ok, rerr, rcode = f:read(0)
  if ok == nil and rerr then
    f:close()
    if rcode == 21 then return bad(path .. ": is a directory") end
    return bad(path .. ": " .. tostring(rerr))
  end
  local size = f:seek("end")
  f:close()
  if not size then return bad(path .. ": is a directory") end
  if size > files.max_size then
    return bad(path .. ": " .. size .. " bytes, over the 5 GiB a single PUT to storage may carry")
  end
  return { size = size, readable = true }
end

-- Is s well-formed UTF-8 (no overlong forms, surrogates or code points past
-- U+10FFFF)? JSON carries only UTF-8: a server would replace bad bytes with
-- U+FFFD and register another name than the one given.
local function utf8_ok(s)
  if not s:find("[\128-\255]") then return true end -- ASCII: the common name
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local len, min
    if c < 0x80 then
      len = 1
    elseif c >= 0xC2 and c <= 0xDF then
      len, min = 2, 0x80
    elseif c >= 0xE0 and c <= 0xEF then
      len, min = 3, 0x800
    elseif c >= 0xF0 and c <= 0xF4 then
      len, min = 4, 0x10000
    else
      return false
    end
    if len > 1 then
      if i + len - 1 > n then return false end
      local cp = c % (2 ^ (7 - len))
      for k = i + 1, i + len - 1 do
        local b = s:byte(k)
        if b < 0x80 or b > 0xBF then return false end
        cp = cp * 64 + (b - 0x80)
      end
      if cp < min or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return false end
    end
    i = i + len
  end
  return true
end
files.utf8_ok = utf8_ok

-- A display name ION can store as given: true | nil, err (bad_input, field).
function files.check_name(name, field)
  if not utf8_ok(name) then
    return nil, errors.new("bad_input", (field or "filename") .. ": not valid UTF-8", {
      field = field or "filename",
      hint = "Give a display name in UTF-8 (the filename option); the file's own path may stay as it is",
    })
  end
  return true
end

-- The name to ask an upload URL for: the display name, or when longer than
-- max_key_name bytes its start cut at a character boundary plus its
-- extension (the extension gives the contentType). Only the storage key
-- sees it; the attachment keeps the full display name.
function files.key_name(name)
  if #name <= files.max_key_name then return name end
  local ext = name:match("(%.[%w]+)$") or ""
  if #ext > 16 then ext = "" end
  local cut = files.max_key_name - #ext
  while cut > 0 and (name:byte(cut + 1) or 0) >= 0x80 and (name:byte(cut + 1) or 0) < 0xC0 do
    cut = cut - 1 -- do not split a UTF-8 sequence
  end
  return name:sub(1, cut) .. ext
end

return files
