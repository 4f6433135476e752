-- ion.upload.job: the jobs of the engine (ion.upload.engine.run), as every
-- entry point sees them. client:upload is a job of one file, waited on;
-- upload_many a job over a list, waited on; start and start_many hand the
-- same jobs to the host's own loop, a step at a time:
--
--   local job = assert(client:start_many(items, opts))
--   while not job:step(0) do host_loop_turn(job:timeout()) end
--   local results, summary = job:results()
--
-- A job takes items over time: start_many(items, { open = true }), then
-- job:add(item) as they come and job:finish_input() when no more will come;
-- it is done once its input is finished and every item has its result.
-- start_many(items) without `open` finishes its input at once.
--
-- A step never waits longer than its timeout; the work it does without
-- waiting is bounded (one pass of libcurl over its sockets, our callbacks).
-- See docs/api.md, "Non-blocking use", for what may still block.
local check = require("ion.upload.check")
local errors = require("ion.upload.errors")
local run_mod = require("ion.upload.engine.run")
local items_mod = require("ion.upload.engine.items")

local job = {}

-- The longest job:timeout() recommends while transfers are running: a step
-- is also what checks stall timers and the interrupt flag.
job.max_wait = 0.2

local Job = { __name = "ion.upload.job" }
Job.__index = Job

local function new_job(run, ctx, single)
  return setmetatable({ _run = run, _ctx = ctx, _single = single }, Job)
end

-- A run with its first items planned: run | nil, err. Raises for a misuse
-- as error(msg, level) would in the function that calls it.
local function open_run(ctx, list, opts, may_open, fname, level)
  check.arg(type(list) == "table", 1, fname, "table", list, level)
  check.arg(opts == nil or type(opts) == "table", 2, fname, "table or nil", opts, level)
  local o, oerr = items_mod.options(ctx.cfg, opts or {}, may_open)
  if not o then return nil, oerr end
  local run, rerr = run_mod.open(ctx, o)
  if not run then return nil, rerr end
  local ok, perr = pcall(run.add_items, run, list)
  if not ok then
    run:close()
    error(perr, 0)
  end
  if not o.open then run:finish_input() end
  return run
end

--- client:start_many(items, opts) -> job | nil, err. The items and options
-- of upload_many, and `open` (keep taking items until job:finish_input());
-- nothing moves until the first step.
function job.start_many(ctx, items, opts, fname, level)
  local run, err = open_run(ctx, items, opts, fname == "start_many", fname, level + 1)
  if not run then return nil, err end
  return new_job(run, ctx, false)
end

local single_opts = { filename = true, validate = true, on_progress = true, sha256 = true }

--- client:start(path, target, opts) -> job | nil, err. One file, the options
-- of client:upload; a bad option, target or file is reported at once.
function job.start(ctx, path, target, opts, fname, level)
  check.arg(type(path) == "string", 1, fname, "string", path, level)
  check.arg(type(target) == "table", 2, fname, "table", target, level)
  check.arg(opts == nil or type(opts) == "table", 3, fname, "table or nil", opts, level)
  opts = opts or {}
  local ok, oerr = check.options(opts, single_opts)
  if not ok then return nil, oerr end
  local on_progress = opts.on_progress
  local run
  local on_event = on_progress and function(ev)
    if ev.type ~= "progress" then return end
    local pok, more = pcall(on_progress, ev.bytes, ev.total)
    if not pok then
      run:abort(errors.new("aborted", "on_progress raised an error: " .. tostring(more)))
    elseif more == false then
      run:abort(errors.new("aborted", "on_progress asked to stop"))
    end
  end
  local err
  run, err = open_run(ctx, { { path = path, target = target, filename = opts.filename } },
    { concurrency = 1, window = 1, validate = opts.validate, on_event = on_event, sha256 = opts.sha256 }, false,
    fname, level + 1)
  if not run then return nil, err end
  local first = run:result(1)
  if first and not first.ok then -- refused before any traffic (file, target, filename)
    run:finish()
    return nil, first.err
  end
  return new_job(run, ctx, true)
end

--- client:upload_many(items, opts) -> results, summary | nil, err (bad
-- option, journal unusable): start_many's job, waited on. Never raises once
-- started: an internal error (never expected) fails every unfinished file.
function job.upload_many(ctx, items, opts, level)
  local j, err = job.start_many(ctx, items, opts, "upload_many", level + 1)
  if not j then return nil, err end
  local run = j._run
  local ok, perr = pcall(function()
    while not run:step(math.huge) do end
  end)
  if not ok then
    local e = errors.new("aborted", "the batch stopped on an internal error: " .. tostring(perr),
      { hint = "Run again with the same journal to finish the rest; please report this error" })
    run:abort(e)
    pcall(run.doubt_in_flight, run, e)
  end
  j:_finish()
  return j:results()
