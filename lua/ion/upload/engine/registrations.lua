-- The engine's last stage: finished files registered, many per mutation
-- document. A registration whose answer is lost is never sent again by this
-- run: the journal marks it in doubt, and only the next run registers it again.
local errors = require("ion.upload.errors")
local queries = require("ion.upload.queries")
local documents = require("ion.upload.documents")
local registration = require("ion.upload.registration")

local M = {}

-- Which files go into the next registration document. A server whose
-- failing root field nulls the whole answer leaves every other field in
-- doubt (those before the failure ran; those after it may have). Most
-- refusals are a target's (read-only, no such entity), so until the server
-- has shown that it answers alias by alias (partial data), the first file of
-- a target not yet seen to accept one goes in a document of its own: if it
-- is refused, nothing else is in doubt.
function M.pick_registrations(self, n)
  local chunk, keep, probe = {}, {}, nil
  for _, item in ipairs(self.reg_queue) do
    local t = self.targets[item.target_key]
    if t.refused then
      local e = errors.copy(t.refused)
      e.message = item.path .. ": " .. e.message
      self:fail(item, e) -- the same target refused another file
    elseif probe == nil and #chunk < n and (t.registered or self.independent) then
      chunk[#chunk + 1] = item
    elseif probe == nil and #chunk == 0 and not t.probing and not t.registered then
      probe = t
      chunk[1] = item
    else
      keep[#keep + 1] = item
    end
  end
  self.reg_queue = keep
  if probe then probe.probing = true end -- its other files wait for the answer
  return chunk, probe
end

-- Before a registration document is sent: a "registering" record for each
-- of its files not yet marked, all fsynced (a crash from here on leaves them
-- in doubt for the next run). False when the journal cannot be written.
function M.mark_registering(self, chunk)
  local keys, marked = {}, {}
  for _, item in ipairs(chunk) do
    if item.key and not item.registering then
      keys[#keys + 1] = item.key
      marked[#marked + 1] = item
    end
  end
  if not self.journal or #keys == 0 then return true end
  local ok, err = self.journal:record_registering(keys)
  if not ok then
    self:abort(err)
    return false
  end
  for _, item in ipairs(marked) do item.registering = true end
  return true
end

-- The registration provably did not take effect: the "registering" record
-- no longer stands.
function M.not_registered(self, item)
  if item.registering then
    item.registering = nil
    self:record("record_not_registered", item)
  end
end

function M.reg_answer(self, item, out)
  if out.resend then
    self:not_registered(item)
    item.resends = (item.resends or 0) + 1
    if self.abort_err or item.resends > self.ctx.cfg.retries + 1 then
      local e = self.abort_err and self:abort_error()
        or errors.new("protocol", "createFileAttachment never ran for " .. item.path)
      return self:fail(item, e)
    end
    item.state = "reg_wait"
    item.ready_at = item.ready_at or self.clock.now()
    return self:queue_registration(item)
  end
  if out.doubt then
    self:record("record_in_doubt", item)
    return self:fail(item, out.doubt)
  end
  if out.err then
    self:not_registered(item)
    local err = registration.refusal(out.err, self.validate)
    if item.from_journal and err.code == "etag_mismatch" and not self.abort_err then
      -- Storage no longer has what an earlier run PUT: upload it again.
      item.from_journal, item.put = false, nil
      if self:record("record_stale", item) then
        self:start_item(item)
        return self:requeue_url(item)
      end
    end
    if err.code == "permission_denied" or err.code == "not_found" then
      self.targets[item.target_key].refused = err
    end
    return self:fail(item, err)
  end
  local att, aerr = registration.answer(out.value)
  if not att then
    self:record("record_in_doubt", item)
    return self:fail(item, aerr)
  end
  registration.complete(att, { etag = item.put.etag, size = item.put.size or item.size, md5 = item.put.md5,
    s3Key = item.put.s3Key, sha256 = item.put.sha256 })
  self.targets[item.target_key].registered = true
  local recorded = {}
  for k, v in pairs(att) do
    if k ~= "downloadUrl" then recorded[k] = v end -- a signed URL: short-lived, and a credential
  end
  self:record("record_attached", item, recorded)
  self:succeed(item, att)
end

-- The registration queue is kept in input order as items join it (found by
-- bisection; most join at the end): sorting it at every step cost as much as
-- the rest of a run once registrations fell behind the PUTs.
function M.queue_registration(self, item)
  local q = self.reg_queue
  local lo, hi = 1, #q + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if q[mid].index < item.index then lo = mid + 1 else hi = mid end
  end
  table.insert(q, lo, item)
end

-- A file whose bytes are in storage waits for its registration.
function M.ready_to_register(self, item)
  item.state = "reg_wait"
  item.ready_at = self.clock.now()
  self:queue_registration(item)
end

-- When the registrations waiting have lingered long enough: the oldest
-- one's wait plus the linger (nil: none waits).
function M.linger_end(self)
  local oldest
  for _, item in ipairs(self.reg_queue) do
    if item.ready_at and (not oldest or item.ready_at < oldest) then oldest = item.ready_at end
  end
  return oldest and oldest + self.linger
end

-- Is it time to send a registration document? When a window's worth is
-- ready, when the oldest waiting file has lingered long enough (a finished
-- file never waits for the slowest PUT beside it), when the oldest one's
-- window has no PUT left, or when no PUT is moving (the rest wait for retries).
function M.reg_due(self, room)
  local n = #self.reg_queue
  if n == 0 then return false end
  if n >= math.min(self.W, room) then return true end
  local linger_end = self:linger_end()
  if linger_end and self.clock.now() >= linger_end then return true end
  local w = self.reg_queue[1].window
  if not w or (self.window_pending[w] or 0) <= 0 then return true end
  return self.puts_out == 0 and #self.ready == 0 and self.url_out == 0
end

function M.send_registrations(self)
  while not self.abort_err and self.gql_out < self.C do
    local room = self.reg_cap - self.reg_out
    if room <= 0 or not self:reg_due(room) then return end
    local chunk, probe = self:pick_registrations(math.min(self.W, room))
    if #chunk == 0 then return end
    local entries = {}
    for i, item in ipairs(chunk) do
      item.state = "reg"
      self:start_item(item)
      if item.in_doubt_before then
        self.summary.in_doubt = self.summary.in_doubt + 1
        item.was_in_doubt = true -- reported on its result and event
      end
      item.in_doubt_before = nil
      entries[i] = { field = queries.fields.create_file_attachment, value = {
        filename = item.filename, s3Key = item.put.s3Key, s3Etag = item.put.etag,
        entityId = self.targets[item.target_key].entity_id, validateUpload = self.validate,
      } }
    end
    self.reg_out = self.reg_out + #chunk
    local doc = self:new_doc("reg", "mutation", "RegisterUploads", entries)
    doc.before_send = function() return self:mark_registering(chunk) end
    doc.on_done = function(data, err)
      self.reg_out = self.reg_out - #chunk
      if probe then probe.probing = nil end
      local outs = documents.outcomes(doc, data, err)
      for i, item in ipairs(chunk) do self:reg_answer(item, outs[i]) end
    end
    self:send(doc)
  end
end

return M
