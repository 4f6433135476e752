-- The engine: one run of a job, stepped. Its items go through stages, each
-- an object with its own queue and counters (engine/lookups.lua, urls.lua,
-- puts.lua, registrations.lua); a small scheduler, at each step, fires the
-- timers that are due, then lets each stage start what it can, in this order:
--   lookups        targets to entity ids
--   registrations  finished files registered (never waiting behind URLs)
--   puts           files PUT to their URLs
--   urls           upload URLs, a window ahead
-- Every stage has start() (start what it can) and next_due(now) (when it has
-- something to do next, the clock's time, or nil); it hands an item on by a
-- call of the next stage (urls:queue, puts:queue, registrations:ready, and
-- urls:retry back). What the stages share is passed to each as one object
-- of services: the client's context, the core, outcomes (how an item ends:
-- results, events, journal records, the stop), docs (GraphQL documents, with
-- the rules of ion.upload.graphql), traffic (transfers on the client's one
-- session, timers) and windows. Items may be added while the run goes
-- (Run:add_items); it ends once its input is finished and nothing is left.
local errors = require("ion.upload.errors")
local journal_mod = require("ion.upload.journal.file")
local items_mod = require("ion.upload.engine.items")
local lookups_mod = require("ion.upload.engine.lookups")
local outcomes_mod = require("ion.upload.engine.outcomes")
local plan_mod = require("ion.upload.engine.resume")
local puts_mod = require("ion.upload.engine.puts")
local registrations_mod = require("ion.upload.engine.registrations")
local send = require("ion.upload.engine.send")
local traffic_mod = require("ion.upload.engine.traffic")
local urls_mod = require("ion.upload.engine.urls")
local windows_mod = require("ion.upload.engine.windows")

local Run = {}
Run.__index = Run

local run = {}

