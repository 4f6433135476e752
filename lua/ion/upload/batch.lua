-- client:upload_many: many files, many targets, few round trips.
--
-- Everything runs through one core session (one curl multi), so connections
-- are reused and at most `concurrency` PUTs move at once. The pipeline:
--   1. distinct targets are resolved to entity ids, many per aliased document;
--   2. upload URLs are requested a window at a time, just before the PUTs that
--      use them; the next window's document goes out while this window's bytes
--      move;
--   3. PUTs stream the files (the journal records each one);
--   4. a window's registrations go out in one mutation document as soon as its
--      PUTs are done, while the next window's PUTs run.
-- A registration whose answer is lost is never sent again by this run: the
-- journal marks it in doubt, and only the next run registers it again.
local cjson = require("cjson.safe")
local errors = require("ion.upload.errors")
local queries = require("ion.upload.queries")
local graphql = require("ion.upload.graphql")
local storage = require("ion.upload.storage")
local retry = require("ion.upload.retry")
local messages = require("ion.upload.messages")
local entities = require("ion.upload.entities")
local journal_mod = require("ion.upload.journal")
local documents = require("ion.upload.batch_documents")
local batch_items = require("ion.upload.batch_items")

local batch = {}

-- A URL older than this is not used: storage URLs live "a few minutes".
batch.url_max_age = 120
-- Longest wait in one session step, so an interrupt or a timer is seen soon.
local STEP = 0.2

local Run = {}
Run.__index = Run

-- Terminal states of an item.
local FINAL = { done = true, failed = true, skipped = true }

local function upload_module()
  return require("ion.upload")
end

---------------------------------------------------------------------------
-- Events, results, abort

function Run:emit(ev)
  if not self.on_event or self.event_failed then return end
  local ok, e = pcall(self.on_event, ev)
  if not ok then
    self.event_failed = true
    self:abort(errors.new("aborted", "on_event raised an error: " .. tostring(e),
      { hint = "Fix the on_event callback; run again with the same journal to finish" }))
  end
end

function Run:scrub(err)
  return errors.scrubbed(err, self.client._auth:secrets())
end

function Run:fail(item, err)
  if FINAL[item.state] then return end
  item.state = "failed"
  local e = self:scrub(err)
  self.results[item.index] = { ok = false, err = e, was_in_doubt = item.was_in_doubt }
  self.summary.failed = self.summary.failed + 1
  self:leave_window(item)
  self:emit({ type = "error", index = item.index, path = item.path, err = e, was_in_doubt = item.was_in_doubt })
end

function Run:succeed(item, att, skipped)
  item.state = skipped and "skipped" or "done"
  self.results[item.index] = { ok = true, attachment = att, skipped = skipped or nil, was_in_doubt = item.was_in_doubt }
  if skipped then
    self.summary.skipped = self.summary.skipped + 1
  else
    self.summary.ok = self.summary.ok + 1
  end
  self:emit({ type = "done", index = item.index, path = item.path, attachment = att, skipped = skipped or nil,
    bytes = item.size, total = item.size, was_in_doubt = item.was_in_doubt })
end

function Run:start_item(item)
  if item.started then return end
  item.started = true
  self:emit({ type = "start", index = item.index, path = item.path, bytes = 0, total = item.size })
end

