-- ion.upload.watch: a hot folder over the engine. client:watch(dir, opts)
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
local check = require("ion.upload.check")
local errors = require("ion.upload.errors")
local rules_mod = require("ion.upload.watch_rules")
local glob = require("ion.upload.cli.glob")

local watch = {}

watch.default_settle = 2
watch.default_retry_cap = 60
-- The longest a step sleeps when nothing is due: bounds the wakeups when idle.
watch.idle_wait = 1

local KNOWN = {
  rules = true, target = true, settle = true, poll = true, after = true, failed = true,
  journal = true, include = true, exclude = true, once = true, on_event = true,
  concurrency = true, window = true, retry_cap = true, validate = true,
}

local PERMANENT = { not_found = true, permission_denied = true, bad_input = true }

local Watch = { __name = "ion.upload.watch" }
Watch.__index = Watch

local function bad(message, field)
  return nil, errors.new("bad_input", "watch: " .. message, { field = field })
end

local function compile_globs(list, field)
  local out = {}
  if list == nil then return out end
  if type(list) == "string" then list = { list } end
  if type(list) ~= "table" then return nil, field .. " must be a glob or a list of globs" end
  for _, g in ipairs(list) do
    local m, why = glob.compile(g)
    if not m then return nil, field .. ": " .. why end
    out[#out + 1] = m
  end
  return out
end

local function any_match(matchers, rel, base)
  for _, m in ipairs(matchers) do
    if m:match(rel) or m:match(base) then return true end
  end
  return false
end

-- The options, checked: o | nil, err.
local function check_options(opts)
  local ok, err = check.options(opts, KNOWN)
  if not ok then return nil, err end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.settle = o.settle == nil and watch.default_settle or o.settle
  if type(o.settle) ~= "number" or o.settle < 0 then return bad("settle must be a number >= 0", "settle") end
  if o.poll ~= nil and (type(o.poll) ~= "number" or o.poll <= 0) then
    return bad("poll must be a number > 0 (seconds)", "poll")
  end
  o.retry_cap = o.retry_cap or watch.default_retry_cap
  if type(o.retry_cap) ~= "number" or o.retry_cap <= 0 then
    return bad("retry_cap must be a number > 0", "retry_cap")
  end
  o.after = o.after or "keep"
  if o.after ~= "keep" and o.after ~= "delete" then
    local d = type(o.after) == "string" and o.after:match("^move:(.+)$")
    if not d then return bad("after must be keep, delete or move:DIR", "after") end
    o.move_to = d
  end
  if o.failed ~= nil and (type(o.failed) ~= "string" or o.failed == "") then
    return bad("failed must be a folder", "failed")
  end
  if (o.rules == nil) == (o.target == nil) then return bad("give rules or target (one of them)", "rules") end
  if o.target ~= nil and type(o.target) ~= "table" then return bad("target must be a table", "target") end
  if o.rules ~= nil then
    if type(o.rules) == "string" then
      local set, rerr = rules_mod.load(o.rules)
      if not set then return nil, rerr end
      o.rules = set
    elseif type(o.rules) ~= "table" or type(o.rules.rules) ~= "table" then
      return bad("rules must be a rules file's path or a set from watch_rules.load", "rules")
    end
  end
  if o.on_event ~= nil and type(o.on_event) ~= "function" then return bad("on_event must be a function", "on_event") end
  local why
  o.include_m, why = compile_globs(o.include, "include")
  if not o.include_m then return bad(why, "include") end
  o.exclude_m, why = compile_globs(o.exclude, "exclude")
  if not o.exclude_m then return bad(why, "exclude") end
  return o
end

local function join(a, b)
  if a == "" then return b end
  return a .. "/" .. b
end

local function basename(rel)
  return rel:match("[^/]+$") or rel
end

local function key_of(info)
  return string.format("%d|%.6f", info.size, info.mtime)
end

--- watch.start(client, dir, opts) -> job | nil, err
function watch.start(client, dir, opts, level)
  check.arg(type(dir) == "string", 1, "watch", "string", dir, level)
  check.arg(opts == nil or type(opts) == "table", 2, "watch", "table or nil", opts, level)
  local o, err = check_options(opts or {})
  if not o then return nil, err end
  local core = client:_core_module()
  local root, rerr = core.realpath(dir)
  if not root then return nil, rerr end
  local st = core.stat(root)
  if not st or st.type ~= "directory" then return bad(dir .. ": not a directory", "dir") end

  local self = setmetatable({
    core = core, root = root, o = o, gen = 1,
    cand = {},     -- rel -> { key, since }: seen, not yet settled
    inflight = {}, -- rel -> { key, index, rewritten }
    by_index = {}, -- engine index -> rel
    uploaded = {}, -- rel -> key uploaded (or shown done by the journal)
    held = {},     -- rel -> key .. "#" .. gen: unmatched or permanently failed
    waiting = {},  -- rel -> { key, due, attempt }: transient failure, to retry
    outcomes = {}, -- engine events to act on after the step
    stopping = false,
  }, Watch)
  self.emit = function(ev)
    if o.on_event then o.on_event(ev) end
  end

  local engine_opts = {
    open = true, journal = o.journal, concurrency = o.concurrency, window = o.window,
    validate = o.validate,
    on_event = function(ev)
      local rel = self.by_index[ev.index] or self.adding
      if rel then ev.rel = rel end
      if ev.type == "done" or ev.type == "error" then
        self.outcomes[#self.outcomes + 1] = ev
      end
      if o.on_event then o.on_event(ev) end
    end,
  }
  local job, jerr = client:start_many({}, engine_opts)
  if not job then return nil, jerr end
  self.job = job

  if not o.poll then
    local w, werr = core.watcher(root)
    if w then
      self.watcher = w
    elseif werr and werr.code == "unsupported" then
      o.poll = 2
    else
      job:close()
      return nil, werr
    end
  end
  self:scan("")
  self.next_scan = o.poll and (core.now() + o.poll) or nil
  return self
end

-- Whether rel is worth a look: temporary names only when included, excluded
-- names never, the failed and move folders (when inside dir) never.
function Watch:wanted(rel)
  local o, base = self.o, basename(rel)
  if any_match(o.exclude_m, rel, base) then return false end
  if rules_mod.is_temporary(base) and not any_match(o.include_m, rel, base) then return false end
  if #o.include_m > 0 and not any_match(o.include_m, rel, base) then return false end
  return true
end

-- Notes a file seen (by an event or a scan): it becomes a candidate unless
-- that version is already done, queued, held or waiting.
function Watch:saw(rel, info)
  if self.stopping or not self:wanted(rel) then return end
  info = info or self.core.stat(self.root .. "/" .. rel)
  if not info or info.type ~= "file" then
    self.cand[rel] = nil
    return
  end
  local key = key_of(info)
  if self.uploaded[rel] == key or self.held[rel] == key .. "#" .. self.gen then return end
  local f = self.inflight[rel]
  if f and f.key == key then return end
  local wt = self.waiting[rel]
  if wt and wt.key == key then return end
  local c = self.cand[rel]
  if not c or c.key ~= key then self.cand[rel] = { key = key, since = self.core.now(), info = info } end
end

-- Every file under rel (a folder relative to root), recursively.
function Watch:scan(rel)
  local list = self.core.list_dir(rel == "" and self.root or (self.root .. "/" .. rel))
  if not list then return end
  for _, e in ipairs(list) do
    local r = join(rel, e.name)
    if e.type == "dir" and not self:skipped_dir(r) then
      self:scan(r)
    elseif e.type == "file" then
      self:saw(r, { type = "file", size = e.size, mtime = e.mtime })
    end
  end
end

-- The move and failed folders are not watched for new files when inside dir.
function Watch:skipped_dir(rel)
  local abs = self.root .. "/" .. rel
  return abs == self.o.move_to or abs == self.o.failed or rules_mod.is_temporary(basename(rel))
end

function Watch:target_for(rel, info)
  if self.o.target then return { target = self.o.target } end
  return rules_mod.match(self.o.rules, rel, info)
end

-- A settled file goes into the engine (or is reported unmatched / bad).
function Watch:take(rel, c)
  local key = c.key
  local m, merr = self:target_for(rel, c.info)
  if not m then
    self.held[rel] = key .. "#" .. self.gen
    if merr then
      self.emit({ type = "failed", rel = rel, path = self.root .. "/" .. rel, err = merr, permanent = true })
    else
      self.emit({ type = "unmatched", rel = rel, path = self.root .. "/" .. rel })
    end
    return
  end
  local rewritten = self.uploaded[rel] ~= nil
  self.adding = rel -- an item refused at once has its event inside add
  local index = self.job:add({ path = self.root .. "/" .. rel, target = m.target, filename = m.filename })
  self.adding = nil
  self.by_index[index] = rel
  self.inflight[rel] = { key = key, index = index }
  self.emit({ type = "taken", rel = rel, path = self.root .. "/" .. rel, index = index, rewritten = rewritten or nil,
    size = c.info.size })
end

-- Candidates unchanged for `settle` seconds are taken; the rest wait.
function Watch:settle_candidates(now)
  for rel, c in pairs(self.cand) do
    if now - c.since >= self.o.settle then
      local info = self.core.stat(self.root .. "/" .. rel)
      self.cand[rel] = nil
      if info and info.type == "file" then
        local key = key_of(info)
        if key == c.key then
          self:take(rel, c)
        else
          self.cand[rel] = { key = key, since = now, info = info }
        end
      end
    end
  end
end

-- The folders of rel under base (base itself must exist): true | nil, why.
function Watch:make_parents(base, rel)
  local path = base
  for part in rel:gmatch("([^/]+)/") do
    path = path .. "/" .. part
    local ok, err = self.core.mkdir(path)
    if not ok then return nil, err.message end
  end
  return true
end

function Watch:after_success(rel)
  local o, abs = self.o, self.root .. "/" .. rel
  if o.after == "delete" then
    local ok, why = os.remove(abs)
    if ok then self.uploaded[rel] = nil end -- gone: nothing to remember it by
    self.emit({ type = ok and "deleted" or "after_error", rel = rel, path = abs, message = (not ok) and why or nil })
  elseif o.move_to then
    local dest = o.move_to .. "/" .. rel
    local ok, why = self:make_parents(o.move_to, rel)
    if ok then ok, why = os.rename(abs, dest) end
    if ok then self.uploaded[rel] = nil end
    self.emit({ type = ok and "moved" or "after_error", rel = rel, path = abs, to = dest,
      message = (not ok) and why or nil })
  end
end

-- Acts on the engine's outcomes: done, transient, permanent, in doubt.
function Watch:handle_outcomes(now)
  local list = self.outcomes
  self.outcomes = {}
  for _, ev in ipairs(list) do
    local rel = self.by_index[ev.index]
    local f = rel and self.inflight[rel]
    if f and f.index == ev.index then
      self.inflight[rel] = nil
      self.by_index[ev.index] = nil
      if ev.type == "done" then
        self.uploaded[rel] = f.key
        self.waiting[rel] = nil
        if self.down_since then
          self.emit({ type = "back", since = self.down_since })
          self.down_since = nil
        end
        self:after_success(rel)
      else
        local e = ev.err or {}
        if e.in_doubt or ev.was_in_doubt then
          -- the journal marks it: the next run registers it again; never moved or deleted
          self.held[rel] = f.key .. "#" .. self.gen
        elseif e.retryable and not self.o.once and not self.stopping then
          local wt = self.waiting[rel]
          local attempt = (wt and wt.key == f.key) and (wt.attempt + 1) or 1
          local delay = math.min(self.o.retry_cap, 2 ^ (attempt - 1))
          self.waiting[rel] = { key = f.key, due = now + delay, attempt = attempt }
          self.down_since = self.down_since or now
          self.emit({ type = "waiting", rel = rel, path = ev.path, since = self.down_since,
            retry_in = delay, err = e,
            message = string.format("waiting for ION since %s", os.date("!%Y-%m-%dT%H:%M:%SZ",
              os.time() - math.floor(now - self.down_since))) })
        else
          self.held[rel] = f.key .. "#" .. self.gen
          if PERMANENT[e.code] and self.o.failed then
            local abs = self.root .. "/" .. rel
            local dest = self.o.failed .. "/" .. rel
            local ok, why = self:make_parents(self.o.failed, rel)
            if ok then ok, why = os.rename(abs, dest) end
            self.emit({ type = ok and "moved" or "after_error", rel = rel, path = abs, to = dest, failed = true,
              message = (not ok) and why or nil })
          end
        end
      end
      -- changed while it was uploading: look again
      if not self.stopping then self:saw(rel) end
    end
  end
end

function Watch:retry_due(now)
  for rel, wt in pairs(self.waiting) do
    if wt.due <= now and not self.inflight[rel] then
      local info = self.core.stat(self.root .. "/" .. rel)
      if info and info.type == "file" and key_of(info) == wt.key then
        wt.due = math.huge -- re-armed by the next outcome
        self:take(rel, { key = wt.key, info = info })
      else
        self.waiting[rel] = nil
        if info then self:saw(rel, info) end
      end
    end
  end
end

function Watch:read_watcher()
  if not self.watcher then return end
  local evs = self.watcher:read()
  if not evs then return end
  for _, ev in ipairs(evs) do
    if ev.kind == "file" then
      self:saw(ev.path)
    elseif ev.kind == "dir" then
      if not self:skipped_dir(ev.path) then self:scan(ev.path) end
    elseif ev.kind == "overflow" then
      self:scan("")
    elseif ev.kind == "gone" then
      self.cand[ev.path] = nil
    elseif ev.kind == "error" then
      self.emit({ type = "watch_error", rel = ev.path, err = ev.err })
    end
  end
end

-- Whether nothing is left to do for `once`: no candidates, nothing queued.
function Watch:idle()
  return next(self.cand) == nil and next(self.inflight) == nil and next(self.waiting) == nil
end

-- Seconds until the next thing of ours is due (settle, retry, scan), or nil.
function Watch:next_due(now)
  local due
  local function at(t)
    if not due or t < due then due = t end
  end
  for _, c in pairs(self.cand) do at(c.since + self.o.settle) end
  for _, wt in pairs(self.waiting) do at(wt.due) end
  if self.next_scan and not self.stopping then at(self.next_scan) end
  return due and math.max(0, due - now) or nil
end

function Watch:tick()
  local now = self.core.now()
  self:handle_outcomes(now)
  if not self.stopping then
    self:read_watcher()
    if self.next_scan and now >= self.next_scan then
      self:scan("")
      self.next_scan = now + self.o.poll
    end
    self:settle_candidates(now)
    self:retry_due(now)
  end
  if (self.o.once or self.stopping) and not self.input_finished and self:idle_for_finish() then
    self.input_finished = true
    self.job:finish_input()
  end
end

function Watch:idle_for_finish()
  if self.stopping then return true end
  return self:idle()
end

--- job:step(timeout) -> done
function Watch:step(timeout)
  timeout = timeout or 0
  if self.job:done() then return true end
  self:tick()
  local wait = math.min(timeout, self:timeout())
  local done = self.job:step(0)
  if not done and wait > 0 then
    if self.job._run:busy() then
      done = self.job:step(wait)
    elseif self.watcher then
      self.watcher:wait(wait)
    else
      self.core.sleep(wait)
    end
  end
  self:tick()
  if not done then done = self.job:step(0) end
  if done then self:close_watcher() end
  return done
end

function Watch:timeout()
  if self.job:done() then return 0 end
  if #self.outcomes > 0 then return 0 end
  local now = self.core.now()
  -- an open job with nothing to do says 0.2 s (it waits for items); ours
  -- come through the watcher's fd or our own timers, so idle is 1 s
  local run = self.job._run
  local t = watch.idle_wait
  if run:busy() or run:next_due() or run.input_done then t = math.min(self.job:timeout(), t) end
  local due = self:next_due(now)
  if due and due < t then t = due end
  return t
end

function Watch:fds()
  if self.job:done() then return {}, {} end
  local r, w = self.job:fds()
  if self.watcher then r[#r + 1] = self.watcher:fd() end
  return r, w
end

function Watch:done()
  return self.job:done()
end

--- Stop taking files; registrations in flight finish (see job:cancel).
function Watch:cancel(reason)
  self.stopping = true
  self.cand = {}
  self.waiting = {}
  self:close_watcher()
  self.job:cancel(reason or "the watch was stopped")
end

-- Stop taking files but let those queued finish (the graceful stop).
function Watch:stop()
  self.stopping = true
  self.cand = {}
  self.waiting = {}
  self:close_watcher()
end

function Watch:close_watcher()
  if self.watcher then
    self.watcher:close()
    self.watcher = nil
  end
end

function Watch:close()
  self:close_watcher()
  self.job:close()
end

--- Reloads the rules from their file; a bad file keeps the old rules.
function Watch:reload_rules()
  if not self.o.rules then return true end
  local set, err = rules_mod.reload(self.o.rules)
  if err then
    self.emit({ type = "rules_error", err = err })
    return nil, err
  end
  self.o.rules = set
  self.gen = self.gen + 1
  self.emit({ type = "rules_reloaded" })
  self:scan("")
  return true
end

function Watch:results()
  return self.job:results()
end

function Watch:run()
  while not self:step(math.huge) do end
  return self.job:results()
end
Watch.wait = Watch.run

return watch