-- A URL older than this is not used: storage URLs live "a few minutes".
run.url_max_age = 120
-- A finished file's registration waits this long for others to share its
-- document (unless a window's worth is ready sooner), counted again from
-- each later PUT end among them, but never longer than the cap: about four
-- times the ~0.5 s a window of 50 small files takes to PUT here, so a window
-- still goes out whole under load, while a file finished beside PUTs that
-- keep ending is attached within seconds.
run.linger = 0.25
run.linger_cap = 2
-- The longest one step waits for transfers, and sleeps while the input is
-- open and nothing moves, so an interrupt, a cancel, a timer or an item
-- added from a callback is seen soon.
run.idle_step = 0.2

---------------------------------------------------------------------------
-- The scheduler

function Run:busy()
  return self.traffic:busy() or self.docs:waiting_for_token()
end

function Run:fire_timers()
  self.traffic:fire_due()
  self.docs:fire_due(self.core.now())
end

local function earlier(at, t)
  if t and (not at or t < at) then return t end
  return at
end

-- Seconds until the next timer, URL retry or lingering registration is due
-- (nil: none).
function Run:next_due()
  local now = self.core.now()
  local at = earlier(self.traffic:next_at(), self.docs:next_at())
  if not self.outcomes:stopped() then
    for _, stage in ipairs(self.stages) do at = earlier(at, stage:next_due(now)) end
  end
  return at and math.max(0, at - now) or nil
end

-- The run stops (an abort): the transfers, resends and token waits it
-- cancels end at the next step (abort may be called from a callback that
-- runs inside the session's step).
function Run:cancel_for_abort()
  if self.cancelled or not self.outcomes:stopped() then return end
  self.cancelled = true
  self.traffic:cancel()
  self.docs:cancel()
end

function Run:schedule()
  self:fire_timers()
  if self.abort_on_interrupt and self.core.interrupted and not self.outcomes:stopped()
    and self.core.interrupted() then
    self.outcomes:abort(errors.new("aborted", "interrupted",
      { hint = "Run the same command again (with the same journal) to finish the rest" }))
  end
  self:cancel_for_abort()
  for _, stage in ipairs(self.stages) do stage:start() end
end

-- One turn, waiting at most `timeout` seconds: hands out the transfers that
-- finished, then starts what they made possible. True once every item has
-- its result and no more will come.
function Run:step(timeout)
  self:schedule()
  local wait = self:next_due()
  local busy = self:busy()
  if busy and self.transport:busy() then
    if self.transport:step(math.min(timeout, wait or timeout, run.idle_step)) > 0 then self:schedule() end
    return false
  end
  if not wait then
    if not busy and self.input_done then return true end
    wait = run.idle_step -- open input: items may come from a callback
  end
  if wait > 0 and timeout > 0 then self.core.sleep(math.min(timeout, wait)) end
  return false
end

-- Seconds a host may wait before the next step, at most max_wait while
-- transfers run or the input is open (job:timeout()).
function Run:timeout(max_wait)
  local wait = self:next_due()
  if self:busy() then
    local t = self.transport:timeout()
    wait = math.min(wait or max_wait, t or max_wait, max_wait)
  elseif wait == nil then
    -- nothing in flight and nothing due: the next step finishes, unless
    -- more items may come
    wait = self.input_done and 0 or max_wait
  end
  return wait
end

-- Nothing in flight, nothing due, and the input open: the run waits for items.
function Run:idle()
  return not self:busy() and not self:next_due() and not self.input_done
end

-- The client's session (its descriptors are every job's of the client).
function Run:session()
  return self.transport
end

function Run:fds()
  return self.transport:fds()
end

---------------------------------------------------------------------------
-- Life of a run

--- A run over ctx (the client's narrow context: cfg, auth, transport, core,
-- random, entities) with checked options (engine/items.lua) and an open
-- journal (or nil). opts.lookups_only: the run stops after the lookups
-- (client:plan): no URL, PUT or registration, no schema question, every
-- item kept (Run:items) and, once its target is known, `planned`.
function run.new(ctx, opts, jnl)
  local core = ctx.core()
  local windows = windows_mod.new()
  local traffic = traffic_mod.new(ctx.transport, core)
  local outcomes = outcomes_mod.new(ctx.auth, jnl, windows, opts)
  outcomes.now = core.now
  local docs = send.new(ctx, traffic, outcomes,
    { window = opts.window, concurrency = opts.concurrency, ask_schema = not opts.lookups_only })
  local svc = { ctx = ctx, core = core, outcomes = outcomes, docs = docs, traffic = traffic, windows = windows }
  local lookups = lookups_mod.new(svc, opts)
  local stages = { lookups }
  if not opts.lookups_only then
    local s = { lookups = lookups, urls = urls_mod.new(svc, opts), puts = puts_mod.new(svc, opts, run.url_max_age),
      registrations = registrations_mod.new(svc, opts, run.linger, run.linger_cap) }
    for _, stage in pairs(s) do stage:link(s) end
    stages = { lookups, s.registrations, s.puts, s.urls }
  end
  return setmetatable({
    transport = ctx.transport, core = core, journal = jnl, outcomes = outcomes, docs = docs, traffic = traffic,
    lookups = lookups, stages = stages, plan = plan_mod.new(svc, jnl, lookups, opts.lookups_only),
    count = 0, started = core.now(), opts = opts,
    abort_on_interrupt = true, -- SIGINT under core.catch_interrupt (a watch stops gently instead: drain)
  }, Run)
end

--- Opens the journal of opts (when given) and makes the run: run | nil, err.
function run.open(ctx, opts)
  local jnl
  if opts.journal then
    local jerr
    jnl, jerr = journal_mod.open(opts.journal, { core = ctx.core(), shard = opts.shard })
    if not jnl then return nil, jerr end
  end
  return run.new(ctx, opts, jnl)
end

-- Checks and plans more items (their indexes follow the ones before); the
-- index of the last (nil when none is the run's: with a shard, the items
-- of other shards are left out, as if never given).
function Run:add_items(list)
  local records, base = {}, self.count
  local now = self.core.now()
  for i = 1, #list do
    local input = list[i]
    if items_mod.in_shard(self.opts, input) then
      local record = items_mod.check(self.core, base + #records + 1, input)
      record.queued_at = now -- (job:stats(): the time from queued to attached)
      records[#records + 1] = record
    end
  end
  if #records == 0 and #list > 0 then return nil end
  self.count = base + #records
  self.plan:plan(records)
  return self.count
end

-- No more items will come: the run ends once those it has are done.
function Run:finish_input()
  self.input_done = true
end

function Run:input_finished()
  return self.input_done == true
end

-- Stops the run (outcomes.lua: nothing new starts, what is in flight is
-- cancelled at the next step, registrations excepted).
function Run:abort(err)
  self.outcomes:abort(err)
end

-- The gentler stop (outcomes.lua): no lookup, URL or PUT starts, what
-- waits for one is dropped and its items fail with err; the PUTs and
-- registrations in flight finish.
function Run:drain(err)
  if not self.outcomes:may_start() then return end
  for _, stage in ipairs(self.stages) do stage:drain() end
  self.outcomes:drain(err)
end

-- A caught SIGINT or SIGTERM no longer stops the run (its host stops it
-- its own way: the watch drains).
function Run:keep_on_interrupt()
  self.abort_on_interrupt = false
end

-- The registrations in flight fail in doubt (the job is dropped).
function Run:doubt_in_flight(err)
  self.outcomes:doubt_in_flight(err)
end

-- The reason the run stopped (an error, a copy), nil while it goes on.
function Run:stopping()
  return self.outcomes:stopped() and self.outcomes:abort_error() or nil
end

-- The result of item i once final (nil before, or when results are not kept).
function Run:result(i)
  return self.outcomes:result(i)
end

-- For client:plan (a run with lookups_only): every item, by index; the
-- entity id of a target found (by its cache key); GraphQL requests sent.
function Run:items() return self.plan:items() end
function Run:entity_id(key) return self.lookups:entity_id(key) end
function Run:requests() return self.docs:requests() end

-- job:stats(): the counts so far (engine/stats.lua), a plain table.
function Run:stats()
  return self.outcomes:stats_snapshot(self.docs:requests())
end

-- Lets go of this run's transfers, token waits and the journal (again:
-- harmless). The session is the client's: it stays open.
function Run:close()
  if self.closed then return end
  self.closed = true
  self.traffic:close()
  self.docs:close()
  if self.journal then self.journal:close() end
end

-- After the last step (or an abort): whatever did not finish fails with the
-- reason; the transfers and journal are let go. results, summary.
function Run:finish()
  if not self.finished then
    self.finished = true
    local ok, perr = pcall(function() self.outcomes:fail_unfinished() end)
    self:close()
    if not ok then error(perr, 0) end
    return self.outcomes:answer(self.core.now() - self.started, self.docs:requests())
  end
  return self.outcomes:answer()
end

return run
