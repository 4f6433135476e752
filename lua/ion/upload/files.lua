-- Local file checks, done before any network call.
local errors = require("ion.upload.errors")

local files = {}

local function bad(message)
  return nil, errors.new("bad_input", message, { field = "path" })
end

-- The last component of a path ("a/b/c.jpg" -> "c.jpg").
function files.basename(path)
  local name = path:gsub("[/\\]+$", ""):match("([^/\\]+)$")
  return name or path
end

-- { size = } of a readable regular file | nil, err (bad_input).
-- stat: core.stat when the core is loaded; without it, plain io.
function files.check(path, stat)
  if path == "" then return bad("path is empty") end
  if stat then
    local st, serr = stat(path)
    if not st then
      local why = tostring(type(serr) == "table" and serr.message or serr or "cannot stat")
      return bad(why:find(path, 1, true) and why or (path .. ": " .. why))
    end
    if st.type == "directory" then return bad(path .. ": is a directory") end
    if st.type ~= "file" then return bad(path .. ": not a regular file (" .. tostring(st.type) .. ")") end
    if st.readable == false then return bad(path .. ": not readable") end
    return { size = st.size }
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
  return { size = size }
end

return files
