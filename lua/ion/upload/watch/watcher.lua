-- ion.upload.watch.watcher: a hot folder over the engine. client:watch(dir, opts)
-- returns a job the host steps like start_many's; files that appear in dir
-- (inotify through core.watcher, or a scan every `poll` seconds) are taken
-- once settled (unchanged in size and mtime for `settle` seconds), matched
-- to a target (rules or one target) and added to one open engine job.
--
-- Identity is (path, size, mtime): a file rewritten later is taken again.
-- Transient failures (ION or storage down, 5xx, 429) keep the file queued
-- and retry with a backoff capped at `retry_cap`; permanent ones are
-- reported once per (file, rules generation); in-doubt ones are left to the
-- journal (the next run registers them again) and never moved or deleted.
--
-- The parts, each an object of its own that the others use through its
-- methods: watch/options (the options checked) and watch/folders (the move
-- and failed folders checked at start); then, made at start, a Queue (the
-- files in flight, waiting, held and uploaded: watch/queue), Candidates
-- (seeing and settling files), Outcomes (taking them into the engine, and
-- what the engine's outcomes mean: retry, hold, done), After (move, delete,
-- failed) and Outage ("waiting for ION since …", then resumed); and
-- watch/notify (what systemd is told: ready, status, the watchdog's pings).
local check = require("ion.upload.check")
local errors = require("ion.upload.errors")
local rules_mod = require("ion.upload.watch.rules")
local folders = require("ion.upload.watch.folders")
local options = require("ion.upload.watch.options")
local Queue = require("ion.upload.watch.queue")
local Candidates = require("ion.upload.watch.candidates")
local Outcomes = require("ion.upload.watch.outcomes")
local After = require("ion.upload.watch.after")
local Outage = require("ion.upload.watch.outage")
local Services = require("ion.upload.watch.services")
local status_stats = require("ion.upload.status.stats")

local watch = {}

watch.default_settle = 2
watch.default_retry_cap = 60
-- How long a target found by name that matches nothing is waited for.
watch.default_target_wait = 3600
-- The longest a step sleeps when nothing is due. Everything that brings
-- work wakes the poll itself (the inotify fd, libcurl's sockets, the
-- session's wake pipe, and a caught SIGINT/SIGTERM/SIGHUP through the
-- core's signal pipe), so this only bounds the idle wakeups: two a minute.
watch.idle_wait = 30

local Watch = { __name = "ion.upload.watch.watcher" }
Watch.__index = Watch

--- watch.start(ctx, start_many, dir, opts) -> job | nil, err. ctx: the
-- client's narrow context (ion.upload.context); start_many(engine_opts) ->
-- job | nil, err starts the watch's one open engine job.
function watch.start(ctx, start_many, dir, opts, level)
  check.arg(type(dir) == "string", 1, "watch", "string", dir, level)
  check.arg(opts == nil or type(opts) == "table", 2, "watch", "table or nil", opts, level)
  local o, err = options.check(opts or {}, { settle = watch.default_settle, retry_cap = watch.default_retry_cap,
    target_wait = watch.default_target_wait })
  if not o then return nil, err end
  local core = ctx.core()
  local root, rerr = core.realpath(dir)
  if not root then
    return options.bad(tostring(type(rerr) == "table" and rerr.message or rerr), "dir", "Name a folder that exists")
  end
  local st = core.stat(root)
  if not st or st.type ~= "directory" then return options.bad(dir .. ": not a folder", "dir", "Name a folder") end
  local fok, ferr = folders.check(core, root, o)
  if not fok then return nil, ferr end
  local self = setmetatable({ core = core, root = root, o = o, stopping = false }, Watch)
  self.services = Services.new() -- what turns with the loop: systemd's notifier (opts.notify), a status server
  self.services:add(require("ion.upload.watch.notify").new(self))
  local emit = function(ev)
    self.services:event(ev)
    if o.on_event then o.on_event(ev) end
  end
  self.emit = emit
  local queue = Queue.new(core)
  self.queue = queue
  self.candidates = Candidates.new(core, root, o, queue, emit)
  self.outage = Outage.new(queue, emit)
  self.counts = status_stats.new() -- the watch's own figures of job:stats()
  self.outcomes = Outcomes.new({ core = core, random = ctx.random, root = root, o = o, emit = emit, queue = queue,
    candidates = self.candidates, outage = self.outage, after = After.new(core, root, o, queue, emit),
    counts = self.counts,
    add = function(item) return self.job:add(item) end })

  local job, jerr = start_many(options.engine(o, function(ev) self.outcomes:engine_event(ev) end))
  if not job then return nil, jerr end
  self.job = job
  job:keep_on_interrupt() -- the watch stops gently on SIGINT and SIGTERM (Watch:tick)

  if not o.poll then
    local w, werr = core.watcher(root)
    if w then
      self.watcher = w
    elseif werr and werr.code == "unsupported" then
      o.poll = 2
    else -- the core's error: a plain table (it prints as such)
      job:close()
      return nil, errors.from_core(werr, "watch: ")
    end
  end
  self.candidates:scan("")
  self.next_scan = o.poll and (core.now() + o.poll) or nil
  return self
end

-- Whether nothing is left to do for `once`: no candidates, nothing queued.
function Watch:idle()
  return self.candidates:empty() and self.queue:empty()
end

-- Seconds until the next thing of ours is due (settle, retry, scan), or nil.
function Watch:next_due(now)
  local due = self.candidates:next_due()
  local function at(t)
    if t and (not due or t < due) then due = t end
  end
  at(self.queue:next_due())
  if not self.stopping then at(self.next_scan) end
  return due and math.max(0, due - now) or nil
end

function Watch:tick()
  local now = self.core.now()
  -- a caught SIGINT or SIGTERM (core.catch_interrupt) is the graceful stop
  if not self.stopping and self.core.interrupted and self.core.interrupted() then self:stop() end
  self.outcomes:handle(now)
  -- the job stopped on a failure no file escapes (a rejected token): so does the watch
  if not self.stopping and self.job:stopping() then self:stop() end
  if not self.stopping then
    if self.watcher then self.candidates:read(self.watcher) end
    if self.next_scan and now >= self.next_scan then
      self.candidates:scan("")
      self.next_scan = now + self.o.poll
    end
    local outcomes = self.outcomes
    self.candidates:settle(now, function(rel, c) outcomes:take(rel, c) end)
    outcomes:retry_due(now)
  end
  if (self.o.once or self.stopping) and not self.input_finished and (self.stopping or self:idle()) then
    self.input_finished = true
    self.job:finish_input()
  end
  -- last, so that what they say is after this turn's outcomes (systemd's
  -- READY, STATUS, the watchdog's ping: only while the loop turns)
  self.services:step(self, now)
end

--- job:step(timeout) -> done
function Watch:step(timeout)
  timeout = timeout or 0
  if self.job:done() then return true end
  self:tick()
  local done = self.job:step(0)
  local wait = math.min(timeout, self:timeout())
  if not done and wait > 0 then
    -- one poll() on everything that can bring work (the watcher's inotify
    -- fd, libcurl's sockets, the session's wake pipe) until the first thing
    -- due: idle, that is two wakeups a minute
    if self.core.poll then
      local r, w = self:fds()
      self.core.poll(r, w, wait)
    else
      self.core.sleep(wait)
    end
  end
  self:tick()
  if not done then done = self.job:step(0) end
  if done then
    self:close_watcher()
    self.services:close()
  end
  return done
end

function Watch:timeout()
  if self.job:done() then return 0 end
  if self.outcomes:pending() then return 0 end
  local now = self.core.now()
  -- an open job with nothing to do says 0.2 s (it waits for items); ours
  -- come through the watcher's fd or our own timers, so idle is idle_wait
  local t = watch.idle_wait
  if not self.job:idle() then t = math.min(self.job:timeout(), t) end
  local due = self:next_due(now)
  if due and due < t then t = due end
  return math.min(t, self.services:due(now))
end

function Watch:fds()
  if self.job:done() then return {}, {} end
  local r, w = self.job:fds()
  if self.watcher then r[#r + 1] = self.watcher:fd() end
  self.services:fds(r, w)
  return r, w
end

function Watch:done()
  return self.job:done()
end

--- job:stats() (docs/api.md): the engine's counts with the watch's own.
function Watch:stats() return status_stats.of(self.job:stats(), self.counts, self:queued(), self.outage) end

--- The reason the watch stopped by itself (its job's job:stopping()), nil
-- before: a failure no file escapes (a rejected token), a journal that
-- could not be written, a callback that raised.
function Watch:stop_reason()
  return self.job:stopping()
end

--- Stop taking files; registrations in flight finish (see job:cancel).
function Watch:cancel(reason)
  self:stop_taking()
  self.queue:drop_waiting()
  self:close_watcher()
  self.job:cancel(reason or "the watch was stopped")
end

-- The graceful stop: no file is taken, no upload starts; the PUTs in flight
-- finish and are registered, the registrations in flight finish. The files
-- taken but not started (in the engine, or waiting for a retry) end
-- `aborted` and stay where they are.
function Watch:stop()
  if self.stopping then return end
  self:stop_taking()
  local err = errors.new("aborted", "the watch stopped before this file's upload started",
    { hint = "The file stays in the folder: the next start of the watch takes it" })
  for _, rel in ipairs(self.queue:drop_waiting()) do
    self.emit({ type = "error", rel = rel, path = self.root .. "/" .. rel, err = errors.copy(err) })
  end
  self:close_watcher()
  self.job:drain(err)
end

-- No file is seen or taken any more, and a failure is final.
function Watch:stop_taking()
  self.stopping = true
  self.candidates:stop()
  self.outcomes:stop()
end

function Watch:close_watcher()
  self.services:stopping() -- the folder is no longer watched (systemd's STOPPING=1, once)
  if self.watcher then
    self.watcher:close()
    self.watcher = nil
  end
end

function Watch:close()
  self:close_watcher()
  self.services:close()
  self.job:close()
end

--- Reloads the rules from their file; a bad file keeps the old rules.
function Watch:reload_rules()
  self.services:reloading() -- systemd's RELOADING=1 now, READY=1 when the loop turns again
  if not self.o.rules then return true end
  local set, err = rules_mod.reload(self.o.rules)
  if err then
    self.emit({ type = "rules_error", err = err })
    return nil, err
  end
  self.o.rules = set
  self.outcomes:use_rules(set)
  self.queue:next_generation()
  self.emit({ type = "rules_reloaded" })
  self.candidates:scan("")
  return true
end

-- Adds a service that turns with the watch's loop (watch/services.lua).
function Watch:serve(service)
  self.services:add(service)
end

--- w:queued() -> files taken and not finished, held for a retry included.
function Watch:queued()
  return self.queue:queued_count()
end

--- w:waiting_message() -> "waiting for ION since …" while a wait is on, else nil.
function Watch:waiting_message()
  return self.outage:message()
end

--- w:results() -> {}, summary once done (nil before): a watch keeps no
-- per-file results (its events report each file), only the summary's counts.
function Watch:results()
  return self.job:results()
end

function Watch:run()
  while not self:step(math.huge) do end
  return self.job:results()
end
Watch.wait = Watch.run

return watch
