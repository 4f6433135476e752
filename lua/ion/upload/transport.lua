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
-- limit_rate: bytes per second for all PUTs and downloads of the session
-- together (the client's limit_rate), or nil.
function transport.new(core, limit_rate)
  return setmetatable({ core = core, limit_rate = limit_rate, waiting = {}, n = 0 }, Transport)
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
function Transport:request(req) return self:session():request(req) end
function Transport:put(req) return self:session():put(req) end
function Transport:download(req) return self:session():download(req) end

-- Closes the connections (transfers of jobs still in flight end with it).
function Transport:close()
  if self.sess then self.sess:close() end
  self.sess, self.waiting, self.n = nil, {}, 0
end

return transport
