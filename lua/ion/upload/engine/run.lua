-- The engine: one run of a job, stepped. It holds the items and their
-- states, and a small scheduler that, at each step, fires the timers that are
-- due, then lets each stage start what it can:
--   lookups        (engine/lookups.lua)        targets to entity ids
--   registrations  (engine/registrations.lua)  finished files registered
--   puts           (engine/puts.lua)           files PUT to their URLs
--   urls           (engine/urls.lua)           upload URLs, a window ahead
-- Every transfer goes through the client's one session (ion.upload.transport);
-- every GraphQL document through Run:send (engine/send.lua), which applies
-- the rules of ion.upload.graphql (token, refresh, resend, in doubt); how an
-- item ends (results, events, journal records) is engine/outcomes.lua. Items may be added
-- while the run goes (Run:add_items); it ends once its input is finished and
-- nothing is left to do.
local errors = require("ion.upload.errors")
local journal_mod = require("ion.upload.journal")
local items_mod = require("ion.upload.engine.items")
local outcomes = require("ion.upload.engine.outcomes")

local FINAL = outcomes.FINAL

local Run = {}
Run.__index = Run

local run = { Run = Run }

-- A URL older than this is not used: storage URLs live "a few minutes".
run.url_max_age = 120
-- A finished file's registration waits at most this long for others to
-- share its document (unless a window's worth is ready sooner).
run.linger = 0.25
-- The longest one step waits for transfers, and sleeps while the input is
-- open and nothing moves, so an interrupt, a cancel, a timer or an item
-- added from a callback is seen soon.
run.idle_step = 0.2

-- The run's methods, one file per concern and per stage.
for _, part in ipairs({ "outcomes", "send", "lookups", "urls", "puts", "registrations", "plan" }) do
  for name, fn in pairs(require("ion.upload.engine." .. part)) do Run[name] = fn end
end

---------------------------------------------------------------------------
-- Transfers, timers, GraphQL documents

-- Starts a transfer on the client's session; on_done(res, err) when it ends
-- (at once when the core refuses it: nothing was sent).
function Run:add(kind, what, req, on_done)
  local id
  id = self.transport:add(what, req, function(res, cerr)
    if id then self.transfers[id] = nil end
    on_done(res, cerr)
  end)
  if id then self.transfers[id] = { kind = kind } end
  return id
end

-- Runs fn at the first step `delay` seconds from now; the timer (a table the
-- caller may mark, as Run:send marks a resend's).
function Run:later(delay, fn)
  local t = { at = self.clock.now() + delay, fn = fn }
  self.timers[#self.timers + 1] = t
  return t
end

---------------------------------------------------------------------------
-- The scheduler

function Run:busy()
  return next(self.transfers) ~= nil or next(self.token_waits) ~= nil
end

function Run:fire_timers()
  local now = self.clock.now()
  local due, keep = {}, {}
  for _, t in ipairs(self.timers) do
    if t.at <= now then due[#due + 1] = t else keep[#keep + 1] = t end
  end
  self.timers = keep
  for _, t in ipairs(due) do t.fn() end
  -- the client's token fetch is no job's: any job waiting for it moves it
  if next(self.token_waits) then self.ctx.auth:fire_due(self.clock.now()) end
end

-- Seconds until the next timer, URL retry or lingering registration is due
-- (nil: none).
function Run:next_due()
  local now, at = self.clock.now(), nil
  local function consider(t)
    if t then at = math.min(at or t, t) end
  end
  for _, t in ipairs(self.timers) do consider(t.at) end
  if next(self.token_waits) then consider(self.ctx.auth:retry_at()) end
  if not self.abort_err then
    for _, item in ipairs(self.url_retry) do consider(item.not_before) end -- the never tried have none
    -- a window's worth waiting is due at once: no need to look for the oldest
    local linger_end = #self.reg_queue < self.W and self:linger_end()
    if linger_end and linger_end > now then consider(linger_end) end
  end
  return at and math.max(0, at - now) or nil
end

function Run:schedule()
  self:fire_timers()
  if self.abort_on_interrupt and self.clock.interrupted and not self.abort_err and self.clock.interrupted() then
    self:abort(errors.new("aborted", "interrupted",
      { hint = "Run the same command again (with the same journal) to finish the rest" }))
  end
  self:cancel_for_abort()
  self:send_lookups()
  self:send_registrations() -- first: registrations never wait behind URLs
  self:start_puts()
  self:send_urls()
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
  if wait > 0 and timeout > 0 then self.clock.sleep(math.min(timeout, wait)) end
  return false
end

---------------------------------------------------------------------------
-- Life of a run

--- A run over ctx (the client's narrow context: cfg, auth, transport, clock,
-- random, entities) with checked options (engine/items.lua) and an open
-- journal (or nil).
function run.new(ctx, opts, jnl)
  local W, C = opts.window, opts.concurrency
  return setmetatable({
    ctx = ctx, transport = ctx.transport, clock = ctx.clock(), journal = jnl,
    on_event = opts.on_event, validate = opts.validate, sha256 = opts.sha256,
    on_result = opts.on_result, keep_results = opts.keep_results ~= false,
    W = W, C = C, lookahead = math.max(W, C), reg_cap = math.max(W, C),
    live = {}, count = 0, results = {}, targets = {}, target_queue = {},
    url_queue = {}, url_head = 1, url_tail = 0, url_retry = {}, ready = {}, reg_queue = {},
    transfers = {}, timers = {}, window_pending = {}, windows = 0,
    gql_out = 0, url_out = 0, reg_out = 0, puts_out = 0, token_waits = {},
    counts = { graphql = 0 },
    summary = { ok = 0, failed = 0, skipped = 0, in_doubt = 0, bytes = 0, seconds = 0 },
    started = ctx.clock().now(), url_max_age = run.url_max_age, linger = run.linger,
    abort_on_interrupt = true, -- SIGINT under core.catch_interrupt (a watch stops gently instead: drain)
  }, Run)
end

--- Opens the journal of opts (when given) and makes the run: run | nil, err.
function run.open(ctx, opts)
  local jnl
  if opts.journal then
    local jerr
    jnl, jerr = journal_mod.open(opts.journal, { core = ctx.clock() })
    if not jnl then return nil, jerr end
  end
  return run.new(ctx, opts, jnl)
end

-- Checks and plans more items (their indexes follow the ones before).
function Run:add_items(list)
  local records, base = {}, self.count
  for i = 1, #list do records[i] = items_mod.check(self.clock, base + i, list[i]) end
  self:plan(records)
end

-- No more items will come: the run ends once those it has are done.
function Run:finish_input()
  self.input_done = true
end

-- Lets go of this run's transfers and the journal (again: harmless). The
-- session is the client's: it stays open.
function Run:close()
  if self.closed then return end
  self.closed = true
  for id in pairs(self.transfers) do self.transport:drop(id) end
  self.transfers = {}
  self:leave_token_waits()
  if self.journal then self.journal:close() end
end

-- After the last step (or an abort): whatever did not finish fails with the
-- reason; the transfers and journal are let go. results, summary.
function Run:finish()
  if not self.finished then
    self.finished = true
    local ok, perr = pcall(function()
      for _, item in ipairs(self:live_items()) do
        if not FINAL[item.state] then
          self:fail(item, self.abort_err and self:abort_error()
            or errors.new("aborted", "the batch stopped before this file was done"))
        end
      end
    end)
    self:close()
    if not ok then error(perr, 0) end
    self.summary.seconds = self.clock.now() - self.started
    self.summary.graphql_requests = self.counts.graphql
  end
  return self.results, self.summary
end

return run
