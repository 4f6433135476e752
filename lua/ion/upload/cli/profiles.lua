-- Named profiles for the CLI (README.md, "Profiles"): the endpoint and
-- where the credentials come from, in $XDG_CONFIG_HOME/ion-upload/config.lua
-- (default ~/.config/ion-upload/config.lua). The library reads no file and no
-- variable: this is the CLI's. Secrets are read here and never printed: every
-- message names a file or a program, never what it holds or wrote.
local settings = require("ion.upload.config") -- the library's checks of its settings
local environments = require("ion.upload.environments")
local rate = require("ion.upload.cli.rate_value")

local profiles = {}

local MAX_CONFIG = 1024 * 1024
local MAX_SECRET = 64 * 1024
local DEFAULT_COMMAND_TIMEOUT = 30

local KEYS = {
  endpoint = "string", environment = "string", auth_url = "string", token_file = "string",
  client_id = "string", client_secret_file = "string", token_command = "table", token_command_timeout = "number",
  limit_rate = "string", -- as --limit-rate: "2M"
  ca_file = "string", timeout = "number", stall_timeout = "number", retries = "number", -- as upload.new's
}

--- The config file's path from the environment (getenv like os.getenv):
-- path | nil, message.
function profiles.config_path(getenv)
  local xdg = getenv("XDG_CONFIG_HOME")
  if xdg and xdg:sub(1, 1) == "/" then return xdg:gsub("/+$", "") .. "/ion-upload/config.lua" end
  local home = getenv("HOME")
  if not home or home == "" then
    return nil, "no config folder: set XDG_CONFIG_HOME or HOME (profiles live in ion-upload/config.lua there)"
  end
  return home:gsub("/+$", "") .. "/.config/ion-upload/config.lua"
end

local function read_all(path, max)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read(max + 1)
  f:close()
  if s and #s > max then return nil, path .. ": larger than " .. max .. " bytes" end
  return s or ""
end

-- Runs the config chunk with an empty environment: no globals, no require,
-- no io; text only (a precompiled chunk could do anything to the VM).
local function run_chunk(text, path)
  if text:byte(1) == 27 then return nil, "it is precompiled Lua: write it as text" end
  local env = {}
  local chunk, err
  if setfenv then -- Lua 5.1 / LuaJIT
    chunk, err = loadstring(text, "@" .. path)
    if chunk then setfenv(chunk, env) end
  else
    chunk, err = load(text, "@" .. path, "t", env)
  end
  if not chunk then return nil, err end
  local ok, value = pcall(chunk)
  if not ok then return nil, tostring(value) end
  return value
end

