-- Validation of upload.new's table: a bad field is bad_input naming the field.
local errors = require("ion.upload.errors")
local environments = require("ion.upload.environments")

local config = {}

config.defaults = {
  timeout = 30,
  stall_timeout = 60,
  retries = 4,
  concurrency = 4,
  verify_md5 = true,
}

local known = {
  endpoint = true, environment = true, token = true, client_id = true, client_secret = true,
  auth_url = true, audience = true, timeout = true, stall_timeout = true, retries = true,
  concurrency = true, verify_md5 = true, ca_file = true,
}

local function bad(field, message)
  return nil, errors.new("bad_input", field .. ": " .. message,
    { field = field, hint = "Fix the field " .. field .. " of the table given to upload.new" })
end

local function is_url(s)
  return type(s) == "string" and (s:match("^https?://[^/%s]+") ~= nil)
end

local function nonempty_string(v)
  return type(v) == "string" and v ~= ""
end

-- Returns the normalised configuration, or nil, err (bad_input, err.field set).
function config.check(cfg)
  if type(cfg) ~= "table" then
    error("ion.upload.new: expected a table, got " .. type(cfg), 3)
  end
  local keys = {}
  for k in pairs(cfg) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for _, k in ipairs(keys) do
    if not known[k] then return bad(k, "unknown option") end
  end

  local out = {}
  for k, v in pairs(config.defaults) do out[k] = v end

  -- Where: an endpoint, or a named environment (the endpoint overrides it).
  local env
  if cfg.environment ~= nil then
    env = environments.get(cfg.environment)
    if not env then
      return bad("environment", "unknown environment " .. tostring(cfg.environment)
        .. " (one of " .. table.concat(environments.names(), ", ") .. ")")
    end
    out.environment = cfg.environment
  end
  if cfg.endpoint ~= nil then
    if not is_url(cfg.endpoint) then
      return bad("endpoint", "expected an http:// or https:// URL")
    end
    out.endpoint = cfg.endpoint
  elseif env then
    out.endpoint = env.endpoint
  else
    return bad("endpoint", "missing: give endpoint (the GraphQL URL) or environment")
  end

  -- Who: a token, a token function, or OAuth2 client credentials.
  local has_client = cfg.client_id ~= nil or cfg.client_secret ~= nil
  if cfg.token ~= nil then
    if type(cfg.token) == "function" then
      out.token_fn = cfg.token
    elseif nonempty_string(cfg.token) then
      out.token = cfg.token
    else
      return bad("token", "expected a non-empty string or a function returning one")
    end
    if has_client then
      return bad("token", "give either token or client credentials (client_id, client_secret), not both")
    end
  elseif has_client then
    if not nonempty_string(cfg.client_id) then return bad("client_id", "expected a non-empty string") end
    if not nonempty_string(cfg.client_secret) then return bad("client_secret", "expected a non-empty string") end
    out.client_id, out.client_secret = cfg.client_id, cfg.client_secret
    if cfg.auth_url ~= nil then
      if not is_url(cfg.auth_url) then return bad("auth_url", "expected an http:// or https:// URL") end
      out.auth_url = cfg.auth_url
    elseif env then
      out.auth_url = env.auth_url
    else
      return bad("auth_url", "missing: client credentials need auth_url (the token endpoint) or environment")
    end
    if cfg.audience ~= nil then
      if not nonempty_string(cfg.audience) then return bad("audience", "expected a non-empty string") end
      out.audience = cfg.audience
    end
  else
    return bad("token", "missing credential: give token (a string or a function) "
      .. "or client_id + client_secret")
  end
  if (cfg.auth_url ~= nil or cfg.audience ~= nil) and not has_client then
    return bad(cfg.auth_url ~= nil and "auth_url" or "audience", "only used with client_id and client_secret")
  end

  -- How.
  for _, k in ipairs({ "timeout", "stall_timeout" }) do
    local v = cfg[k]
    if v ~= nil then
      if type(v) ~= "number" or v ~= v or v <= 0 or v == math.huge then
        return bad(k, "expected a positive number of seconds")
      end
      out[k] = v
    end
  end
  for _, k in ipairs({ "retries", "concurrency" }) do
    local v = cfg[k]
    if v ~= nil then
      local min = k == "retries" and 0 or 1
      if type(v) ~= "number" or v ~= math.floor(v) or v < min or v > 1000 then
        return bad(k, "expected a whole number >= " .. min)
      end
      out[k] = v
    end
  end
  if cfg.verify_md5 ~= nil then
    if type(cfg.verify_md5) ~= "boolean" then return bad("verify_md5", "expected a boolean") end
    out.verify_md5 = cfg.verify_md5
  end
  if cfg.ca_file ~= nil then
    if not nonempty_string(cfg.ca_file) then return bad("ca_file", "expected a path") end
    local f = io.open(cfg.ca_file, "rb")
    if not f then return bad("ca_file", "cannot read " .. cfg.ca_file) end
    f:close()
    out.ca_file = cfg.ca_file
  end
  return out
end

return config
