-- ion.upload.cqueues: runs a job (client:start, start_many, watch) inside a
-- cqueues controller, beside the host's other coroutines (lua-http's loop).
-- Loaded only when asked for; needs cqueues.
--
--   local cq = require("cqueues").new()
--   local h = require("ion.upload.cqueues").wrap(cq, job, {
--     on_done = function(results, summary, job) ... end })
--   assert(cq:loop())              -- h:cancel() stops the job
--
-- or, from a coroutine of the host's own controller:
--   local results, summary = require("ion.upload.cqueues").run(job)
--
-- Each turn is one job:step(0), then cqueues.poll on the job's descriptors
-- (each wrapped in an object with :pollfd(), :events() "r"/"w" and
-- :timeout()) with job:timeout() as the timeout: the coroutine sleeps in the
-- controller until a descriptor is ready or the timeout runs out, and the
-- controller runs the other coroutines meanwhile. The descriptors are read
-- again after every step (libcurl opens and closes connections).
--
-- A controller keeps a descriptor it polled armed in its epoll set until it
-- next updates it, and a descriptor closed meanwhile (libcurl closes
-- sockets inside a step, or in job:cancel) makes that update fail: the
-- controller's loop stops with "unable to update event disposition: Bad
-- file descriptor". So every descriptor is cancelled (cqueues.cancel, which
-- takes it out of the set while it is still open) before each step, and
-- handle:cancel()/close() do the same before they touch the job.
local M = {}

-- A descriptor as cqueues.poll wants it.
local Fd = {}
Fd.__index = Fd
function Fd:pollfd() return self.fd end
function Fd:events() return self.ev end
function Fd.timeout() return nil end -- no deadline of its own: the timeout is poll's

local unpack = table.unpack or unpack -- luacheck: ignore 143

-- The objects to poll for job:fds(): one per descriptor, "rw" when a
-- descriptor is in both lists.
local function pollables(job, extra)
  local readable, writable = job:fds()
  local ev, order = {}, {}
  for _, fd in ipairs(readable) do
    if not ev[fd] then order[#order + 1] = fd end
    ev[fd] = "r"
  end
  for _, fd in ipairs(writable) do
    if not ev[fd] then order[#order + 1] = fd end
    ev[fd] = ev[fd] == "r" and "rw" or "w"
  end
  local list = {}
  for i, fd in ipairs(order) do list[i] = setmetatable({ fd = fd, ev = ev[fd] }, Fd) end
  if extra then list[#list + 1] = extra end
  return list
end

-- job:timeout() as cqueues.poll takes it: seconds, nil for none.
local function poll_timeout(t)
  if type(t) ~= "number" or t ~= t or t < 0 then return 0 end
  if t == math.huge then return nil end
  return t
end

-- Steps the job and sleeps in cqueues.poll until it is done. Returns true,
-- or false and the message when a step raised (never expected; the job has
-- then ended itself). The pcall is around the step alone: Lua 5.1's pcall
-- cannot be yielded across, and the poll yields to the controller.
local function drive(job, cqueues, wake)
  while true do
    local ok, done = pcall(job.step, job, 0)
    if not ok then return false, done end
    if done then return true end
    local list = pollables(job, wake)
    local n = #list
    list[n + 1] = poll_timeout(job:timeout())
    cqueues.poll(unpack(list, 1, n + 1))
    for i = 1, n do
      if list[i].fd then cqueues.cancel(list[i].fd) end
    end
  end
end

--- M.run(job, opts) -> results, summary (job:results()) once the job is
-- done. Call it from a coroutine run by a cqueues controller: it yields to
-- the controller between steps. opts.cqueues: the module (default
-- require("cqueues")); opts.wake: a pollable (a cqueues condition) that
-- ends a wait early, e.g. after job:cancel(). A step that raises (never
-- expected) raises here, after the job has ended itself.
function M.run(job, opts)
  opts = opts or {}
  local ok, err = drive(job, opts.cqueues or require("cqueues"), opts.wake)
  if not ok then error(err, 0) end
  return job:results()
end

local Handle = {}
Handle.__index = Handle

-- Takes the job's descriptors out of the controller before the job may
-- close them (see the top of this file).
function Handle:_release_fds()
  local readable, writable = self.job:fds()
  for _, fd in ipairs(readable) do self._cq:cancel(fd) end
  for _, fd in ipairs(writable) do self._cq:cancel(fd) end
end

--- handle:done(): true once the job is done and its coroutine has ended.
function Handle:done() return self._done end

--- handle:cancel([reason]): job:cancel(reason), and the job's coroutine
-- wakes at once to take it; it runs on until the registrations in flight
-- have their answer, then on_done is called.
function Handle:cancel(reason)
  if self._done then return end
  self:_release_fds()
  self.job:cancel(reason)
  self._wake:signal()
end

--- handle:close(): ends the job at once (job:close()); the coroutine wakes
-- and ends.
function Handle:close()
  if self._done then return end
  self:_release_fds()
  self.job:close()
  self._wake:signal()
end

--- M.wrap(cq, job, opts) -> handle: the job runs in a new coroutine of the
-- controller `cq` (cq:wrap). opts.on_done(results, summary, job, err) is
-- called once it is done (err: a step raised, never expected; the job has
-- ended itself and job:results() holds the outcome).
function M.wrap(cq, job, opts)
  opts = opts or {}
  if type(job) ~= "table" or type(job.step) ~= "function" then
    error("ion.upload.cqueues.wrap: bad argument #2 (a job expected)", 2)
  end
  local condition = require("cqueues.condition")
  local self = setmetatable({ job = job, _cq = cq, _done = false, _wake = condition.new() }, Handle)
  cq:wrap(function()
    local ok, err = drive(job, opts.cqueues or require("cqueues"), self._wake)
    self._done = true
    self.error = not ok and tostring(err) or nil
    if opts.on_done then
      local results, summary = job:results()
      opts.on_done(results, summary, job, self.error)
    end
  end)
  return self
end

return M
