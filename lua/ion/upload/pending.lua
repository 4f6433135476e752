-- ion.upload.pending: uploads that a host's own event loop drives a step at a
-- time (client:start_many, client:start). A job is the batch of
-- ion.upload.batch, stepped from outside instead of looping until done:
--
--   local job = assert(client:start_many(items, opts))
--   while not job:step(0) do host_loop_turn(job:timeout()) end
--   local results, summary = job:results()
--
-- A step never waits longer than its timeout; the work it does without
-- waiting is bounded (one pass of libcurl over its sockets, our callbacks).
-- See docs/api.md, "Non-blocking use", for what may still block.
local batch = require("ion.upload.batch")
local errors = require("ion.upload.errors")

local pending = {}

-- The longest job:timeout() recommends while transfers are running: a step
-- is also what checks stall timers and the interrupt flag.
pending.max_wait = 0.2

local Job = { __name = "ion.upload.job" }
Job.__index = Job

-- level: as error()'s, seen from the function that calls argcheck.
local function argcheck(cond, n, fname, expected, got, level)
  if not cond then
    error(string.format("bad argument #%d to '%s' (%s expected, got %s)", n, fname, expected, type(got)),
      (level or 2) + 1)
  end
end

local function new_job(run, single)
  return setmetatable({ _run = run, _single = single }, Job)
end

--- client:start_many(items, opts) -> job | nil, err. The items and options
-- of upload_many; nothing moves until the first step.
function pending.start_many(client, items, opts)
  local run, err = batch.start(client, items, opts, "start_many", 3) -- 3: the caller of client:start_many
  if not run then return nil, err end
  return new_job(run, false)
end

local single_opts = { filename = true, validate = true, on_progress = true }

--- client:start(path, target, opts) -> job | nil, err. One file, the options
-- of client:upload; a bad option, target or file is reported at once.
function pending.start(client, path, target, opts)
  -- level 3: the caller of client:start
  argcheck(type(path) == "string", 1, "start", "string", path, 3)
  argcheck(type(target) == "table", 2, "start", "table", target, 3)
  argcheck(opts == nil or type(opts) == "table", 3, "start", "table or nil", opts, 3)
  opts = opts or {}
  for k in pairs(opts) do
    if not single_opts[k] then
      return nil, errors.new("bad_input", "unknown option " .. tostring(k), { field = tostring(k) })
    end
  end
  local on_progress = opts.on_progress
  if on_progress ~= nil and type(on_progress) ~= "function" then
    return nil, errors.new("bad_input", "on_progress: expected a function", { field = "on_progress" })
  end
  local run
  local on_event = on_progress and function(ev)
    if ev.type ~= "progress" then return end
    local ok, more = pcall(on_progress, ev.bytes, ev.total)
    if not ok then
      run:abort(errors.new("aborted", "on_progress raised an error: " .. tostring(more)))
    elseif more == false then
      run:abort(errors.new("aborted", "on_progress asked to stop"))
    end
  end
  local err
  run, err = batch.start(client, { { path = path, target = target, filename = opts.filename } },
    { concurrency = 1, window = 1, validate = opts.validate, on_event = on_event }, "start", 4)
  if not run then return nil, err end
  local first = run.results[1]
  if first and not first.ok then -- refused before any traffic (file, target, filename)
    run:finish()
    return nil, first.err
  end
  return new_job(run, true)
end

---------------------------------------------------------------------------
-- Stepping

-- Ends the job now, whatever is in flight: transfers are dropped with the
-- session; a registration already sent may have been recorded, so it fails
-- in doubt (and the journal says so: the next run registers it again).
function Job:_stop(err)
  local run = self._run
  run:abort(err)
  pcall(run.doubt_in_flight, run, err)
  self:_finish()
end

function Job:_finish()
  self._results, self._summary = self._run:finish()
  if self._single then
    local r = self._results[1]
    local att = r and r.ok and r.attachment
    if att and att.id ~= nil and att.md5 then
      self._run.client:_remember_md5(att.id, att.md5) -- client:download checks against it
    end
  end
end