local function check_profile(name, p, where)
  if type(p) ~= "table" then return nil, where .. ": profile '" .. name .. "' must be a table" end
  for k, v in pairs(p) do
    if not KEYS[k] then
      return nil, where .. ": profile '" .. tostring(name) .. "' has an unknown key '" .. tostring(k) .. "'"
    end
    if type(v) ~= KEYS[k] then
      return nil, where .. ": profile '" .. name .. "': " .. k .. " must be a " .. KEYS[k]
    end
  end
  if p.endpoint and p.environment then
    return nil, where .. ": profile '" .. name .. "' gives both endpoint and environment: keep one"
  end
  if p.environment and not environments.get(p.environment) then
    return nil, where .. ": profile '" .. name .. "': unknown environment '" .. p.environment .. "' (one of "
      .. table.concat(environments.names(), ", ") .. ")"
  end
  local kinds = {}
  if p.token_file then kinds[#kinds + 1] = "token_file" end
  if p.token_command then kinds[#kinds + 1] = "token_command" end
  if p.client_id or p.client_secret_file then kinds[#kinds + 1] = "client_id" end
  if #kinds > 1 then
    return nil, where .. ": profile '" .. name .. "' gives " .. kinds[1] .. " and " .. kinds[2]
      .. ": give one kind of credential"
  end
  if (p.client_id == nil) ~= (p.client_secret_file == nil) then
    return nil, where .. ": profile '" .. name .. "' needs both client_id and client_secret_file"
  end
  if p.token_command then
    local n = 0
    for _ in pairs(p.token_command) do n = n + 1 end
    if n == 0 or n ~= #p.token_command then
      return nil, where .. ": profile '" .. name .. "': token_command must be a list like { \"pass\", \"show\", "
        .. "\"ion/prod\" }"
    end
    for i, a in ipairs(p.token_command) do
      if type(a) ~= "string" then
        return nil, where .. ": profile '" .. name .. "': token_command[" .. i .. "] must be a string"
      end
    end
  end
  local t = p.token_command_timeout
  if t and not (t > 0 and t <= 3600) then
    return nil, where .. ": profile '" .. name .. "': token_command_timeout must be from 0 to 3600 seconds"
  end
  if p.limit_rate then
    local _, rerr = rate.parse(p.limit_rate, "limit_rate")
    if rerr then return nil, where .. ": profile '" .. name .. "': " .. rerr end
  end
  for _, k in ipairs({ "timeout", "stall_timeout", "retries" }) do
    local ok, why = true, nil
    if p[k] ~= nil then ok, why = settings.field(k, p[k]) end
    if not ok then return nil, where .. ": profile '" .. name .. "': " .. k .. ": " .. why end
  end
  return true
end

--- Reads the config file: { path =, profiles = { name = profile } } | nil,
-- message. A missing file is an error only for a caller that needs it.
-- core: for stat (a config others may write could run any token_command).
function profiles.load(path, core)
  local st = core.stat(path)
  if not st then return nil, "no config file " .. path .. " (profiles live there: see ion-upload --help)" end
  local mode = st.mode or 0
  if math.floor(mode / 16) % 2 == 1 or math.floor(mode / 2) % 2 == 1 then -- g+w or o+w
    return nil, "config file " .. path .. " may be changed by group or others; it can name a program to run: "
      .. "chmod go-w " .. path
  end
  local text, rerr = read_all(path, MAX_CONFIG)
  if not text then return nil, "cannot read config file " .. tostring(rerr) end
  local value, err = run_chunk(text, path)
  if err then return nil, "bad config file " .. path .. ": " .. err end
  if type(value) ~= "table" or type(value.profiles) ~= "table" then
    return nil, "bad config file " .. path .. ": it must return { profiles = { NAME = { ... } } }"
  end
  for name, p in pairs(value.profiles) do
    if type(name) ~= "string" then return nil, "bad config file " .. path .. ": profile names must be strings" end
    local ok, perr = check_profile(name, p, "bad config file " .. path)
    if not ok then return nil, perr end
  end
  return { path = path, profiles = value.profiles }
end

--- The names of the profiles, sorted.
function profiles.names(config)
  local names = {}
  for name in pairs(config.profiles) do names[#names + 1] = name end
  table.sort(names)
  return names
end

-- ~/x is in HOME; a relative path is relative to the config file's folder.
local function resolve_path(config, file, getenv)
  if file:sub(1, 2) == "~/" then return (getenv("HOME") or "") .. file:sub(2) end
  if file:sub(1, 1) == "/" then return file end
  return (config.path:match("^(.*)/[^/]*$") or ".") .. "/" .. file
end

local function trim_newline(s)
  return (s:gsub("\r?\n$", ""))
end

-- Like ssh with a private key: a secret others may read is refused.
local function read_secret(path, what, core)
  local st, serr = core.stat(path)
  if not st then
    return nil, "cannot read " .. what .. " " .. tostring(type(serr) == "table" and serr.message or serr)
  end
  if st.type ~= "file" then return nil, what .. " " .. path .. " is not a regular file" end
  if st.mode % 64 ~= 0 then
    return nil, string.format("%s %s is readable by group or others (mode %03o): run chmod 600 %s", what, path,
      st.mode % 512, path)
  end
  local s, err = read_all(path, MAX_SECRET)
  if not s then return nil, "cannot read " .. what .. " " .. tostring(err) end
  s = trim_newline(s)
  if s == "" then return nil, what .. " " .. path .. " is empty" end
  return s
end

local function run_command(name, p, core)
  local prog = p.token_command[1]
  local r, err = core.run_capture(p.token_command, {
    timeout = p.token_command_timeout or DEFAULT_COMMAND_TIMEOUT, max_output = MAX_SECRET })
  local what = "token_command of profile '" .. name .. "' (" .. prog .. ")"
  if not r then
    local e = type(err) == "table" and err or { message = tostring(err) }
    if e.code == "timeout" then
      return nil, what .. " did not finish within " .. (p.token_command_timeout or DEFAULT_COMMAND_TIMEOUT)
        .. " s (token_command_timeout sets the limit)"
    end
    return nil, what .. " failed: " .. tostring(e.message)
  end
  if r.status ~= 0 then
    local how = r.signal and ("was killed by signal " .. r.signal) or ("exited with status " .. tostring(r.status))
      .. (r.status == 127 and " (not found?)" or "")
    return nil, what .. " " .. how
  end
  local token = trim_newline(r.stdout)
  if token == "" then return nil, what .. " printed no token" end
  if token:find("[%c ]") then return nil, what .. " printed more than one line or a space: expected only a token" end
  return token
end

--- The settings of one profile, secrets read: { endpoint =, environment =,
-- auth_url =, token = } or { ..., client_id =, client_secret = } | nil,
-- message. env: { core =, getenv = }.
function profiles.resolve(config, name, env)
  local p = config.profiles[name]
  if not p then
    local names = profiles.names(config)
    return nil, "no profile '" .. name .. "' in " .. config.path .. (#names > 0 and " (profiles: "
      .. table.concat(names, ", ") .. ")" or " (it defines none)")
  end
  local out = { name = name, endpoint = p.endpoint, environment = p.environment, auth_url = p.auth_url,
    client_id = p.client_id, limit_rate = p.limit_rate and rate.parse(p.limit_rate, "limit_rate"),
    timeout = p.timeout, stall_timeout = p.stall_timeout, retries = p.retries }
  local err
  if p.ca_file then
    local why
    out.ca_file, why = settings.field("ca_file", resolve_path(config, p.ca_file, env.getenv))
    if not out.ca_file then return nil, "profile '" .. name .. "': ca_file: " .. why end
  end
  if p.token_file then
    out.token, err = read_secret(resolve_path(config, p.token_file, env.getenv), "token file", env.core)
  elseif p.client_secret_file then
    out.client_secret, err = read_secret(resolve_path(config, p.client_secret_file, env.getenv),
      "client secret file", env.core)
  elseif p.token_command then
    out.token, err = run_command(name, p, env.core)
  end
  if err then return nil, err end
  return out
end

--- The profile a command uses: name (its --profile) or else ION_PROFILE,
-- secrets read: profile | nil (none named) | false, message.
function profiles.chosen(name, getenv, core)
  if name == nil or name == "" then name = getenv("ION_PROFILE") end
  if name == nil or name == "" then return nil end
  local path, perr = profiles.config_path(getenv)
  if not path then return false, perr end
  local config, err = profiles.load(path, core)
  if not config then return false, "profile '" .. name .. "': " .. err end
  local profile, rerr = profiles.resolve(config, name, { core = core, getenv = getenv })
  if not profile then return false, rerr end
  return profile
end

--- Lines describing every profile, without any secret: the kind of
-- credential and the file or program it comes from, never its content.
function profiles.describe(config, getenv)
  local lines = {}
  for _, name in ipairs(profiles.names(config)) do
    local p = config.profiles[name]
    -- (a user:password@ in the URL is not printed either)
    local where = p.endpoint and ("endpoint " .. p.endpoint:gsub("//[^/@]*@", "//…@"))
      or p.environment and ("environment " .. p.environment) or "endpoint from ION_API_URL"
    local cred
    if p.token_file then
      cred = "token from file " .. resolve_path(config, p.token_file, getenv)
    elseif p.client_secret_file then
      cred = "client " .. p.client_id .. ", secret from file " .. resolve_path(config, p.client_secret_file, getenv)
    elseif p.token_command then
      cred = "token from program " .. p.token_command[1]
    else
      cred = "credentials from the environment"
    end
    lines[#lines + 1] = name .. "  " .. where .. "; " .. cred
  end
  return lines
end

return profiles
