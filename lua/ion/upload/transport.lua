-- The client's one core session (one curl multi: connections reused by every
-- call and every job), and who is waiting for each transfer on it. A job adds
-- transfers with a callback; whoever steps the session hands every finished
-- transfer to its own callback, whichever job it belongs to. The blocking
-- calls run one transfer to its end on the same session (transfers of jobs
-- move meanwhile and are handed out at the next step).
local transport = {}

local Transport = {}
Transport.__index = Transport

--- req with the connection options of the configuration that every
-- request of a client carries (timeouts, CA file, proxy), set in place.
function transport.with_options(cfg, req)
  req.timeout = cfg.timeout
  req.connect_timeout = math.min(10, cfg.timeout)
  req.ca_file, req.proxy, req.no_proxy = cfg.ca_file, cfg.proxy, cfg.no_proxy
  return req
end

-- core(): the C core module (loaded on first use; unit specs stub it).
-- cfg: the client's checked configuration: limit_rate (bytes per second for
-- all PUTs and downloads of the session together), on_request (told of each
-- transfer that ends) and endpoint (a request to it is GraphQL's).
function transport.new(core, cfg)
  return setmetatable({ core = core, limit_rate = cfg.limit_rate, on_request = cfg.on_request,
    endpoint = cfg.endpoint, waiting = {}, started = {}, n = 0 }, Transport)
end

local METHOD = { put = "PUT", download = "GET" }

-- The host (and port) of a URL, without userinfo: never the path or the
-- query (a signed URL's query is its credential). At most 255 bytes.
local function host_of(url)
  local authority = tostring(url):match("^%a[%w+.-]*://([^/?#]*)") or ""
  return (authority:match("([^@]*)$")):sub(1, 255)
end

-- Tells on_request of a transfer that ended (its errors are dropped: a log
-- line must not fail an upload).
function Transport:report(what, req, started, res, err)
  local info = {
    kind = METHOD[what] and what or (req.url == self.endpoint and "graphql" or "token"),
    method = req.method or METHOD[what] or "GET",
    host = host_of(req.url),
    status = res and res.status or (type(err) == "table" and err.status or nil),
    seconds = self.core().now() - started,
    error = not res and (type(err) == "table" and err.code or tostring(err)) or nil,
  }
  pcall(self.on_request, info)
end

-- The session, opened on first use. No connection limits of its own: every
-- job caps its transfers at its concurrency, the blocking calls run one at a time.
function Transport:session()
  if not self.sess then self.sess = self.core().session({ limit_rate = self.limit_rate }) end
  return self.sess
end

-- Starts a transfer ("request", "put" or "download"): its id, or nil when the
-- core refuses it (a file gone, a header it will not send): then on_done(nil,
-- err) has run already, nothing was sent.
function Transport:add(what, req, on_done)
  local id, err = self:session():add(what, req)
  if not id then
    on_done(nil, err)
    return nil
  end
  self.waiting[id] = on_done
  if self.on_request then self.started[id] = { what, req, self.core().now() } end
  self.n = self.n + 1
  return id
end

-- Cancels a transfer: its callback gets the failure ("aborted") at a step.
function Transport:cancel(id)
  if self.sess then self.sess:cancel(id) end
end

-- Cancels a transfer whose owner lets it go: its callback is not called.
function Transport:drop(id)
  if self.waiting[id] then
    self.waiting[id] = nil
    self.started[id] = nil
    self.n = self.n - 1
  end
  if self.sess then self.sess:cancel(id) end
end

-- Transfers in flight on behalf of jobs.
function Transport:busy()
  return self.n > 0
end

-- Waits at most `timeout` seconds for transfers to finish and hands each to
-- its callback. The number handed out.
function Transport:step(timeout)
  local done = self:session():step(timeout)
  local n = 0
  for _, d in ipairs(done or {}) do
    local on_done = self.waiting[d.id]
    if on_done then
      self.waiting[d.id] = nil
      self.n = self.n - 1
      n = n + 1
      local s = self.started[d.id]
      if s then
        self.started[d.id] = nil
        self:report(s[1], s[2], s[3], d.res, d.err)
      end
      on_done(d.res, d.err)
    end
  end
  return n
end

function Transport:timeout()
  return self:session():timeout()
end

function Transport:fds()
  return self:session():fds()
end

-- Blocking transfers: res | nil, core err.
local function blocking(self, what, req)
  local sess = self:session()
  if not self.on_request then return sess[what](sess, req) end
  local started = self.core().now()
  local res, err = sess[what](sess, req)
  self:report(what, req, started, res, err)
  return res, err
end
function Transport:request(req) return blocking(self, "request", req) end
function Transport:put(req) return blocking(self, "put", req) end
function Transport:download(req) return blocking(self, "download", req) end

-- Closes the connections (transfers of jobs still in flight end with it).
function Transport:close()
  if self.sess then self.sess:close() end
  self.sess, self.waiting, self.started, self.n = nil, {}, {}, 0
end

return transport
