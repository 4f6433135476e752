-- How late a host's 10 ms timer fires, for the event-loop specs (issue 15).
-- Each firing records the gap since the previous one beyond the period.
-- Two figures: `max`, the raw worst lateness, and `max_own`, the same less
-- the time the loop's thread spent waiting in the kernel's run queue over
-- that gap (/proc/thread-self/schedstat, second field): on a machine shared
-- with other work a thread that is ready to run may wait tens of ms for a
-- core, which says nothing about whether the loop was held. The specs
-- assert max_own and print both; bench/hosts.sh reports the raw figure.
local lateness = {}

-- Nanoseconds this thread has waited for a core so far, or nil (no procfs).
local function runqueue_ns()
  local f = io.open("/proc/thread-self/schedstat", "r")
  if not f then return nil end
  local line = f:read("*l")
  f:close()
  local _, wait = (line or ""):match("^(%d+)%s+(%d+)")
  return tonumber(wait)
end
lateness.runqueue_ns = runqueue_ns

--- lateness.new(period_ms, now_ms) -> recorder; now_ms() is the host's
-- monotonic clock in milliseconds. Call rec:fire() from the timer.
function lateness.new(period_ms, now_ms)
  local rec = { max = 0, max_own = 0, fired = 0, period = period_ms }
  local last, last_wait = now_ms(), runqueue_ns()
  function rec.fire()
    local now, wait = now_ms(), runqueue_ns()
    local late = now - last - period_ms
    local own = late
    if wait and last_wait then own = late - (wait - last_wait) / 1e6 end
    if late > rec.max then rec.max = late end
    if own > rec.max_own then rec.max_own = own end
    rec.fired = rec.fired + 1
    last, last_wait = now, wait
  end
  function rec.describe()
    return ("%d firings, worst lateness %.1f ms (%.1f ms not spent waiting for a core)"):format(
      rec.fired, rec.max, rec.max_own)
  end
  return rec
end

return lateness
