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
  concurrency = true, verify_md5 = true, ca_file = true, proxy = true, no_proxy = true, allow_http = true,
  limit_rate = true, on_request = true,
}

-- Longest timeout accepted, in seconds (about 11 days): the core turns it into
-- milliseconds in a C long, which a bigger value would overflow.
config.max_seconds = 1e6
-- Highest limit_rate accepted (about 1 PB/s, the core's ceiling): any real
-- cap is far below; infinity and NaN are refused.
config.max_rate = 1e15

-- Proxy schemes libcurl knows; without a scheme it would guess http.
local proxy_schemes = { http = true, https = true, socks4 = true, socks4a = true, socks5 = true, socks5h = true }

local function bad(field, message, hint)
  local fields = { field = field, hint = hint or ("Fix the field " .. field .. " of the table given to upload.new") }
  if not known[field] then return nil, errors.new("bad_input", field .. ": " .. message, fields) end
  -- A known field's name is ours, prefixed after the scrub: "client_secret: x" reads as a credential
  local e = errors.new("bad_input", message, fields)
  e.message = field .. ": " .. e.message
  return nil, e
end

local function is_url(s)
  return type(s) == "string" and (s:match("^https?://[^/%s]+") ~= nil)
end

local function nonempty_string(v)
  return type(v) == "string" and v ~= ""
end

-- The host of a URL: lowercased, without userinfo, port or IPv6 brackets.
local function url_host(url)
  local authority = url:match("^[%a][%w+.-]*://([^/?#]*)") or ""
  authority = authority:match("([^@]*)$")
  if authority:sub(1, 1) == "[" then return (authority:match("^%[([^%]]*)%]") or ""):lower() end
  return (authority:match("^[^:]*")):lower()
end

local function loopback(host)
  if host == "localhost" or host == "::1" then return true end
  local a, b, c, d = host:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  return a ~= nil and tonumber(a) == 127 and tonumber(b) <= 255 and tonumber(c) <= 255 and tonumber(d) <= 255
end

-- Plain http carries the token or the client secret in clear: only to a
-- loopback host, unless allow_http says the network is trusted.
local function refuse_plain_http(field, url, allow, what)
  if allow or url:sub(1, 7) ~= "http://" or loopback(url_host(url)) then return nil end
  return bad(field, "plain http:// would send " .. what .. " in clear to a host that is not loopback",
    "Use an https:// URL, or set allow_http = true in upload.new if this network is trusted")
end

local function seconds(v)
  if type(v) ~= "number" or v ~= v or v <= 0 or v > config.max_seconds then
    return nil, "expected a positive number of seconds, at most " .. string.format("%d", config.max_seconds)
  end
  return v
end

local function whole(min, max)
  return function(v)
    if type(v) ~= "number" or v ~= math.floor(v) or v < min or v > max then
      return nil, "expected a whole number from " .. min .. " to " .. max
    end
    return v
  end
end

-- The checks of the settings a person tunes, one per field: value | nil,
-- why ("expected …"), hint. The CLI reads its flags and profiles with them.
local fields = {
  timeout = seconds,
  stall_timeout = seconds,
  retries = whole(0, 1000),
  concurrency = whole(1, 1000),
  ca_file = function(v)
    if not nonempty_string(v) then return nil, "expected a path" end
    local f = io.open(v, "rb")
    if not f then return nil, "cannot read " .. v end
    f:close()
    return v
  end,
  limit_rate = function(v)
    if type(v) ~= "number" or v ~= math.floor(v) or v < 1 or v > config.max_rate then
      return nil, "expected a whole number of bytes per second, at least 1",
        "Give limit_rate in bytes per second, e.g. 2 * 1024 * 1024 for 2 MiB/s, or leave it out for no cap"
    end
    return v
  end,
}

--- One setting checked: value | nil, why, hint (name: timeout, stall_timeout,
-- retries, concurrency, ca_file or limit_rate).
function config.field(name, v)
  return fields[name](v)
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
  if cfg.allow_http ~= nil and type(cfg.allow_http) ~= "boolean" then
    return bad("allow_http", "expected a boolean")
  end
  out.allow_http = cfg.allow_http or nil

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
    local _, perr = refuse_plain_http("endpoint", cfg.endpoint, cfg.allow_http, "the bearer token")
    if perr then return nil, perr end
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
      local _, perr = refuse_plain_http("auth_url", cfg.auth_url, cfg.allow_http, "the client secret")
      if perr then return nil, perr end
      out.auth_url = cfg.auth_url
    elseif env then
      -- ION publishes two forms of this URL: the other is tried once on a 404
      out.auth_url, out.auth_url_other = env.auth_url, env.auth_url_other
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
  for _, k in ipairs({ "timeout", "stall_timeout", "retries", "concurrency", "ca_file", "limit_rate" }) do
    if cfg[k] ~= nil then
      local v, why, hint = config.field(k, cfg[k])
      if v == nil then return bad(k, why, hint) end
      out[k] = v
    end
  end
  if cfg.verify_md5 ~= nil then
    if type(cfg.verify_md5) ~= "boolean" then return bad("verify_md5", "expected a boolean") end
    out.verify_md5 = cfg.verify_md5
  end
  if cfg.on_request ~= nil then
    if type(cfg.on_request) ~= "function" then return bad("on_request", "expected a function") end
    out.on_request = cfg.on_request
  end
  if cfg.proxy ~= nil then
    local scheme = type(cfg.proxy) == "string" and cfg.proxy:match("^([%a][%w+.-]*)://[^/%s]")
    if not scheme or not proxy_schemes[scheme:lower()] or cfg.proxy:find("[%c%s]") then
      -- the value is not echoed: it may hold the proxy's password
      return bad("proxy", "expected a proxy URL such as http://host:port "
        .. "(schemes: http, https, socks4, socks4a, socks5, socks5h)")
    end
    out.proxy = cfg.proxy
  end
  if cfg.no_proxy ~= nil then
    if type(cfg.no_proxy) ~= "string" or cfg.no_proxy:find("%c") then
      return bad("no_proxy", "expected a string: hosts or domains separated by commas, as curl's no_proxy")
    end
    out.no_proxy = cfg.no_proxy
  end
  return out
end

return config
