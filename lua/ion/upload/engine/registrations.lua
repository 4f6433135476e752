-- The engine's last stage: finished files registered, many per mutation
-- document. A registration whose answer is lost is never sent again by this
-- run: the journal marks it in doubt, and only the next run registers it again.
local errors = require("ion.upload.errors")
local queries = require("ion.upload.graphql.queries")
local documents = require("ion.upload.graphql.documents")
local registration = require("ion.upload.graphql.registration")

local M = {}

local Registrations = {}
Registrations.__index = Registrations

--- svc: the run's shared services (ctx, core, outcomes, docs, windows);
-- opts: window (W), concurrency, validate; linger: seconds a finished file
-- waits for others to share its document, counted again from each later PUT
-- end among them; linger_cap: the longest it waits (never below linger).
function M.new(svc, opts, linger, linger_cap)
  return setmetatable({ ctx = svc.ctx, core = svc.core, out = svc.outcomes, docs = svc.docs,
    windows = svc.windows, W = opts.window, cap = math.max(opts.window, opts.concurrency),
    validate = opts.validate, linger = linger, linger_cap = math.max(linger_cap or linger, linger),
    queue = {}, in_flight = 0,
    -- by target key: refused (its error), registered (one was), probing (a first one is out)
    refused = {}, registered = {}, probing = {} }, Registrations)
end

-- The stages around: the entity ids are the lookups'; a file that storage
-- lost goes back for a URL; whether PUTs or URLs are still moving.
function Registrations:link(stages)
  self.lookups, self.urls, self.puts = stages.lookups, stages.urls, stages.puts
end

-- How many files wait for their registration.
function Registrations:waiting()
  return #self.queue
end

