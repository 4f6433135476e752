-- The engine's second stage: upload URLs, asked a window at a time, just
-- before the PUTs that use them (one window ahead, never more).
local errors = require("ion.upload.errors")
local storage = require("ion.upload.storage")
local queries = require("ion.upload.queries")

local M = {}

-- Items waiting for a URL: the few retries (url_retry, each maybe with a
-- not_before) go ahead of the items never tried, which wait in a FIFO
-- (url_queue from url_head to url_tail). A million queued items cost no scan:
-- only the retries are looked through at each step.

-- An item whose target is known goes to the URL queue, or straight to the
-- registration queue when the journal shows its bytes are in storage.
function M.queue_item(self, item)
  if item.put then
    self:ready_to_register(item)
  else
    item.state = "url_wait"
    self.url_tail = self.url_tail + 1
    self.url_queue[self.url_tail] = item
  end
end

-- Back to the URL queue (a retry), ahead of the items never tried.
function M.requeue_url(self, item, delay)
  if self.drain_err then return self:fail(item, errors.copy(self.drain_err)) end -- nothing new starts
  item.state, item.ticket = "url_wait", nil
  item.not_before = delay and (self.clock.now() + delay) or nil
  table.insert(self.url_retry, 1, item)
end

-- How many items wait for a URL.
function M.url_waiting(self)
  return #self.url_retry + self.url_tail - self.url_head + 1
end

-- An item no longer holds up its window's registrations (PUT done, or failed).
function M.leave_window(self, item)
  if item.window and not item.left_window then
    item.left_window = true
    local left = self.window_pending[item.window] - 1
    self.window_pending[item.window] = left > 0 and left or nil -- a month-long job keeps no count of 0
  end
end

function M.url_answer(self, item, out)
  if item.state ~= "url" then return end
  if self.abort_err then return self:fail(item, self:abort_error()) end
  if out.resend then
    item.resends = (item.resends or 0) + 1
    if item.resends > self.ctx.cfg.retries + 1 then
      return self:fail(item, errors.new("protocol", "requestFileUploadUrl never ran for " .. item.path))
    end
    return self:requeue_url(item)
  end
  if out.err then return self:fail(item, out.err) end
  local ticket, terr = storage.upload_ticket(self.ctx, out.value)
  if not ticket then return self:fail(item, terr) end
  item.state = "ready"
  ticket.at = self.clock.now()
  item.ticket = ticket
  self.ready[#self.ready + 1] = item
end

-- The next URL document goes out while the URLs already held (or asked for)
-- are fewer than a window: one window ahead of the PUTs, never more. Nor
-- while the files waiting for registration are more than two lookaheads: a
-- server slower to register than storage is to take PUTs would otherwise
-- let that queue grow with the input.
function M.send_urls(self)
  local now = self.clock.now()
  while not (self.abort_err or self.drain_err) and self.gql_out < self.C and self:url_waiting() > 0
    and #self.ready + self.url_out < self.lookahead and #self.reg_queue < 2 * self.lookahead do
    local chunk, entries, keep = {}, {}, {}
    local function take(item)
      chunk[#chunk + 1] = item
      entries[#entries + 1] = { field = queries.fields.request_upload_url, value = item.url_name or item.filename }
    end
    for _, item in ipairs(self.url_retry) do
      if #chunk < self.W and (not item.not_before or item.not_before <= now) then
        take(item)
      else
        keep[#keep + 1] = item
      end
    end
    self.url_retry = keep
    while #chunk < self.W and self.url_head <= self.url_tail do
      take(self.url_queue[self.url_head])
      self.url_queue[self.url_head] = nil
      self.url_head = self.url_head + 1
    end
    if #chunk == 0 then return end
    self.windows = self.windows + 1
    for _, item in ipairs(chunk) do
      item.state = "url"
      if not item.window then
        item.window = self.windows
        self.window_pending[item.window] = (self.window_pending[item.window] or 0) + 1
      end
      self:start_item(item)
    end
    self.url_out = self.url_out + #chunk
    self:send_query("url", "RequestUploads", entries, function(outs)
      self.url_out = self.url_out - #chunk
      for i, item in ipairs(chunk) do self:url_answer(item, outs[i]) end
    end)
  end
end

return M
