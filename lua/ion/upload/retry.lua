-- Retry policy: exponential backoff with jitter, Retry-After honoured, and the
-- rule that a request which may already have taken effect is never sent again.
local untrusted = require("ion.upload.untrusted")

local retry = {}

retry.base = 0.25         -- seconds before the first retry (before jitter)
retry.cap = 8             -- longest backoff
retry.max_retry_after = 60 -- a longer Retry-After is cut to this

-- A per-client PRNG (Park-Miller): exact in doubles, so the same on Lua 5.1-5.4,
-- and independent of math.random's global state.
function retry.prng(seed)
  local state = math.floor(seed or 1) % 2147483646 + 1
  return function()
    state = (state * 16807) % 2147483647
    return (state - 1) / 2147483646
  end
end

-- A seed that differs between processes and between clients.
function retry.seed()
  local addr = tonumber(tostring({}):match("0x(%x+)") or "0", 16) or 0
  return (os.time() + math.floor(os.clock() * 1e6) + addr) % 2147483646
end

-- Seconds to wait before retry number `attempt` (1, 2, ...): half the
-- exponential step plus a random half ("equal jitter"); at least retry_after.
-- cap: the longest step (retry.cap unless given: the watch, which waits out
-- an outage, gives its retry_cap).
function retry.delay(attempt, random, retry_after, cap)
  local step = math.min(cap or retry.cap, retry.base * 2 ^ (attempt - 1))
  local d = step / 2 + (random and random() or 0.5) * step / 2
  if retry_after and retry_after > d then d = math.min(retry_after, retry.max_retry_after) end
  return d
end

-- Retry-After in seconds (the delta-seconds form; an HTTP date is ignored).
-- A value longer than a few dozen bytes is no delay: it is not read at all,
-- and the rest is read with anchored single-class patterns (linear).
function retry.parse_retry_after(value)
  if type(value) ~= "string" or #value > untrusted.max_header then return nil end
  local s = untrusted.trim(value)
  if not (s:find("^%d+$") or s:find("^%d+%.%d*$")) then return nil end
  return tonumber(s)
end

-- libcurl codes that mean nothing was sent: the server cannot have acted.
local not_sent_curl = {
  [5] = true,  -- couldn't resolve proxy
  [6] = true,  -- couldn't resolve host
  [7] = true,  -- couldn't connect
  [35] = true, -- TLS handshake failed
  [51] = true, [60] = true, [77] = true, [58] = true, [59] = true, [53] = true, [54] = true,
  [66] = true, [83] = true, [90] = true, [91] = true,
}

-- True when err proves the request was not processed by the server: no
-- connection was made, or ION's rate limiter (429) or its token check (401)
-- turned it away before any resolver ran. A 503 proves nothing: proxies send
-- it after the backend ran the request ("upstream reset before headers").
function retry.not_processed(err)
  if err.status == 429 or err.status == 401 then return true end
  if err.code == "network" and err.curl_code and not_sent_curl[err.curl_code] then return true end
  return false
end

-- May this failed call be sent again? idempotent calls: when the error is
-- transient; others (a registration) only when it cannot have taken effect.
function retry.may_resend(err, idempotent)
  if not err.retryable then return false end
  if idempotent then return true end
  return retry.not_processed(err)
end

-- Sleeps before retry `attempt` through the clock given ({ sleep = fn }).
function retry.wait(clock, attempt, random, err)
  local d = retry.delay(attempt, random, err and err.retry_after)
  clock.sleep(d)
  return d
end

return retry
