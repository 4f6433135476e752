-- The engine's third stage: the PUTs, at most `concurrency` at once, each
-- with a URL of the stage before. A failed PUT goes back for a fresh URL
-- (storage.fresh_url_reason: once per reason) or a retry after a pause.
local errors = require("ion.upload.errors")
local retry = require("ion.upload.retry")
local storage = require("ion.upload.storage")

local M = {}

function M.put_failed(self, item, err)
  if self.abort_err then return self:fail(item, self:abort_error()) end
  local retries = self.ctx.cfg.retries
  local fresh = storage.fresh_url_reason(err)
  item.fresh_given = item.fresh_given or {}
  if fresh and not item.fresh_given[fresh] then
    item.fresh_given[fresh] = true
    return self:requeue_url(item)
  end
  if err.retryable and item.attempts < retries then
    item.attempts = item.attempts + 1
    local delay = err.code ~= "url_expired" and retry.delay(item.attempts, self.ctx.random, err.retry_after) or nil
    return self:requeue_url(item, delay)
  end
  return self:fail(item, err)
end

function M.put_done(self, item, res, cerr)
  self.puts_out = self.puts_out - 1
  local put, err
  if res then
    put, err = storage.map_put(res, self.ctx.cfg.verify_md5)
  else
    err = errors.from_core(cerr, "PUT to storage: ")
  end
  if not put then return self:put_failed(item, err) end
  item.put = { s3Key = item.ticket.s3Key, etag = put.etag, md5 = put.md5, size = put.size, sha256 = put.sha256 }
  item.ticket = nil
  self.summary.bytes = self.summary.bytes + (put.size or 0)
  if not self:record("record_put", item, item.put) then
    return self:fail(item, self:abort_error())
  end
  -- stored: the PUT is done (libcurl's last progress may say all sent before storage answers)
  self:emit({ type = "progress", index = item.index, path = item.path, bytes = put.size, total = put.size,
    stored = true })
  self:ready_to_register(item)
  self:leave_window(item)
end

function M.start_puts(self)
  local now = self.clock.now()
  while not (self.abort_err or self.drain_err) and self.puts_out < self.C and #self.ready > 0 do
    local item = table.remove(self.ready, 1)
    if now - item.ticket.at > self.url_max_age then
      self:requeue_url(item) -- held too long: it may have expired
    else
      item.state = "put"
      self.puts_out = self.puts_out + 1
      local on_progress = function(sent, total)
        self:emit({ type = "progress", index = item.index, path = item.path, bytes = sent, total = total })
        return not self.abort_err
      end
      local t = item.ticket
      local req = storage.put_request(self.ctx, t.uploadUrl, item.path, t.contentType, on_progress)
      if item.sha256 or (item.sha256 == nil and self.sha256) then req.sha256 = true end -- receipts
      self:add("put", "put", req, function(res, cerr) self:put_done(item, res, cerr) end)
    end
  end
end

return M
