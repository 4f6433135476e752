-- Temporary files for integration specs, and their MD5 by md5sum (an
-- independent check of what the core computes while streaming).
local files = {}

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
files.quote = q

function files.tmpdir()
  local p = io.popen("mktemp -d")
  local d = p:read("*l")
  p:close()
  return d
end

function files.write(dir, name, content)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

--- A tree of files under a new temporary folder: names[i] (relative paths,
-- folders made as needed) holding content(i). The folder, and names.
function files.tree(names, content)
  local dir, made = files.tmpdir(), {}
  for i, name in ipairs(names) do
    local folder = name:match("^(.*)/[^/]*$")
    if folder and not made[folder] then
      assert(os.execute("mkdir -p " .. q(dir .. "/" .. folder)))
      made[folder] = true
    end
    files.write(dir, name, content(i))
  end
  return dir, names
end

function files.md5(path)
  -- from stdin: md5sum escapes names with a backslash or newline in its output
  local p = io.popen("md5sum < " .. q(path) .. " 2>/dev/null")
  local out = p:read("*l") or ""
  p:close()
  return out:match("^(%x+)")
end

function files.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function files.rmdir(dir)
  if dir and dir:match("^/tmp/") then os.execute("rm -rf " .. q(dir)) end
end

return files
