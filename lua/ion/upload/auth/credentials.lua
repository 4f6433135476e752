-- Credentials for the GraphQL endpoint: a static token, a token function, or
-- OAuth2 client credentials fetched from the token endpoint, cached, refreshed
-- before expires_in runs out and once more after a 401.
local auth_async = require("ion.upload.auth.shared_fetch")
local cjson = require("cjson.safe")
local errors = require("ion.upload.errors")
local retry = require("ion.upload.retry")
local transport = require("ion.upload.transport")

local auth = {}

local Provider = { __name = "ion.upload.auth.credentials" }
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
  p.shared = auth_async.new(p) -- the jobs' token: one fetch at a time, shared
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

-- The core request of one POST to the token endpoint at url.
local function token_request(p, ctx, url)
  return transport.with_options(ctx.cfg, {
    url = url,
    method = "POST",
    body = form({
      { "grant_type", "client_credentials" },
      { "client_id", p.client_id },
      { "client_secret", p.client_secret },
      { "audience", p.audience },
    }),
    headers = {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Accept"] = "application/json",
      ["User-Agent"] = ctx.user_agent,
    },
  })
end

-- What the token endpoint answered: { token =, expires_in = } | nil, err.
local function token_answer(res, cerr)
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

local NOT_FOUND_HINT = "Give auth_url (ION_AUTH_URL) with the token URL your ION administrator gives"

-- One fetch of a token, written once for both ways of waiting: `send(req,
-- on_answer)` moves one POST (blocking, or as a transfer of a job), `later
-- (delay, fn)` waits before a retry (a sleep, or a timer of the job).
-- A 404 from a named environment's token URL tries its other published form,
-- once per client, and keeps it if it exists (answers anything but 404).
-- Transient failures are retried up to cfg.retries. done(t | nil, err).
local function fetch(p, ctx, send, later, done)
  local attempt = 0
  local try
  local function after(t, err)
    if t then return done(t) end
    if attempt >= ctx.cfg.retries or not retry.may_resend(err, true) then return done(nil, err) end
    attempt = attempt + 1
    later(retry.delay(attempt, ctx.random, err.retry_after), try)
  end
  local function other_form(err)
    local other = p.auth_url_other
    p.auth_url_other = nil
    send(token_request(p, ctx, other), function(res, cerr)
      local t, oerr = token_answer(res, cerr)
      if t or (oerr.status and oerr.status ~= 404) then
        p.auth_url = other
        return after(t, oerr)
      end
      if oerr.status == 404 then
        return after(nil, errors.new("auth", "token endpoint not found (HTTP 404) at either published form of the "
          .. "environment's token URL", { status = 404, hint = NOT_FOUND_HINT }))
      end
      return after(nil, err)
    end)
  end
  try = function()
    send(token_request(p, ctx, p.auth_url), function(res, cerr)
      local t, err = token_answer(res, cerr)
      if not t and err.status == 404 and p.auth_url_other then return other_form(err) end
      return after(t, err)
    end)
  end
  try()
end

-- Keeps a fetched token until its expiry (less the margin).
local function keep(p, ctx, t)
  p.cached = t.token
  p:_remember(t.token)
  if t.expires_in and t.expires_in > 0 then
    p.expires_at = ctx.core().now() + t.expires_in - auth.refresh_margin(t.expires_in)
  else
    p.expires_at = nil -- no lifetime given: kept until a 401
  end
end

-- The token to send now, when it needs no request: token | nil, err | nil
-- (a fetch is needed). A token function is called here.
function Provider:ready(ctx)
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
  if self.cached and (not self.expires_at or ctx.core().now() < self.expires_at) then
    return self.cached
  end
  self.cached = nil
  return nil
end

-- The token to send now, blocking on the token endpoint when one is needed
-- (the blocking calls): token | nil, err.
function Provider:token(ctx)
  local token, err = self:ready(ctx)
  if token or err then return token, err end
  local out, oerr
  fetch(self, ctx, function(req, on_answer) on_answer(ctx.transport:request(req)) end,
    function(delay, fn)
      ctx.core().sleep(delay)
      fn()
    end,
    function(t, ferr) out, oerr = t, ferr end)
  if not out then return nil, oerr end
  keep(self, ctx, out)
  return out.token
end

-- One fetch of a token, and keeping what it fetched: for the shared fetch
-- of the jobs (auth_async.lua).
function Provider:fetch(ctx, send, later, done) return fetch(self, ctx, send, later, done) end
function Provider:keep(ctx, t) return keep(self, ctx, t) end

-- The token without blocking (a job's): the shared fetch's (auth_async.lua
-- says how a job waits for it, leaves it, and fires its retry).
function Provider:token_async(ctx, on_token) return self.shared:token(ctx, on_token) end
function Provider:leave(ctx, w) return self.shared:leave(ctx, w) end
function Provider:retry_at() return self.shared:retry_at() end
function Provider:fire_due(now) return self.shared:fire_due(now) end
function Provider:fetching() return self.shared:fetching() end

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