end

---------------------------------------------------------------------------
-- Input over time

--- job:add(item) -> its index (its place in job:results()); nil for an
-- item of another shard (option shard), left out. The item is
-- checked at once (a bad one fails alone, as in upload_many). Raises once
-- the input is finished (finish_input, or cancel).
function Job:add(item)
  if self._run:input_finished() then
    error("job:add: the input is finished (finish_input or cancel was called)", 2)
  end
  return self._run:add_items({ item })
end

--- job:finish_input(): no more items will come; the job ends once those it
-- has are done. Idempotent.
function Job:finish_input()
  self._run:finish_input()
end

--- job:stopping() -> the reason (an `aborted` error, a copy) once the job
-- was stopped (cancel, an interrupt, a callback that raised, a journal that
-- could not be written), nil before. Nothing new starts then: a host that
-- feeds an open job stops adding and calls finish_input.
function Job:stopping()
  return self._run:stopping()
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
      self._ctx.md5.remember(att.id, att.md5) -- client:download checks against it
    end
  end
end

--- job:step(timeout) -> done. Moves the job on, waiting at most `timeout`
-- seconds (default 0: do what is ready and return). True once every file
-- has its result. A raise from inside (never expected) ends the job before
-- it propagates: every unfinished file fails with `aborted`.
function Job:step(timeout)
  check.arg(timeout == nil or (type(timeout) == "number" and timeout >= 0), 1, "step",
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
function Job:done() return self._results ~= nil end

--- job:timeout() -> seconds the host may wait before the next step (0: step
-- now). Waiting on job:fds() as well lets the host wake up sooner.
function Job:timeout()
  if self._results then return 0 end
  return self._run:timeout(job.max_wait)
end

--- job:idle() -> true while the job only waits for items (its input open).
function Job:idle()
  return not self._results and self._run:idle()
end

--- job:stats() -> a plain table of counts, also once done (docs/api.md).
function Job:stats() return self._run:stats() end

--- job:session() -> the client's session, shared by its jobs (and their
-- descriptors: an adapter polls one job of a client at a time).
function Job:session()
  return self._run:session()
end

--- job:fds() -> readable, writable: arrays of file descriptors worth waiting
-- on with poll/select (readable for reading, writable for writing), with
-- job:timeout() as the timeout: libcurl's sockets and the session's wake
-- descriptor (readable when a paused PUT can go on). Both empty once done.
function Job:fds()
  if self._results then return {}, {} end
  return self._run:fds()
end

-- The watch's: the gentler stop (nothing new starts, the files waiting
-- fail with err, what is in flight finishes: keep stepping until done), and
-- no stop on a SIGINT or SIGTERM the core caught (the watch drains instead).
function Job:drain(err)
  if not self._results then self._run:drain(err) end
end
function Job:keep_on_interrupt() self._run:keep_on_interrupt() end

--- job:cancel([reason]) — stop: no new transfer starts, PUTs and queries in
-- flight are cancelled, documents waiting to be sent again (a Retry-After)
-- end at the next step, registrations in flight are let finish (so the
-- journal records them). Keep stepping until done; the files not attached
-- fail with `aborted`, the reason as message.
function Job:cancel(reason)
  if self._results then return end
  local run = self._run
  run:abort(errors.new("aborted", reason and tostring(reason) or "cancelled",
    { hint = "Run again (with the same journal) to finish the rest" }))
  run:finish_input() -- an open job would otherwise wait for items forever
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
Job.__close = function(j) j:close() end
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

local function outcome(j)
  if j._single then return j:result() end
  return j:results()
end

--- job:wait() -> the job's outcome (job:result() or job:results()): steps
-- until done, blocking, as client:upload and upload_many do.
function Job:wait()
  while not self:step(math.huge) do end
  return outcome(self)
end

--- job:run_in_coroutine([yield]) -> the job's outcome. Inside a coroutine:
-- one step(0), then yield(job:timeout()), until done. yield defaults to
-- coroutine.yield; a scheduler passes its own (copas: function(t)
-- copas.pause(math.min(t, 0.01)) end). Callbacks must not yield.
function Job:run_in_coroutine(yield)
  check.arg(yield == nil or type(yield) == "function", 1, "run_in_coroutine", "function or nil", yield)
  if yield == nil then
    local co, main = coroutine.running()
    if co == nil or main then error("run_in_coroutine: not inside a coroutine (give a yield function)", 2) end
    yield = coroutine.yield
  end
  while not self:step(0) do yield(self:timeout()) end
  return outcome(self)
end

return job
