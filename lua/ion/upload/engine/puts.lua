-- The engine's third stage: the PUTs, at most `concurrency` at once, each
-- with a URL of the stage before. A failed PUT goes back for a fresh URL
-- (storage.fresh_url_reason: once per reason) or a retry after a pause; a
-- file in storage goes on to its registration.
local errors = require("ion.upload.errors")
local retry = require("ion.upload.retry")
local storage = require("ion.upload.storage")

local M = {}

local Puts = {}
Puts.__index = Puts

--- svc: the run's shared services (ctx, core, outcomes, traffic,
-- windows); opts: concurrency (C), sha256; url_max_age: seconds a URL is
-- used after it was given.
function M.new(svc, opts, url_max_age)
  return setmetatable({ ctx = svc.ctx, core = svc.core, out = svc.outcomes, traffic = svc.traffic,
    windows = svc.windows, C = opts.concurrency, sha256 = opts.sha256, url_max_age = url_max_age,
    ready = {}, in_flight = 0 }, Puts)
end

-- The stages around: a PUT that needs a new URL goes back to the URLs; a
-- file in storage goes on to the registrations.
function Puts:link(stages)
  self.urls, self.registrations = stages.urls, stages.registrations
end

--- An item with its URL (item.ticket) waits for its PUT.
function Puts:queue(item)
  item.state = "ready"
  self.ready[#self.ready + 1] = item
end

-- How many URLs wait for their PUT.
function Puts:held()
  return #self.ready
end

-- A PUT is in flight, or waits to start.
function Puts:busy()
  return self.in_flight > 0 or #self.ready > 0
end

function Puts:failed(item, err)
  if self.out:stopped() then return self.out:fail(item, self.out:abort_error()) end
  local retries = self.ctx.cfg.retries
  local fresh = storage.fresh_url_reason(err)
  item.fresh_given = item.fresh_given or {}
  if fresh and not item.fresh_given[fresh] then
    item.fresh_given[fresh] = true
    return self.urls:retry(item)
  end
  if err.retryable and item.attempts < retries then
    item.attempts = item.attempts + 1
    local delay = err.code ~= "url_expired" and retry.delay(item.attempts, self.ctx.random, err.retry_after) or nil
    return self.urls:retry(item, delay)
  end
  return self.out:fail(item, err)
end

function Puts:done(item, res, cerr)
  self.in_flight = self.in_flight - 1
  local put, err
  if res then
    put, err = storage.map_put(res, self.ctx.cfg.verify_md5)
  else
    err = errors.from_core(cerr, "PUT to storage: ")
  end
  if not put then return self:failed(item, err) end
  item.put = { s3Key = item.ticket.s3Key, etag = put.etag, md5 = put.md5, size = put.size, sha256 = put.sha256 }
  item.ticket = nil
  self.out:count("bytes", put.size or 0)
  if not self.out:record("record_put", item, item.put) then
    return self.out:fail(item, self.out:abort_error())
  end
  -- stored: the PUT is done (libcurl's last progress may say all sent before storage answers)
  self.out:emit({ type = "progress", index = item.index, path = item.path, bytes = put.size, total = put.size,
    stored = true })
  self.registrations:ready(item)
  self.windows:leave(item)
end

-- Starts the PUTs waiting, up to `concurrency` in flight.
function Puts:start()
  local now = self.core.now()
  while self.out:may_start() and self.in_flight < self.C and #self.ready > 0 do
    local item = table.remove(self.ready, 1)
    if now - item.ticket.at > self.url_max_age then
      self.urls:retry(item) -- held too long: it may have expired
    else
      item.state = "put"
      self.in_flight = self.in_flight + 1
      local on_progress = function(sent, total)
        self.out:emit({ type = "progress", index = item.index, path = item.path, bytes = sent, total = total })
        return not self.out:stopped()
      end
      local t = item.ticket
      local req = storage.put_request(self.ctx, t.uploadUrl, item.path, t.contentType, on_progress)
      if item.sha256 or (item.sha256 == nil and self.sha256) then req.sha256 = true end -- receipts
      self.traffic:add("put", "put", req, function(res, cerr) self:done(item, res, cerr) end)
    end
  end
end

-- Nothing of this stage waits for a time.
function Puts.next_due()
  return nil
end

-- The run drains: no PUT starts (the PUTs in flight finish).
function Puts:drain()
  self.ready = {}
end

return M