-- Which files go into the next registration document. A server whose
-- failing root field nulls the whole answer leaves every other field in
-- doubt (those before the failure ran; those after it may have). Most
-- refusals are a target's (read-only, no such entity), so until the server
-- has shown that it answers alias by alias (partial data), the first file of
-- a target not yet seen to accept one goes in a document of its own: if it
-- is refused, nothing else is in doubt.
function Registrations:pick(n)
  local chunk, keep, probe = {}, {}, nil
  local by_alias = self.docs:alias_by_alias()
  for _, item in ipairs(self.queue) do
    local key = item.target_key
    if self.refused[key] then
      local e = errors.copy(self.refused[key])
      e.message = item.path .. ": " .. e.message
      self.out:fail(item, e) -- the same target refused another file
    elseif probe == nil and #chunk < n and (self.registered[key] or by_alias) then
      chunk[#chunk + 1] = item
    elseif probe == nil and #chunk == 0 and not self.probing[key] and not self.registered[key] then
      probe = key
      chunk[1] = item
    else
      keep[#keep + 1] = item
    end
  end
  self.queue = keep
  if probe then self.probing[probe] = true end -- its other files wait for the answer
  return chunk, probe
end

-- Before a registration document is sent: a "registering" record for each
-- of its files not yet marked, all fsynced (a crash from here on leaves them
-- in doubt for the next run). False when the journal cannot be written.
function Registrations:mark_registering(chunk)
  local keys, marked = {}, {}
  for _, item in ipairs(chunk) do
    if item.key and not item.registering then
      keys[#keys + 1] = item.key
      marked[#marked + 1] = item
    end
  end
  if not self.out:record_registering(keys) then return false end
  for _, item in ipairs(marked) do item.registering = true end
  return true
end

-- The registration provably did not take effect: the "registering" record
-- no longer stands.
function Registrations:not_registered(item)
  if item.registering then
    item.registering = nil
    self.out:record("record_not_registered", item)
  end
end

function Registrations:answer(item, out)
  if out.resend then
    self:not_registered(item)
    item.resends = (item.resends or 0) + 1
    if self.out:stopped() or item.resends > self.ctx.cfg.retries + 1 then
      local e = self.out:stopped() and self.out:abort_error()
        or errors.new("protocol", "createFileAttachment never ran for " .. item.path)
      return self.out:fail(item, e)
    end
    item.state = "reg_wait"
    item.ready_at = item.ready_at or self.core.now()
    return self:enqueue(item)
  end
  if out.doubt then
    self.out:record("record_in_doubt", item)
    return self.out:fail(item, out.doubt)
  end
  if out.err then
    self:not_registered(item)
    local err = registration.refusal(out.err, self.validate)
    if item.from_journal and err.code == "etag_mismatch" and not self.out:stopped() then
      -- Storage no longer has what an earlier run PUT: upload it again.
      item.from_journal, item.put = false, nil
      if self.out:record("record_stale", item) then
        self.out:start_item(item)
        return self.urls:retry(item)
      end
    end
    if err.code == "permission_denied" or err.code == "not_found" then
      self.refused[item.target_key] = err
    end
    return self.out:fail(item, err)
  end
  local att, aerr = registration.answer(out.value)
  if not att then
    self.out:record("record_in_doubt", item)
    return self.out:fail(item, aerr)
  end
  registration.complete(att, { etag = item.put.etag, size = item.put.size or item.size, md5 = item.put.md5,
    s3Key = item.put.s3Key, sha256 = item.put.sha256 })
  self.registered[item.target_key] = true
  local recorded = {}
  for k, v in pairs(att) do
    if k ~= "downloadUrl" then recorded[k] = v end -- a signed URL: short-lived, and a credential
  end
  self.out:record("record_attached", item, recorded)
  self.out:succeed(item, att)
end

-- The registration queue is kept in input order as items join it (found by
-- bisection; most join at the end): sorting it at every step cost as much as
-- the rest of a run once registrations fell behind the PUTs.
function Registrations:enqueue(item)
  local q = self.queue
  local lo, hi = 1, #q + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if q[mid].index < item.index then lo = mid + 1 else hi = mid end
  end
  table.insert(q, lo, item)
end

--- A file whose bytes are in storage waits for its registration.
function Registrations:ready(item)
  item.state = "reg_wait"
  item.ready_at = self.core.now()
  self:enqueue(item)
end

-- When the registrations waiting have lingered long enough (nil: none
-- waits): the linger after the latest PUT end among them, so files stay
-- together while PUTs keep ending (a window of 50 small files takes ~0.5 s
-- to PUT), but never later than the cap after the oldest one's end.
function Registrations:linger_end()
  local first, last
  for _, item in ipairs(self.queue) do
    local t = item.ready_at
    if t and (not first or t < first) then first = t end
    if t and (not last or t > last) then last = t end
  end
  return first and math.min(last + self.linger, first + self.linger_cap)
end

-- Is it time to send a registration document? A window's worth is sent
-- whole: while a document in flight leaves too little room, its answer is
-- awaited. Fewer are sent when they have lingered long enough (a finished
-- file waits for PUTs that keep ending, never for the slowest PUT beside
-- it), or, unless a document in flight would cut them short, when the
-- oldest one's window has no PUT left or when no PUT is moving (the rest
-- wait for retries).
function Registrations:due(room)
  local n = #self.queue
  if n == 0 then return false end
  if n >= self.W then return room >= self.W end
  local linger_end = self:linger_end()
  if linger_end and self.core.now() >= linger_end then return true end
  if room < n then return false end
  if not self.windows:waiting(self.queue[1].window) then return true end
  return not self.puts:busy() and not self.urls:asking()
end

-- When the registrations waiting have lingered long enough (the clock's
-- time), or nil: a window's worth waiting is due at once, no need to look
-- for the oldest.
function Registrations:next_due(now)
  local linger_end = #self.queue < self.W and self:linger_end()
  if linger_end and linger_end > now then return linger_end end
end

-- The run drains: the files in storage are still registered.
function Registrations.drain() end

-- Sends the registration documents that are due (Registrations:due).
function Registrations:start()
  while not self.out:stopped() and self.docs:room() do
    local room = self.cap - self.in_flight
    if room <= 0 or not self:due(room) then return end
    local chunk, probe = self:pick(math.min(self.W, room))
    if #chunk == 0 then return end
    local entries = {}
    for i, item in ipairs(chunk) do
      item.state = "reg"
      self.out:start_item(item)
      if item.in_doubt_before then
        self.out:count("in_doubt")
        item.was_in_doubt = true -- reported on its result and event
      end
      item.in_doubt_before = nil
      entries[i] = { field = queries.fields.create_file_attachment, value = {
        filename = item.filename, s3Key = item.put.s3Key, s3Etag = item.put.etag,
        entityId = self.lookups:entity_id(item.target_key), validateUpload = self.validate,
      } }
    end
    self.in_flight = self.in_flight + #chunk
    local doc = self.docs:new_doc("reg", "mutation", "RegisterUploads", entries)
    doc.before_send = function() return self:mark_registering(chunk) end
    doc.on_done = function(data, err)
      self.in_flight = self.in_flight - #chunk
      if probe then self.probing[probe] = nil end
      local outs = documents.outcomes(doc, data, err)
      for i, item in ipairs(chunk) do self:answer(item, outs[i]) end
    end
    self.docs:send(doc)
  end
end

return M
