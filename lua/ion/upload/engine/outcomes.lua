-- How an item ends and who hears of it: its result, the summary, the
-- events (on_event), the journal's records, and the abort that stops a job.
local errors = require("ion.upload.errors")

local M = {}

-- Terminal states of an item.
local FINAL = { done = true, failed = true, skipped = true }
M.FINAL = FINAL

function M.emit(self, ev)
  if not self.on_event or self.event_failed then return end
  local ok, e = pcall(self.on_event, ev)
  if not ok then
    self.event_failed = true
    self:abort(errors.new("aborted", "on_event raised an error: " .. tostring(e),
      { hint = "Fix the on_event callback; run again with the same journal to finish" }))
  end
end

-- An item's result is final: kept for job:results() (unless keep_results
-- is false: a back-fill of a million files keeps none), handed to on_result,
-- and the item is let go.
local function settle(self, item, result)
  self.live[item.index] = nil
  if self.keep_results then self.results[item.index] = result end
  if not self.on_result or self.result_failed then return end
  local ok, e = pcall(self.on_result, item.index, result)
  if not ok then
    self.result_failed = true
    self:abort(errors.new("aborted", "on_result raised an error: " .. tostring(e),
      { hint = "Fix the on_result callback; run again with the same journal to finish" }))
  end
end

function M.fail(self, item, err)
  if FINAL[item.state] then return end
  item.state = "failed"
  local e = errors.scrubbed(err, self.ctx.auth:secrets())
  self.summary.failed = self.summary.failed + 1
  self:leave_window(item)
  self:emit({ type = "error", index = item.index, path = item.path, err = e, was_in_doubt = item.was_in_doubt })
  settle(self, item, { ok = false, err = e, was_in_doubt = item.was_in_doubt })
end

function M.succeed(self, item, att, skipped)
  item.state = skipped and "skipped" or "done"
  if skipped then
    self.summary.skipped = self.summary.skipped + 1
  else
    self.summary.ok = self.summary.ok + 1
  end
  if self.on_event then -- no event table a file when nobody listens (a rerun skips 100,000)
    self:emit({ type = "done", index = item.index, path = item.path, attachment = att, skipped = skipped or nil,
      bytes = item.size, total = item.size, was_in_doubt = item.was_in_doubt })
  end
  settle(self, item, { ok = true, attachment = att, skipped = skipped or nil, was_in_doubt = item.was_in_doubt })
end

-- The items not yet final, in input order (a copy: failing one changes it).
function M.live_items(self)
  local list = {}
  for _, item in pairs(self.live) do list[#list + 1] = item end
  table.sort(list, function(a, b) return a.index < b.index end)
  return list
end

function M.start_item(self, item)
  if item.started then return end
  item.started = true
  self:emit({ type = "start", index = item.index, path = item.path, bytes = 0, total = item.size })
end

-- Stops starting work: PUTs and queries in flight are cancelled (nothing of
-- theirs is recorded yet); registrations in flight are let finish so that the
-- journal records what they did. (The cancelling waits for schedule(): abort
-- may be called from a callback that runs inside the session's step.)
function M.abort(self, err)
  if self.abort_err then return end
  self.abort_err = err
end

-- A failure every other file would meet too: the credentials refused
-- (auth), or the GraphQL endpoint answering as no GraphQL server does (an
-- HTML page, a 404: protocol) before it ever answered as ION. The job stops
-- on it as on job:cancel, and the files not yet final fail with it, under
-- its own code (job:stopping() tells it, scrubbed like a file's error).
function M.stop_if_run_wide(self, err)
  if self.abort_err or not (err.code == "auth" or (err.code == "protocol" and not self.ion_answered)) then return end
  local e = errors.new(err.code, err.message, { status = err.status, hint = not err.in_doubt and err.hint or nil })
  self:abort(errors.scrubbed(e, self.ctx.auth:secrets()))
end

-- The states of an item whose upload has not started: no byte of it sent,
-- nothing of it recorded.
local UNSTARTED = { new = true, resolving = true, url_wait = true, url = true, ready = true }

-- A gentler stop than abort (a watch's graceful stop): nothing new starts,
-- but the PUTs in flight finish and are registered, and the registrations in
-- flight finish; the items not started fail with err at once (a URL or a
-- lookup answered later finds them failed; requeue_url fails a retry).
function M.drain(self, err)
  if self.abort_err or self.drain_err then return end
  self.drain_err = err
  self.ready, self.url_retry, self.target_queue = {}, {}, {}
  self.url_queue, self.url_head, self.url_tail = {}, 1, 0
  for _, item in ipairs(self:live_items()) do
    if UNSTARTED[item.state] then self:fail(item, errors.copy(err)) end
  end
end

function M.abort_error(self)
  return errors.copy(self.abort_err)
end

-- Ends the registrations in flight without their answers (the job is being
-- dropped): they may have been recorded, so each fails in doubt and the
-- journal says so (the next run registers it again).
function M.doubt_in_flight(self, err)
  for _, item in ipairs(self:live_items()) do
    if item.state == "reg" then
      self:record("record_in_doubt", item)
      self:fail(item, errors.in_doubt("aborted", item.path .. ": " .. err.message
        .. " while its registration was in flight"))
    end
  end
end

function M.cancel_for_abort(self)
  if not self.abort_err or self.cancelled then return end
  self.cancelled = true
  -- a document waiting to be sent again (after a 429, a 503, a lost
  -- connection) is not in flight: it ends at the next step, with the abort
  -- (Run:send), not when its wait runs out
  local now = self.clock.now()
  for _, t in ipairs(self.timers) do
    if t.resend then t.at = math.min(t.at, now) end
  end
  for id, t in pairs(self.transfers) do
    if t.kind ~= "reg" then self.transport:cancel(id) end
  end
  -- waits for the client's token fetch end too (at the next step, as a
  -- cancelled transfer does); the fetch goes on for other jobs waiting
  for wait in pairs(self.token_waits) do
    if self.ctx.auth:leave(self.ctx, wait) then
      self:later(0, function() wait.on_token(nil, self:abort_error()) end)
    end
  end
end

-- Lets go of the waits for the client's token fetch (the run closes): their
-- callbacks are not called.
function M.leave_token_waits(self)
  for wait in pairs(self.token_waits) do self.ctx.auth:leave(self.ctx, wait) end
  self.token_waits = {}
end

-- Journal writes: a failure stops the job (a rerun would repeat the step).
function M.record(self, method, item, ...)
  if not self.journal or not item.key then return true end
  local ok, err = self.journal[method](self.journal, item.key, ...)
  if not ok then self:abort(err) end
  return ok
end

return M
