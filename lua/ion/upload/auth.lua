-- Credentials for the GraphQL endpoint: a static token, a token function, or
-- OAuth2 client credentials fetched from the token endpoint, cached, refreshed
-- before expires_in runs out and once more after a 401.
local cjson = require("cjson.safe")
local errors = require("ion.upload.errors")
local retry = require("ion.upload.retry")

local auth = {}

local Provider = { __name = "ion.upload.auth" }
Provider.__index = Provider

-- A token fetched this long before expires_in runs out is refreshed:
-- a tenth of its lifetime, at most a minute.
auth.refresh_margin = function(expires_in) return math.min(60, expires_in * 0.1) end

function auth.new(cfg)
  local p = setmetatable({}, Provider)
  if cfg.token_fn then
    p.kind, p.fn = "function", cfg.token_fn
  elseif cfg.token then
    p.kind, p.static = "static", cfg.token
  else
    p.kind = "oauth"
    p.client_id, p.client_secret = cfg.client_id, cfg.client_secret
    p.auth_url, p.audience = cfg.auth_url, cfg.audience
    p.auth_url_other = cfg.auth_url_other -- a named environment's other published form
  end
  return p
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function form(fields)
  local parts = {}
  for _, kv in ipairs(fields) do
    if kv[2] ~= nil then parts[#parts + 1] = urlencode(kv[1]) .. "=" .. urlencode(kv[2]) end
  end
  return table.concat(parts, "&")
end

-- One POST to the token endpoint: { token =, expires_in = } | nil, err.
local function fetch_once(p, client, url)
  local body = form({
    { "grant_type", "client_credentials" },
    { "client_id", p.client_id },
    { "client_secret", p.client_secret },
    { "audience", p.audience },
  })
  local timeout = client.cfg.timeout
  local res, cerr = client:_session():request({
    url = url,
    method = "POST",
    body = body,
    headers = {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Accept"] = "application/json",
      ["User-Agent"] = client.user_agent,
    },
    timeout = timeout,
    connect_timeout = math.min(10, timeout),
    ca_file = client.cfg.ca_file,
    proxy = client.cfg.proxy,
    no_proxy = client.cfg.no_proxy,
  })
  if not res then return nil, errors.from_core(cerr, "token endpoint: ") end
  local status = res.status
  local payload = cjson.decode(res.body or "")
  if status == 429 then
    return nil, errors.new("rate_limited", "token endpoint answered 429", {
      status = status, retry_after = retry.parse_retry_after(res.headers and res.headers["retry-after"]) })
  end
  if status >= 500 then
    return nil, errors.new("http", "token endpoint answered HTTP " .. status, { status = status, retryable = true })
  end
  if status >= 400 then
    local why = ""
    if type(payload) == "table" then
      why = ": " .. tostring(payload.error_description or payload.error or "")
    end
    return nil, errors.new("auth", "token endpoint refused the client credentials (HTTP " .. status .. ")" .. why,
      { status = status })
  end
  if status < 200 or status >= 300 then
    return nil, errors.new("http", "token endpoint answered HTTP " .. status, { status = status })
  end
  if type(payload) ~= "table" then
    return nil, errors.new("protocol", "token endpoint did not answer JSON", { status = status })
  end
  if type(payload.access_token) ~= "string" or payload.access_token == "" then
    return nil, errors.new("protocol", "token endpoint answered without access_token", { status = status })
  end
  return { token = payload.access_token, expires_in = tonumber(payload.expires_in) }
end

-- A 404 from a named environment's token URL: try its other published form,
-- once per client, and keep it if it exists (answers anything but 404).
local function fetch_other_form(p, client, err)
  local other = p.auth_url_other
  p.auth_url_other = nil
  local t, oerr = fetch_once(p, client, other)
  if t or (oerr.status and oerr.status ~= 404) then
    p.auth_url = other
    return t, oerr
  end
  if oerr.status == 404 then
    return nil, errors.new("auth", "token endpoint not found (HTTP 404) at either published form of the "
      .. "environment's token URL", { status = 404,
        hint = "Give auth_url (ION_AUTH_URL) with the token URL your ION administrator gives" })
  end
  return nil, err
end

local function fetch(p, client)
  local attempt = 0
  while true do
    local t, err = fetch_once(p, client, p.auth_url)
    if not t and err.status == 404 and p.auth_url_other then
      t, err = fetch_other_form(p, client, err)
    end
    if t then return t end
    if attempt >= client.cfg.retries or not retry.may_resend(err, true) then return nil, err end
    attempt = attempt + 1
    retry.wait(client:_clock(), attempt, client._random, err)
  end
end

-- The token to send now: token | nil, err.
function Provider:token(client)
  if self.kind == "static" then return self.static end
  if self.kind == "function" then
    local ok, token, why = pcall(self.fn)
    if not ok then
      return nil, errors.new("aborted", "token function raised an error: " .. tostring(token))
    end
    if type(token) ~= "string" or token == "" then
      return nil, errors.new("auth", "token function returned no token"
        .. (why ~= nil and (": " .. tostring(why)) or ""))
    end
    self:_remember(token)
    return token
  end
  local now = client:_clock().now()
  if self.cached and (not self.expires_at or now < self.expires_at) then
    return self.cached
  end
  self.cached = nil
  local t, err = fetch(self, client)
  if not t then return nil, err end
  self.cached = t.token
  self:_remember(t.token)
  if t.expires_in and t.expires_in > 0 then
    self.expires_at = client:_clock().now() + t.expires_in - auth.refresh_margin(t.expires_in)
  else
    self.expires_at = nil -- no lifetime given: kept until a 401
  end
  return t.token
end

-- Can a 401 be cured by asking again? Not with a static token.
function Provider:can_refresh()
  return self.kind ~= "static"
end

-- Forget the cached token (after a 401).
function Provider:invalidate()
  self.cached, self.expires_at = nil, nil
end

-- The last few tokens handed out (a batch has several requests in flight,
-- each with the token of its time): secrets() covers them all.
local RECENT = 4
function Provider:_remember(token)
  self.recent = self.recent or {}
  for _, t in ipairs(self.recent) do
    if t == token then return end
  end
  table.insert(self.recent, 1, token)
  self.recent[RECENT + 1] = nil
end

-- Strings that must never appear in a message: a list without holes (a nil
-- in the middle would end an ipairs walk before the secrets after it).
function Provider:secrets()
  local out = {}
  local function add(s)
    if type(s) == "string" and s ~= "" then out[#out + 1] = s end
  end
  add(self.static)
  add(self.client_secret)
  add(self.cached)
  for _, t in ipairs(self.recent or {}) do add(t) end
  return out
end

return auth
