-- How an item ends and who hears of it: its result, the summary, the
-- events (on_event), the journal's records, and the abort that stops a job.
-- One object per run, shared by the stages (they fail, finish, record and
-- ask whether the run stops through it).
local errors = require("ion.upload.errors")
local stats_mod = require("ion.upload.engine.stats")

local M = {}

-- Terminal states of an item.
local FINAL = { done = true, failed = true, skipped = true }
M.FINAL = FINAL

local Outcomes = {}
Outcomes.__index = Outcomes

--- auth: the client's credentials (secrets() scrubs errors); journal: the
-- run's (or nil); windows: the run's (a failed item leaves its window);
-- opts: the checked options (on_event, on_result, keep_results).
function M.new(auth, journal, windows, opts)
  return setmetatable({
    auth = auth, journal = journal, windows = windows,
    on_event = opts.on_event, on_result = opts.on_result, keep_results = opts.keep_results ~= false,
    live = {}, results = {}, stats = stats_mod.new(), now = os.time, -- (the run sets the core's clock)
    summary = { ok = 0, failed = 0, skipped = 0, in_doubt = 0, bytes = 0, seconds = 0 },
  }, Outcomes)
end

-- An item of the run, until its result is final.
function Outcomes:track(item)
  if not self.live[item.index] then self.stats:queued(1) end
  self.live[item.index] = item
end

function Outcomes:emit(ev)
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
  if self.live[item.index] then self.stats:queued(-1) end
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

function Outcomes:fail(item, err)
  if FINAL[item.state] then return end
  item.state = "failed"
  local e = errors.scrubbed(err, self.auth:secrets())
  self.summary.failed = self.summary.failed + 1
  self.stats:failed_with(e.code)
  self.windows:leave(item)
  self:emit({ type = "error", index = item.index, path = item.path, err = e, was_in_doubt = item.was_in_doubt })
  settle(self, item, { ok = false, err = e, was_in_doubt = item.was_in_doubt })
end

function Outcomes:succeed(item, att, skipped)
  item.state = skipped and "skipped" or "done"
  if skipped then
    self.summary.skipped = self.summary.skipped + 1
  else
    self.summary.ok = self.summary.ok + 1
    self.stats:attached(item.queued_at and self.now() - item.queued_at)
  end
  if self.on_event then -- no event table a file when nobody listens (a rerun skips 100,000)
    self:emit({ type = "done", index = item.index, path = item.path, attachment = att, skipped = skipped or nil,
      bytes = item.size, total = item.size, was_in_doubt = item.was_in_doubt })
  end
  settle(self, item, { ok = true, attachment = att, skipped = skipped or nil, was_in_doubt = item.was_in_doubt })
end

-- An attempt made again (a URL asked again, a document sent again): job:stats().
function Outcomes:retried()
  self.stats:retried()
end

-- job:stats() (engine/stats.lua), with the run's GraphQL requests.
function Outcomes:stats_snapshot(requests)
  return self.stats:snapshot(self.summary, requests)
end

-- Adds n (default 1) to a figure of the summary (bytes, in_doubt).
function Outcomes:count(field, n)
  self.summary[field] = self.summary[field] + (n or 1)
end

-- The items not yet final, in input order (a copy: failing one changes it).
function Outcomes:live_items()
  local list = {}
  for _, item in pairs(self.live) do list[#list + 1] = item end
  table.sort(list, function(a, b) return a.index < b.index end)
  return list
end

function Outcomes:start_item(item)
  if item.started then return end
  item.started = true
  self:emit({ type = "start", index = item.index, path = item.path, bytes = 0, total = item.size })
end

-- Stops starting work: the stages start nothing more, PUTs and queries in
-- flight are cancelled (nothing of theirs is recorded yet); registrations in
-- flight are let finish so that the journal records what they did. (The
-- cancelling waits for the run's next step: abort may be called from a
-- callback that runs inside the session's step.)
function Outcomes:abort(err)
  if self.abort_err then return end
  self.abort_err = err
end

-- The run was stopped (abort).
function Outcomes:stopped()
  return self.abort_err ~= nil
end

-- The states of an item whose upload has not started: no byte of it sent,
-- nothing of it recorded.
local UNSTARTED = { new = true, resolving = true, url_wait = true, url = true, ready = true }

-- A gentler stop than abort (a watch's graceful stop): nothing new starts,
-- but the PUTs in flight finish and are registered, and the registrations in
-- flight finish; the items not started fail with err at once (a URL or a
-- lookup answered later finds them failed; a retry fails: Urls:retry).
function Outcomes:drain(err)
  if self.abort_err or self.drain_err then return end
  self.drain_err = err
  for _, item in ipairs(self:live_items()) do
    if UNSTARTED[item.state] then self:fail(item, errors.copy(err)) end
  end
end

-- The run neither stopped nor drains: new lookups, URLs and PUTs may start.
function Outcomes:may_start()
  return not (self.abort_err or self.drain_err)
end

-- The drain's error (a copy), nil unless the run drains.
function Outcomes:drain_error()
  return self.drain_err and errors.copy(self.drain_err)
end

function Outcomes:abort_error()
  return errors.copy(self.abort_err)
end

-- Ends the registrations in flight without their answers (the job is being
-- dropped): they may have been recorded, so each fails in doubt and the
-- journal says so (the next run registers it again).
function Outcomes:doubt_in_flight(err)
  for _, item in ipairs(self:live_items()) do
    if item.state == "reg" then
      self:record("record_in_doubt", item)
      self:fail(item, errors.in_doubt("aborted", item.path .. ": " .. err.message
        .. " while its registration was in flight"))
    end
  end
end

-- After the last step (or an abort): whatever did not finish fails with the
-- stop's reason.
function Outcomes:fail_unfinished()
  for _, item in ipairs(self:live_items()) do
    if not FINAL[item.state] then
      self:fail(item, self.abort_err and self:abort_error()
        or errors.new("aborted", "the batch stopped before this file was done"))
    end
  end
end

-- Result i (nil before it is final, or when results are not kept).
function Outcomes:result(i)
  return self.results[i]
end

-- results, summary; the run adds its own figures (seconds, GraphQL requests) once.
function Outcomes:answer(seconds, requests)
  if seconds then self.summary.seconds, self.summary.graphql_requests = seconds, requests end
  return self.results, self.summary
end

-- Journal writes: a failure stops the job (a rerun would repeat the step).
function Outcomes:record(method, item, ...)
  if not self.journal or not item.key then return true end
  local ok, err = self.journal[method](self.journal, item.key, ...)
  if not ok then self:abort(err) end
  return ok
end

-- The "registering" records of the files of one document (their keys), in
-- one write; false (and the job stops) when it failed.
function Outcomes:record_registering(keys)
  if not self.journal or #keys == 0 then return true end
  local ok, err = self.journal:record_registering(keys)
  if not ok then self:abort(err) end
  return ok
end

return M