-- Stops starting work: PUTs and queries in flight are cancelled (nothing of
-- theirs is recorded yet); registrations in flight are let finish so that the
-- journal records what they did.
-- (The cancelling waits for schedule(): abort may be called from a callback
-- that runs inside the session's step.)
function Run:abort(err)
  if self.abort_err then return end
  self.abort_err = err
end

-- Ends the registrations in flight without their answers (the session is
-- about to be dropped): they may have been recorded, so each fails in doubt
-- and the journal says so (the next run registers it again).
function Run:doubt_in_flight(err)
  for _, item in ipairs(self.items) do
    if item.state == "reg" then
      self:record("record_in_doubt", item)
      self:fail(item, documents.in_doubt("aborted", item.path .. ": " .. err.message
        .. " while its registration was in flight"))
    end
  end
end

function Run:cancel_for_abort()
  if not self.abort_err or self.cancelled then return end
  self.cancelled = true
  for id, t in pairs(self.transfers) do
    if t.kind ~= "reg" then self.sess:cancel(id) end
  end
end

-- Journal writes: a failure stops the batch (a rerun would repeat the step).
function Run:record(method, item, ...)
  if not self.journal or not item.key then return true end
  local ok, err = self.journal[method](self.journal, item.key, ...)
  if not ok then self:abort(err) end
  return ok
end

---------------------------------------------------------------------------
-- GraphQL documents over the session

-- A request the core refuses to start (a file gone since it was planned, a
-- header it will not send) is answered at once as that transfer's failure:
-- nothing left, so a mutation among them is not in doubt.
function Run:add(kind, what, req, on_done)
  local id, err = self.sess:add(what, req)
  if not id then
    on_done(nil, err)
    return nil
  end
  self.transfers[id] = { kind = kind, on_done = on_done }
  return id
end

function Run:later(delay, fn)
  self.timers[#self.timers + 1] = { at = self.core.now() + delay, fn = fn }
end

-- Sends doc (from documents.build, plus kind and on_done(data, err)); resends
-- it after a pause when that is safe (retry.may_resend: never a mutation whose
-- answer may have been lost), and hands the rest to on_done.
function Run:send(doc)
  if self.abort_err then return doc.on_done(nil, documents.copy_error(self.abort_err)) end
  local client = self.client
  local token, terr = client._auth:token(client)
  if not token then return doc.on_done(nil, terr) end
  doc.body = doc.body or assert(cjson.encode({ query = doc.query, variables = doc.variables }))
  if doc.before_send and not doc.before_send() then return doc.on_done(nil, documents.copy_error(self.abort_err)) end
  self.gql_out = self.gql_out + 1
  self.counts.graphql = self.counts.graphql + 1
  self:add(doc.kind, "request", graphql.http_request(client, doc.body, token, doc.mutation), function(res, cerr)
    self.gql_out = self.gql_out - 1
    self:answered(doc, res, cerr)
  end)
end

function Run:answered(doc, res, cerr)
  local data, err
  if res then
    data, err = graphql.map_response(res)
    if err and err.status == 200 and type(err.data) == "table" then
      self.independent = true -- this server answers alias by alias
    end
  else
    err = errors.from_core(cerr, "GraphQL request: ")
  end
  if data then return doc.on_done(data) end
  local client = self.client
  if not self.abort_err then
    if err.code == "auth" and err.status == 401 and not doc.refreshed and client._auth:can_refresh() then
      doc.refreshed = true
      client._auth:invalidate()
      return self:send(doc)
    end
    if retry.may_resend(err, not doc.mutation) and doc.attempts < client.cfg.retries then
      doc.attempts = doc.attempts + 1
      return self:later(retry.delay(doc.attempts, client._random, err.retry_after), function() self:send(doc) end)
    end
  end
  if doc.mutation and graphql.maybe_processed(err) then
    err.retryable, err.in_doubt, err.hint = false, true, errors.in_doubt_hint
  end
  return doc.on_done(nil, err)
end

local function new_doc(kind, operation, name, entries, on_done)
  local doc = documents.build(operation, name, entries)
  doc.kind, doc.on_done, doc.attempts = kind, on_done, 0
  return doc
end

---------------------------------------------------------------------------
-- How this server fails an alias. The first query document also asks the
-- schema (one more field, no more requests) whether createFileAttachment is
-- NON_NULL; until a yes or no arrives, registrations are planned as if it were.

function Run:ask_nullability(entries)
  if self.independent ~= nil or self.asked or self.W == 1 then return false end
  self.asked = true
  entries[#entries + 1] = { field = queries.fields.mutation_fields }
  return true
end

function Run:learn_nullability(out)
  if out and out.value ~= nil then
    local independent = documents.independent_aliases(out.value)
    if independent ~= nil then self.independent = independent end
  end
end

---------------------------------------------------------------------------
-- 1. Targets

function Run:target_failed(target, err)
  target.state, target.err = "failed", err
  for _, item in ipairs(target.items) do
    if not FINAL[item.state] then
      local e = documents.copy_error(err)
      e.message = item.path .. ": " .. e.message
      self:fail(item, e)
    end
  end
end

function Run:target_resolved(target, entity_id)
  target.state, target.entity_id = "ok", entity_id
  self.client._entity_cache[target.kind .. ":" .. tostring(target.id)] = entity_id
  for _, item in ipairs(target.items) do
    if item.state == "resolving" then self:queue_item(item) end
  end
end

function Run:resolve_answer(target, out)
  if out.resend then
    target.resends = (target.resends or 0) + 1
    if target.resends > self.client.cfg.retries + 1 then
      return self:target_failed(target, errors.new("protocol", "the lookup of " .. target.key .. " never ran"))
    end
    self.target_queue[#self.target_queue + 1] = target
    return
  end
  if out.err then
    local err = out.err
    if err.code == "graphql" and messages.matches("not_found", err.message) then
      err.code, err.hint = "not_found", errors.hints.not_found
    end
    return self:target_failed(target, err)
  end
  local obj = out.value
  if obj == nil or obj == cjson.null then
    return self:target_failed(target,
      errors.new("not_found", target.kind .. " " .. tostring(target.id) .. " not found"))
  end
  local eid = entities.answer_entity_id(obj)
  if not eid then
    return self:target_failed(target, errors.new("protocol", target.key .. ": answer without entity { id }"
      .. " (a whole number or a string of digits)"))
  end
  self:target_resolved(target, eid)
end

function Run:send_targets()
  while #self.target_queue > 0 and self.gql_out < self.C and not self.abort_err do
    local chunk, entries = {}, {}
    while #chunk < self.W and #self.target_queue > 0 do
      local t = table.remove(self.target_queue, 1)
      chunk[#chunk + 1] = t
      entries[#entries + 1] = { field = queries.fields.entity[t.kind], value = t.id }
    end
    local ask = self:ask_nullability(entries)
    local doc = new_doc("entity", "query", "ResolveTargets", entries, nil)
    doc.on_done = function(data, err)
      local outs = documents.outcomes(doc, data, err)
      for i, t in ipairs(chunk) do self:resolve_answer(t, outs[i]) end
      if ask then self:learn_nullability(outs[#entries]) end
    end
    self:send(doc)
  end
end

---------------------------------------------------------------------------
-- 2. Upload URLs

-- An item whose target is known goes to the URL queue, or straight to the
-- registration queue when the journal shows its bytes are in storage.
function Run:queue_item(item)
  if item.put then
    item.state = "reg_wait"
    self.reg_queue[#self.reg_queue + 1] = item
  else
    item.state = "url_wait"
    self.url_queue[#self.url_queue + 1] = item
  end
end

-- Back to the URL queue (a retry), ahead of the items never tried.
function Run:requeue_url(item, delay)
  item.state, item.ticket = "url_wait", nil
  item.not_before = delay and (self.core.now() + delay) or nil
  table.insert(self.url_queue, 1, item)
end

-- An item no longer holds up its window's registrations (PUT done, or failed).
function Run:leave_window(item)
  if item.window and not item.left_window then
    item.left_window = true
    self.window_pending[item.window] = self.window_pending[item.window] - 1
  end
end

function Run:url_answer(item, out)
  if item.state ~= "url" then return end
  if self.abort_err then return self:fail(item, documents.copy_error(self.abort_err)) end
  if out.resend then
    item.resends = (item.resends or 0) + 1
    if item.resends > self.client.cfg.retries + 1 then
      return self:fail(item, errors.new("protocol", "requestFileUploadUrl never ran for " .. item.path))
    end
    return self:requeue_url(item)
  end
  if out.err then return self:fail(item, out.err) end
  local ticket, terr = storage.upload_ticket(self.client, out.value)
  if not ticket then return self:fail(item, terr) end
  item.state = "ready"
  ticket.at = self.core.now()
  item.ticket = ticket
  self.ready[#self.ready + 1] = item
end

-- The next URL document goes out while the URLs already held (or asked for)
-- are fewer than a window: one window ahead of the PUTs, never more.
function Run:send_urls()
  local now = self.core.now()
  while not self.abort_err and self.gql_out < self.C and #self.url_queue > 0
    and #self.ready + self.url_out < self.lookahead do
    local chunk, entries, keep = {}, {}, {}
    for _, item in ipairs(self.url_queue) do
      if #chunk < self.W and (not item.not_before or item.not_before <= now) then
        chunk[#chunk + 1] = item
        entries[#entries + 1] = { field = queries.fields.request_upload_url, value = item.url_name or item.filename }
      else
        keep[#keep + 1] = item
      end
    end
    if #chunk == 0 then return end
    self.url_queue = keep
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
    local ask = self:ask_nullability(entries)
    local doc = new_doc("url", "query", "RequestUploads", entries, nil)
    doc.on_done = function(data, err)
      self.url_out = self.url_out - #chunk
      local outs = documents.outcomes(doc, data, err)
      for i, item in ipairs(chunk) do self:url_answer(item, outs[i]) end
      if ask then self:learn_nullability(outs[#entries]) end
    end
    self:send(doc)
  end
end

---------------------------------------------------------------------------
-- 3. PUTs

function Run:put_failed(item, err)
  if self.abort_err then return self:fail(item, documents.copy_error(self.abort_err)) end
  local retries = self.client.cfg.retries
  local fresh = storage.fresh_url_reason(err)
  item.fresh_given = item.fresh_given or {}
  if fresh and not item.fresh_given[fresh] then
    item.fresh_given[fresh] = true
    return self:requeue_url(item)
  end
  if err.retryable and item.attempts < retries then
    item.attempts = item.attempts + 1
    local delay = err.code ~= "url_expired" and retry.delay(item.attempts, self.client._random, err.retry_after) or nil
    return self:requeue_url(item, delay)
  end
  return self:fail(item, err)
end

function Run:put_done(item, res, cerr)
  self.puts_out = self.puts_out - 1
  local put, err
  if res then
    put, err = storage.map_put(res, self.client.cfg.verify_md5)
  else
    err = errors.from_core(cerr, "PUT to storage: ")
  end
  if not put then return self:put_failed(item, err) end
  item.put = { s3Key = item.ticket.s3Key, etag = put.etag, md5 = put.md5, size = put.size }
  item.ticket = nil
  self.summary.bytes = self.summary.bytes + (put.size or 0)
  if not self:record("record_put", item, item.put) then
    return self:fail(item, documents.copy_error(self.abort_err))
  end
  self:emit({ type = "progress", index = item.index, path = item.path, bytes = put.size, total = put.size })
  item.state = "reg_wait"
  self.reg_queue[#self.reg_queue + 1] = item
  self:leave_window(item)
end

function Run:start_puts()
  local now = self.core.now()
  while not self.abort_err and self.puts_out < self.C and #self.ready > 0 do
    local item = table.remove(self.ready, 1)
    if now - item.ticket.at > batch.url_max_age then
      self:requeue_url(item) -- held too long: it may have expired
    else
      item.state = "put"
      self.puts_out = self.puts_out + 1
      local on_progress = function(sent, total)
        self:emit({ type = "progress", index = item.index, path = item.path, bytes = sent, total = total })
        return not self.abort_err
      end
      local t = item.ticket
      self:add("put", "put", storage.put_request(self.client, t.uploadUrl, item.path, t.contentType, on_progress),
        function(res, cerr) self:put_done(item, res, cerr) end)
    end
  end
end

---------------------------------------------------------------------------
-- 4. Registrations

-- Which files go into the next registration document. A server whose
-- failing root field nulls the whole answer leaves every other field in
-- doubt (those before the failure ran; those after it may have). Most
-- refusals are a target's (read-only, no such entity), so until the server
-- has shown that it answers alias by alias (partial data), the first file of
-- a target not yet seen to accept one goes in a document of its own: if it
-- is refused, nothing else is in doubt.
function Run:pick_registrations(n)
  local chunk, keep, probe = {}, {}, nil
  for _, item in ipairs(self.reg_queue) do
    local t = self.targets[item.target_key]
    if t.refused then
      local e = documents.copy_error(t.refused)
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
function Run:mark_registering(chunk)
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
function Run:not_registered(item)
  if item.registering then
    item.registering = nil
    self:record("record_not_registered", item)
  end
end

function Run:reg_answer(item, out)
  local up = upload_module()
  if out.resend then
    self:not_registered(item)
    item.resends = (item.resends or 0) + 1
    if self.abort_err or item.resends > self.client.cfg.retries + 1 then
      local e = self.abort_err and documents.copy_error(self.abort_err)
        or errors.new("protocol", "createFileAttachment never ran for " .. item.path)
      return self:fail(item, e)
    end
    item.state = "reg_wait"
    table.insert(self.reg_queue, 1, item)
    return
  end
  if out.doubt then
    self:record("record_in_doubt", item)
    return self:fail(item, out.doubt)
  end
  if out.err then
    self:not_registered(item)
    local err = up._register_error(out.err, self.validate)
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
  local payload = out.value
  local fa = type(payload) == "table" and payload.fileAttachment
  if type(fa) ~= "table" or fa.id == nil or fa.id == cjson.null then
    self:record("record_in_doubt", item)
    return self:fail(item,
      documents.in_doubt("protocol", "createFileAttachment answered without fileAttachment { id }"))
  end
  local att, why = up._attachment_of(fa)
  if not att then
    self:record("record_in_doubt", item)
    return self:fail(item, documents.in_doubt("protocol", "createFileAttachment answered a " .. why))
  end
  att.etag, att.size, att.md5 = item.put.etag, item.put.size or item.size, item.put.md5
  if att.s3Key == nil then att.s3Key = item.put.s3Key end
  self.targets[item.target_key].registered = true
  local recorded = {}
  for k, v in pairs(att) do
    if k ~= "downloadUrl" then recorded[k] = v end -- a signed URL: short-lived, and a credential
  end
  self:record("record_attached", item, recorded)
  self:succeed(item, att)
end

-- Is it time to send a registration document? When a window's worth is
-- ready, when the oldest ready item's window has no PUT left, or when no PUT
-- is moving (the rest wait for retries).
function Run:reg_due(room)
  local n = #self.reg_queue
  if n == 0 then return false end
  if n >= math.min(self.W, room) then return true end
  local w = self.reg_queue[1].window
  if not w or (self.window_pending[w] or 0) <= 0 then return true end
  return self.puts_out == 0 and #self.ready == 0 and self.url_out == 0
end

function Run:send_registrations()
  while not self.abort_err and self.gql_out < self.C do
    table.sort(self.reg_queue, function(a, b) return a.index < b.index end)
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
    local doc = new_doc("reg", "mutation", "RegisterUploads", entries, nil)
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

---------------------------------------------------------------------------
-- The loop

function Run:busy()
  return next(self.transfers) ~= nil
end

function Run:fire_timers()
  local now = self.core.now()
  local due, keep = {}, {}
  for _, t in ipairs(self.timers) do
    if t.at <= now then due[#due + 1] = t else keep[#keep + 1] = t end
  end
  self.timers = keep
  for _, t in ipairs(due) do t.fn() end
end

-- Seconds until the next timer or URL retry is due (nil: none).
function Run:next_due()
  local now, at = self.core.now(), nil
  for _, t in ipairs(self.timers) do at = math.min(at or t.at, t.at) end
  if not self.abort_err then
    for _, item in ipairs(self.url_queue) do
      if item.not_before then at = math.min(at or item.not_before, item.not_before) end
    end
  end
  return at and math.max(0, at - now) or nil
end

function Run:schedule()
  self:fire_timers()
  if self.core.interrupted and not self.abort_err and self.core.interrupted() then
    self:abort(errors.new("aborted", "interrupted",
      { hint = "Run the same command again (with the same journal) to finish the rest" }))
  end
  self:cancel_for_abort()
  self:send_targets()
  self:send_registrations() -- first: registrations never wait behind URLs
  self:start_puts()
  self:send_urls()
end

-- One turn of the loop, waiting at most `timeout` seconds: hands out the
-- transfers that finished, then starts what they made possible. True once
-- nothing is left to do. (ion.upload.pending drives a batch through this.)
function Run:step(timeout)
  self:schedule()
  local wait = self:next_due()
  if self:busy() then
    local done = self.sess:step(math.min(timeout, wait or timeout))
    for _, d in ipairs(done or {}) do
      local t = self.transfers[d.id]
      if t then
        self.transfers[d.id] = nil
        t.on_done(d.res, d.err)
      end
    end
    if done and #done > 0 then self:schedule() end
    return false
  end
  if not wait then return true end
  if wait > 0 and timeout > 0 then self.core.sleep(math.min(timeout, wait)) end
  return false
end

function Run:loop()
  while not self:step(STEP) do end
end

-- Sorts the checked items by what the journal says; the rest wait for their
-- target.
function Run:plan(records)
  for _, rec in ipairs(records) do
    local item = rec
    item.attempts = 0
    self.items[#self.items + 1] = item
    if rec.err then
      item.state = "new"
      self:fail(item, rec.err)
    else
      local state
      if self.journal then
        local key, kerr = batch_items.journal_key(self.core, journal_mod, item)
        if not key then
          item.state = "new"
          self:fail(item, kerr)
        else
          item.key = key
          state = self.journal:lookup(key)
        end
      end
      if FINAL[item.state] then -- luacheck: ignore 542
        -- failed above
      elseif state and state.attached then
        local att = {}
        for k, v in pairs(state.attached) do
          att[k] = math.type and math.type(v) == "float" and math.tointeger(v) or v -- JSON gave 4242.0
        end
        self:succeed(item, att, true)
      else
        if state and state.put then
          item.put = { s3Key = state.put.s3Key, etag = state.put.etag, md5 = state.put.md5, size = item.size }
          item.from_journal = true
          item.in_doubt_before = (state.in_doubt or state.registering) or nil
        end
        item.state = "resolving"
        local t = self.targets[item.target_key]
        if not t then
          t = { key = item.target_key, kind = item.kind, id = item.id, items = {} }
          self.targets[item.target_key] = t
          local cached = item.kind == "entity_id" and item.id
            or self.client._entity_cache[item.kind .. ":" .. tostring(item.id)]
          if cached then
            t.state, t.entity_id = "ok", cached
          else
            t.state = "pending"
            self.target_queue[#self.target_queue + 1] = t
          end
        end
        t.items[#t.items + 1] = item
        if t.state == "ok" then self:queue_item(item) end
      end
    end
  end
end

local function make_runner(client, core, opts, jnl)
  local W, C = opts.window, opts.concurrency
  local self = setmetatable({
    client = client, core = core, journal = jnl, on_event = opts.on_event, validate = opts.validate,
    W = W, C = C, lookahead = math.max(W, C), reg_cap = math.max(W, C),
    items = {}, results = {}, targets = {}, target_queue = {}, url_queue = {}, ready = {}, reg_queue = {},
    transfers = {}, timers = {}, window_pending = {}, windows = 0,
    gql_out = 0, url_out = 0, reg_out = 0, puts_out = 0,
    counts = { graphql = 0 },
    summary = { ok = 0, failed = 0, skipped = 0, in_doubt = 0, bytes = 0, seconds = 0 },
  }, Run)
  return self
end

-- Everything before the first transfer: options, journal, items checked and
-- planned. A runner | nil, err (bad option, journal unusable); raises for a
-- misuse as error(msg, level) would in the function that calls start.
function batch.start(client, list, opts, fname, level)
  level = level + 1
  if type(list) ~= "table" then
    error("bad argument #1 to '" .. fname .. "' (table expected, got " .. type(list) .. ")", level)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to '" .. fname .. "' (table or nil expected, got " .. type(opts) .. ")", level)
  end
  local o, oerr = batch_items.options(client, opts or {})
  if not o then return nil, oerr end
  local core = client:_core_module()
  local started = core.now()
  local jnl
  if o.journal then
    local jerr
    jnl, jerr = journal_mod.open(o.journal, { core = core })
    if not jnl then return nil, jerr end
  end
  local self = make_runner(client, core, o, jnl)
  self.started = started
  self.sess = core.session({ max_host_connections = o.concurrency, max_total_connections = 2 * o.concurrency + 2 })
  local ok, perr = pcall(function()
    local records = {}
    for i = 1, #list do records[i] = batch_items.check(core, i, list[i]) end
    self:plan(records)
  end)
  if not ok then
    self:close()
    error(perr, 0)
  end
  return self
end

-- Lets go of the session and the journal (again: harmless).
function Run:close()
  if self.closed then return end
  self.closed = true
  self.sess:close()
  if self.journal then self.journal:close() end
end

-- After the last step (or an abort): whatever did not finish fails with the
-- reason, the session and journal are closed. results, summary.
function Run:finish()
  if not self.finished then
    self.finished = true
    local ok, perr = pcall(function()
      for _, item in ipairs(self.items) do
        if not FINAL[item.state] then
          self:fail(item, self.abort_err and documents.copy_error(self.abort_err)
            or errors.new("aborted", "the batch stopped before this file was done"))
        end
      end
    end)
    self:close()
    if not ok then error(perr, 0) end
    self.summary.seconds = self.core.now() - self.started
    self.summary.graphql_requests = self.counts.graphql
  end
  return self.results, self.summary
end

--- client:upload_many(items, opts) -> results, summary | nil, err (bad option,
-- journal unusable). See DESIGN.md, "Lua API".
function batch.run(client, list, opts)
  local self, err = batch.start(client, list, opts, "upload_many", 3)
  if not self then return nil, err end
  local ok, perr = pcall(self.loop, self)
  if not ok then
    -- Never expected; still no raise: every file gets a result.
    local e = errors.new("aborted", "the batch stopped on an internal error: " .. tostring(perr),
      { hint = "Run again with the same journal to finish the rest; please report this error" })
    self:abort(e)
    pcall(self.doubt_in_flight, self, e)
  end
  return self:finish()
end

return batch
