-- The engine's second stage: upload URLs, asked a window at a time, just
-- before the PUTs that use them (one window ahead, never more). An item
-- gets its URL (item.ticket) and goes on to the PUTs.
local errors = require("ion.upload.errors")
local storage = require("ion.upload.storage")
local queries = require("ion.upload.graphql.queries")

local M = {}

local Urls = {}
Urls.__index = Urls

-- Items waiting for a URL: the few retries (each maybe with a not_before)
-- go ahead of the items never tried, which wait in a FIFO (fifo from head
-- to tail). A million queued items cost no scan: only the retries are
-- looked through at each step.

--- svc: the run's shared services (ctx, core, outcomes, docs, windows);
-- opts: window (W), concurrency (C).
function M.new(svc, opts)
  return setmetatable({ ctx = svc.ctx, core = svc.core, out = svc.outcomes, docs = svc.docs,
    windows = svc.windows, W = opts.window, lookahead = math.max(opts.window, opts.concurrency),
    fifo = {}, head = 1, tail = 0, retries = {}, in_flight = 0 }, Urls)
end

-- The stages around: the PUTs take the items with URLs; the registrations
-- take those the journal shows in storage, and hold the URLs back when too
-- many files wait for them.
function Urls:link(stages)
  self.puts, self.registrations = stages.puts, stages.registrations
end

--- An item whose target is known: to the URL queue, or straight on to its
-- registration when the journal shows its bytes are in storage.
function Urls:queue(item)
  if item.put then return self.registrations:ready(item) end
  item.state = "url_wait"
  self.tail = self.tail + 1
  self.fifo[self.tail] = item
end

--- Back to the URL queue (a retry, at once or after `delay` seconds), ahead
-- of the items never tried.
function Urls:retry(item, delay)
  local drained = self.out:drain_error()
  if drained then return self.out:fail(item, drained) end -- nothing new starts
  self.out:retried()
  item.state, item.ticket = "url_wait", nil
  item.not_before = delay and (self.core.now() + delay) or nil
  table.insert(self.retries, 1, item)
end

-- How many items wait for a URL.
function Urls:waiting()
  return #self.retries + self.tail - self.head + 1
end

-- URL documents are in flight.
function Urls:asking()
  return self.in_flight > 0
end

function Urls:answer(item, out)
  if item.state ~= "url" then return end
  if self.out:stopped() then return self.out:fail(item, self.out:abort_error()) end
  if out.resend then
    item.resends = (item.resends or 0) + 1
    if item.resends > self.ctx.cfg.retries + 1 then
      return self.out:fail(item, errors.new("protocol", "requestFileUploadUrl never ran for " .. item.path))
    end
    return self:retry(item)
  end
  if out.err then return self.out:fail(item, out.err) end
  local ticket, terr = storage.upload_ticket(self.ctx, out.value)
  if not ticket then return self.out:fail(item, terr) end
  ticket.at = self.core.now()
  item.ticket = ticket
  self.puts:queue(item)
end

-- The next URL document goes out while the URLs already held (or asked for)
-- are fewer than a window: one window ahead of the PUTs, never more. Nor
-- while the files waiting for registration are more than two lookaheads: a
-- server slower to register than storage is to take PUTs would otherwise
-- let that queue grow with the input.
function Urls:start()
  local now = self.core.now()
  while self.out:may_start() and self.docs:room() and self:waiting() > 0
    and self.puts:held() + self.in_flight < self.lookahead and self.registrations:waiting() < 2 * self.lookahead do
    local chunk, entries, keep = {}, {}, {}
    local function take(item)
      chunk[#chunk + 1] = item
      entries[#entries + 1] = { field = queries.fields.request_upload_url, value = item.url_name or item.filename }
    end
    for _, item in ipairs(self.retries) do
      if #chunk < self.W and (not item.not_before or item.not_before <= now) then
        take(item)
      else
        keep[#keep + 1] = item
      end
    end
    self.retries = keep
    while #chunk < self.W and self.head <= self.tail do
      take(self.fifo[self.head])
      self.fifo[self.head] = nil
      self.head = self.head + 1
    end
    if #chunk == 0 then return end
    self.windows:open(chunk)
    for _, item in ipairs(chunk) do
      item.state = "url"
      self.out:start_item(item)
    end
    self.in_flight = self.in_flight + #chunk
    self.docs:send_query("url", "RequestUploads", entries, function(outs)
      self.in_flight = self.in_flight - #chunk
      for i, item in ipairs(chunk) do self:answer(item, outs[i]) end
    end)
  end
end

-- When the first retry waiting out a pause may go (the clock's time), or nil.
function Urls:next_due()
  local at
  for _, item in ipairs(self.retries) do -- the never tried have none
    local t = item.not_before
    if t and (not at or t < at) then at = t end
  end
  return at
end

-- The run drains: no URL is asked (the items waiting for one fail).
function Urls:drain()
  self.fifo, self.head, self.tail, self.retries = {}, 1, 0, {}
end

return M
