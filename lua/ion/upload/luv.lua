-- ion.upload.luv: drives a job (client:start, start_many, watch) from a luv
-- loop, the libuv binding that is also Neovim's vim.loop / vim.uv. Loaded only
-- when asked for; needs luv (or the module a host hands over), nothing else.
--
--   local uv = require("luv")
--   local h = require("ion.upload.luv").drive(job, {
--     loop = uv, on_done = function(results, summary, job) ... end })
--   uv.run()                       -- the host's own loop; h:cancel() stops the job
--
-- How it keeps the job moving without blocking the loop or spinning: one
-- uv poll handle per descriptor of job:fds() (readable or writable as it
-- says), one uv timer for job:timeout(), and a job:step(0) when any of them
-- fires. The set of descriptors changes as libcurl opens and closes
-- connections, so every poll is stopped before a step (a descriptor closed
-- inside the step must not stay registered with libuv, whose number may come
-- back as another socket) and the wanted ones are started again after it.
-- Every handle is closed once the job is done, cancelled to its end, or
-- closed.
local M = {}

local Handle = {}
Handle.__index = Handle

-- The sessions (one per client) whose descriptors a handle polls now: libuv
-- allows one poll handle per descriptor, and the jobs of one client share
-- their session's descriptors. Weak keys: a client collected is gone.
local driven = setmetatable({}, { __mode = "k" })

local function session_of(job)
  return job.session and job:session() or job
end

-- job:timeout() in seconds -> the timer's milliseconds (nil: no timer, the
-- descriptors alone wake the job). Rounded up: waking early only to find
-- nothing ready would be a wasted turn.
local function timer_ms(seconds)
  if type(seconds) ~= "number" or seconds ~= seconds then return 0 end
  if seconds == math.huge then return nil end
  if seconds <= 0 then return 0 end
  return math.ceil(seconds * 1000)
end

local function close_handle(h)
  if h and not h:is_closing() then h:close() end
end

-- Every poll stopped (still open: they are started again after the step).
function Handle:_stop_polls()
  for _, p in pairs(self._polls) do
    if p.events then
      p.handle:stop()
      p.events = nil
    end
  end
end

-- Polls for the job's descriptors as job:fds() now gives them: a poll per
-- descriptor (its events "r", "w" or "rw"), those no longer wanted closed.
function Handle:_sync_polls()
  local readable, writable = self.job:fds()
  local want = {}
  for _, fd in ipairs(readable) do want[fd] = "r" end
  for _, fd in ipairs(writable) do want[fd] = want[fd] == "r" and "rw" or "w" end
  for fd, p in pairs(self._polls) do
    if not want[fd] then
      close_handle(p.handle)
      self._polls[fd] = nil
    end
  end
  for fd, events in pairs(want) do
    local p = self._polls[fd]
    if not p then
      p = { handle = assert(self.uv.new_poll(fd)) }
      self._polls[fd] = p
    end
    if p.events ~= events then
      p.handle:start(events, self._wake)
      p.events = events
    end
  end
end

-- Arms the timer for job:timeout() (stopped when the descriptors suffice).
function Handle:_sync_timer()
  local ms = timer_ms(self.job:timeout())
  self._timer:stop()
  if ms then self._timer:start(ms, 0, self._wake) end
end

-- Every handle closed; then on_done, once.
function Handle:_finish(err)
  if self._closed then return end
  self._closed = true
  for fd, p in pairs(self._polls) do
    close_handle(p.handle)
    self._polls[fd] = nil
  end
  self._timer:stop()
  close_handle(self._timer)
  if driven[self._session] == self then driven[self._session] = nil end
  self.error = err
  if self._on_done then
    local results, summary = self.job:results()
    self._on_done(results, summary, self.job, err)
  end
end

-- One turn: every poll stopped, a step that never waits, then the handles
-- set again for what the job waits on next.
function Handle:_turn()
  if self._closed then return end
  self:_stop_polls()
  local ok, done = pcall(self.job.step, self.job, 0)
  if not ok then
    -- never expected: the job has ended itself (job:results() holds the
    -- outcome). An error raised out of a luv callback would end the host's
    -- process, so it is handed to on_done (and kept in handle.error) instead.
    return self:_finish(tostring(done))
  end
  if done then return self:_finish() end
  self:_sync_polls()
  self:_sync_timer()
end

--- The job's state: true once it is done (and every handle closed).
function Handle:done()
  return self._closed
end

--- handle:cancel([reason]): job:cancel(reason), then the job is driven on
-- until the registrations in flight have their answer (so a journal records
-- them); on_done is called then, as for a job that ends by itself.
function Handle:cancel(reason)
  if self._closed then return end
  self.job:cancel(reason)
  self._timer:stop()
  self._timer:start(0, 0, self._wake) -- the next turn notices the cancel
end

--- handle:close(): ends the job at once (job:close(): what is in flight is
-- dropped) and closes every handle now; on_done is called.
function Handle:close()
  if self._closed then return end
  self:_stop_polls()
  self.job:close()
  self:_finish()
end

--- M.drive(job, opts) -> handle. opts.loop: the luv module to use (default
-- require("luv"); Neovim: vim.uv or vim.loop). opts.on_done(results,
-- summary, job, err): called once the job is done, after every handle is
-- closed (err: a step raised, never expected). Returns at once: the first
-- step runs from the loop, on a 0 ms timer.
function M.drive(job, opts)
  opts = opts or {}
  if type(job) ~= "table" or type(job.step) ~= "function" then
    error("ion.upload.luv.drive: bad argument #1 (a job expected)", 2)
  end
  if opts.on_done ~= nil and type(opts.on_done) ~= "function" then
    error("ion.upload.luv.drive: on_done must be a function", 2)
  end
  local session = session_of(job)
  local other = driven[session]
  if other and not other._closed then
    error("ion.upload.luv.drive: a job of this client is driven already (its jobs share one session's"
      .. " descriptors, and libuv polls a descriptor once): drive one job per client at a time", 2)
  end
  local uv = opts.loop or require("luv")
  local self = setmetatable({ job = job, uv = uv, _polls = {}, _on_done = opts.on_done, _closed = false,
    _session = session }, Handle)
  driven[session] = self
  self._wake = function() self:_turn() end
  self._timer = assert(uv.new_timer())
  self._timer:start(0, 0, self._wake)
  return self
end

return M
