-- Runs a child process as the user nobody, for specs that need a file its
-- reader may not open (root reads anything). nobody may be unable to enter
-- the checkout (a clone in /root is mode 700), so the child gets its own
-- copy of the built core, the Lua modules and the CLI, in a temporary
-- folder everyone can read (the spec removes it: M.remove).
local M = {}

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end

M.prefix = "setpriv --reuid=nobody --regid=nogroup --clear-groups"

-- The first file a search path template list finds for module name
-- (package.searchpath, which Lua 5.1 lacks).
local function search(name, templates)
  local file = name:gsub("%.", "/")
  for t in templates:gmatch("[^;]+") do
    local p = t:gsub("%?", file)
    local f = io.open(p, "rb")
    if f then
      f:close()
      return p
    end
  end
end

-- The staged folder: dir/lua/ (modules), dir/build/ion/upload/core.so (the
-- core this run loaded), dir/bin/ion-upload (finds ../lua and ../build).
-- nil and why when it cannot be arranged.
function M.stage()
  local reason
  if not sh("test \"$(id -u)\" = 0") then
    return nil, "only root can start a child as nobody"
  end
  if not sh("command -v setpriv >/dev/null && id nobody >/dev/null 2>&1") then
    reason = "setpriv or the nobody user is missing"
    return nil, reason
  end
  local core = search("ion.upload.core", package.cpath)
  local front = search("ion.upload", package.path)
  if not core or not front then
    reason = "the built core or the Lua modules are not on the search paths"
    return nil, reason
  end
  local lua_root = front:gsub("/ion/upload%.lua$", "")
  local bin = lua_root .. "/../bin/ion-upload"
  local p = io.popen("mktemp -d")
  local dir = p:read("*l")
  p:close()
  local ok = dir and sh(table.concat({
    "mkdir -p " .. q(dir .. "/lua") .. " " .. q(dir .. "/build/ion/upload") .. " " .. q(dir .. "/bin"),
    "cp -R " .. q(lua_root .. "/ion") .. " " .. q(dir .. "/lua/"),
    "cp " .. q(core) .. " " .. q(dir .. "/build/ion/upload/core.so"),
    "cp " .. q(bin) .. " " .. q(dir .. "/bin/ion-upload"),
    "chmod -R u=rwX,go=rX " .. q(dir),
  }, " && "))
  -- Its parents may still shut nobody out (TMPDIR inside a private folder).
  if ok and not sh(M.prefix .. " test -r " .. q(dir .. "/build/ion/upload/core.so")) then
    ok = false
    reason = "nobody cannot read the staged copy in " .. dir .. " (set TMPDIR to a folder others may enter)"
  end
  if not ok then
    if dir then sh("rm -rf " .. q(dir)) end
    reason = reason or "could not copy the core and modules for nobody"
    io.stderr:write("as_nobody: ", reason, "\n")
    return nil, reason
  end
  return dir
end

function M.remove(dir)
  if dir then sh("rm -rf " .. q(dir)) end
end

-- Environment for a child Lua: the staged modules and core only.
function M.env(dir)
  return "LUA_PATH=" .. q(dir .. "/lua/?.lua;" .. dir .. "/lua/?/init.lua;;") .. " LUA_CPATH="
    .. q(dir .. "/build/?.so;;")
end

-- Runs the staged CLI as nobody against the sandbox: { code, stdout, stderr }.
function M.cli(dir, args)
  local run = require("support.cli_run")
  local words = {}
  for _, a in ipairs(args) do words[#words + 1] = q(a) end
  local out, err = os.tmpname(), os.tmpname()
  local p = io.popen(string.format("cd %s && %s %s %s %s %s %s >%s 2>%s; echo $?", q(dir), run.env_prefix(),
    M.env(dir), M.prefix, require("support.interpreter"), q(dir .. "/bin/ion-upload"), table.concat(words, " "),
    q(out), q(err)))
  local code = tonumber(p:read("*l"))
  p:close()
  local r = { code = code, stdout = run.read(out), stderr = run.read(err) }
  os.remove(out)
  os.remove(err)
  return r
end

M.quote = q
return M