--- job:step(timeout) -> done. Moves the job on, waiting at most `timeout`
-- seconds (default 0: do what is ready and return). True once every file
-- has its result. A raise from inside (never expected) ends the job before
-- it propagates: every unfinished file fails with `aborted`.
function Job:step(timeout)
  argcheck(timeout == nil or (type(timeout) == "number" and timeout >= 0), 1, "step",
    "non-negative number or nil", timeout)
  if self._results then return true end
  if self._stepping then
    error("job is busy: step() called from one of its own callbacks", 2)
  end
  self._stepping = true
  local ok, done = pcall(self._run.step, self._run, timeout or 0)
  self._stepping = false
  if not ok then
    self:_stop(errors.new("aborted", "a step raised an error: " .. tostring(done),
      { hint = "Run again (with the same journal) to finish the rest" }))
    error(done, 0)
  end
  if done then self:_finish() end
  return done
end

--- job:done() -> boolean
function Job:done()
  return self._results ~= nil
end

--- job:timeout() -> seconds the host may wait before the next step (0: step
-- now). Waiting on job:fds() as well lets the host wake up sooner.
function Job:timeout()
  if self._results then return 0 end
  local run = self._run
  local wait = run:next_due()
  if run:busy() then
    local t = run.sess:timeout()
    wait = math.min(wait or pending.max_wait, t or pending.max_wait, pending.max_wait)
  elseif wait == nil then
    wait = 0 -- nothing in flight and nothing due: the next step finishes
  end
  return wait
end

--- job:fds() -> readable, writable: arrays of file descriptors worth waiting
-- on with poll/select (readable for reading, writable for writing), with
-- job:timeout() as the timeout: libcurl's sockets and the session's wake
-- descriptor (readable when a paused PUT can go on). Both empty once done.
function Job:fds()
  if self._results then return {}, {} end
  return self._run.sess:fds()
end

--- job:cancel([reason]) — stop: no new transfer starts, PUTs and queries in
-- flight are cancelled, registrations in flight are let finish (so the
-- journal records them). Keep stepping until done; the files not attached
-- fail with `aborted`.
function Job:cancel(reason)
  if self._results then return end
  local run = self._run
  run:abort(errors.new("aborted", reason and tostring(reason) or "cancelled",
    { hint = "Run again (with the same journal) to finish the rest" }))
  if not self._stepping then run:cancel_for_abort() end
end

--- job:close() — end at once, without waiting for anything (also __close on
-- Lua 5.4 and __gc on 5.2+). Idempotent.
function Job:close()
  if self._results then return end
  if self._stepping then error("job is busy: close() called from one of its own callbacks", 2) end
  self:_stop(errors.new("aborted", "the job was closed",
    { hint = "Run again (with the same journal) to finish the rest" }))
end
Job.__close = function(job) job:close() end
Job.__gc = Job.__close

--- job:results() -> results, summary once done (nil before): as upload_many.
function Job:results()
  return self._results, self._summary
end

--- job:result() -> att | nil, err once a client:start job is done (nil before).
function Job:result()
  local r = self._results and self._results[1]
  if not r then return nil end
  if r.ok then return r.attachment end
  return nil, r.err
end

local function outcome(job)
  if job._single then return job:result() end
  return job:results()
end

--- job:wait() -> the job's outcome (job:result() or job:results()): steps
-- until done, blocking, as client:upload and upload_many do.
function Job:wait()
  while not self:step(pending.max_wait) do end
  return outcome(self)
end

--- job:run_in_coroutine([yield]) -> the job's outcome. Inside a coroutine:
-- one step(0), then yield(job:timeout()), until done. yield defaults to
-- coroutine.yield; a scheduler passes its own (copas: function(t)
-- copas.pause(math.min(t, 0.01)) end). Callbacks must not yield.
function Job:run_in_coroutine(yield)
  argcheck(yield == nil or type(yield) == "function", 1, "run_in_coroutine", "function or nil", yield)
  if yield == nil then
    local co, main = coroutine.running()
    if co == nil or main then error("run_in_coroutine: not inside a coroutine (give a yield function)", 2) end
    yield = coroutine.yield
  end
  while not self:step(0) do yield(self:timeout()) end
  return outcome(self)
end

return pending
