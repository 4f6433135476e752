-- ion.upload.status: the status server of a watch (`ion-upload watch
-- --status ADDR`, client:watch's `status` option): GET /metrics (status/
-- metrics.lua), GET /healthz, GET / (status/page.lua). It runs inside the
-- watch's own loop: attach() adds the server's descriptors to the watch's
-- fds(), its deadlines to the watch's timeout, and its turn to each step.
-- No thread, no blocking call (status/server.lua).
--
-- It binds loopback unless the address names another interface, and then
-- only with `status_token_file` (mode 0600): the token is asked as a bearer
-- token or ?token=, compared in constant time. Nothing shown is a secret:
-- job:stats()'s counts, file names, targets, attachment ids, errors (the
-- engine scrubs them), never the token, a URL or the journal.
local errors = require("ion.upload.errors")
local metrics = require("ion.upload.status.metrics")
local page = require("ion.upload.status.page")
local recent_mod = require("ion.upload.status.recent")
local server_mod = require("ion.upload.status.server")

local status = {}

status.default_unhealthy_after = 600

local CSP = "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
  .. "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
local HTML = { "Content-Type: text/html; charset=utf-8", CSP, "Referrer-Policy: no-referrer",
  "X-Frame-Options: DENY" }
local PLAIN = { "Content-Type: text/plain; charset=utf-8", CSP }

local function bad(message, field, hint)
  return nil, errors.new("bad_input", "status: " .. message, { field = field, hint = hint })
end

--- Equal strings, in a time that does not depend on where they differ.
function status.same_secret(a, b)
  local diff = #a == #b and 0 or 1
  for i = 1, #b do
    if (a:byte(i) or 0) ~= b:byte(i) then diff = diff + 1 end
  end
  return diff == 0
end

-- The token of a file only its owner may read.
local function read_token(core, path)
  local st = core.stat(path)
  if not st or st.type ~= "file" then
    return bad(path .. ": no such file", "status_token_file", "Give a file that holds the token")
  end
  if st.mode % 64 ~= 0 then
    return bad(string.format("%s is readable by group or others (mode %03o)", path, st.mode % 512),
      "status_token_file", "Run chmod 600 " .. path)
  end
  local f = io.open(path, "rb")
  local text = f and f:read("*a")
  if f then f:close() end
  local token = text and text:match("^%s*(%S+)%s*$")
  if not token or #token < 16 then
    return bad(path .. ": no token in it (one word of 16 characters or more)", "status_token_file",
      "Write a long random token into it, e.g. head -c 24 /dev/urandom | base64 > " .. path)
  end
  return token
end

-- %XX escapes of a query value decoded.
local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function query_token(query)
  for pair in query:gmatch("[^&]+") do
    if pair:sub(1, 6) == "token=" then return unescape(pair:sub(7)) end
  end
  return nil
end

local function authorized(token, req, query)
  if not token then return true end
  local given = req.authorization:match("^[Bb]earer +(%S+)$") or query_token(query)
  return given ~= nil and status.same_secret(given, token)
end

--- The health of a watch: ok, one line.
function status.health(w, unhealthy_after)
  local st = w.core.stat(w.root)
  if not st or st.type ~= "directory" then return false, "the watched folder is gone: " .. w.root end
  local reason = w:stop_reason()
  if reason then return false, "the watch stopped: " .. tostring(reason.message) end
  local outage = w.outage -- watch/outage.lua: the wait for ION
  if outage:waiting() and w.core.now() - outage:began_at() >= unhealthy_after then
    return false, string.format("waiting for ION since %s (%s)", os.date("%Y-%m-%d %H:%M:%S", outage:since()),
      outage:reason())
  end
  return true, outage:waiting() and "ok (waiting for ION for less than " .. unhealthy_after .. " s)" or "ok"
end

local function state_text(w, s)
  if w.outage:waiting() then return "waiting for ION since " .. os.date("%H:%M:%S", w.outage:since()) end
  if w:done() then return "stopped" end
  if s.files_queued > 0 then return "working" end
  return "idle"
end

function status.routes(w, token, unhealthy_after, recent, version)
  return function(req)
    local path, query = req.target:match("^([^?]*)%??(.*)$")
    if req.method ~= "GET" then
      return 405, { "Allow: GET", PLAIN[1] }, "only GET\n"
    end
    if not authorized(token, req, query) then
      return 401, { PLAIN[1], 'WWW-Authenticate: Bearer realm="ion-upload"' }, "a token is needed\n"
    end
    if path == "/metrics" then
      return 200, { "Content-Type: " .. metrics.content_type }, metrics.render(w:stats(), version)
    elseif path == "/healthz" then
      local ok, why = status.health(w, unhealthy_after)
      return ok and 200 or 503, PLAIN, why .. "\n"
    elseif path == "/" then
      local s = w:stats()
      local healthy = status.health(w, unhealthy_after) and not w.outage:waiting()
      return 200, HTML, page.render({ folder = w.root, state = state_text(w, s), healthy = healthy,
        stats = s, queue = recent:queued(), files = recent.files, errors = recent.errors,
        series = recent:series(), version = version })
    end
    return 404, PLAIN, "not found\n"
  end
end

local function check(opts)
  local o = { addr = opts.status, token_file = opts.status_token_file,
    unhealthy_after = opts.unhealthy_after == nil and status.default_unhealthy_after or opts.unhealthy_after }
  if type(o.addr) ~= "string" then
    return bad("status must be an address such as 127.0.0.1:9464", "status", "Give HOST:PORT")
  end
  if o.token_file ~= nil and type(o.token_file) ~= "string" then
    return bad("status_token_file must be a path", "status_token_file", "Give the path of a file of mode 0600")
  end
  if type(o.unhealthy_after) ~= "number" or o.unhealthy_after <= 0 or o.unhealthy_after ~= o.unhealthy_after then
    return bad("unhealthy_after must be a number of seconds > 0", "unhealthy_after", "Such as 600")
  end
  return o
end

-- The server as one of the watch's services (watch/services.lua): it turns
-- with the watch's loop, its descriptors among the watch's.
local Service = {}
Service.__index = Service

function Service:step(_, now) self.srv:step(now) end
function Service:event(ev) self.recent:observe(ev) end
function Service:fds(r, wr) self.srv:fds(r, wr) end
function Service:close() self.srv:close() end

function Service:due(now)
  local at = self.srv:next_due()
  return at and math.max(0, at - now) or math.huge
end

--- status.attach(w, opts, version) -> w | nil, err: the status server of
-- watch w, with client:watch's options `status` (HOST:PORT),
-- `status_token_file` and `unhealthy_after` (seconds, default 600). On a
-- failure the watch is closed.
function status.attach(w, opts, version)
  local o, err = check(opts)
  local token
  if o and o.token_file then
    token, err = read_token(w.core, o.token_file)
    if not token then o = nil end
  end
  local recent = recent_mod.new()
  local srv
  if o then
    srv, err = server_mod.listen(w.core, o.addr,
      status.routes(w, token, o.unhealthy_after, recent, version or "unknown"))
  end
  if srv and not srv:loopback() and not token then
    srv:close()
    srv, err = nil, select(2, bad(o.addr .. " is not a loopback address: a token is needed", "status_token_file",
      "Give --status-token-file FILE (mode 0600), or bind 127.0.0.1"))
  end
  if not srv then
    w:close()
    return nil, err
  end
  w.status_server = srv
  w:serve(setmetatable({ srv = srv, recent = recent }, Service))
  return w
end

return status
