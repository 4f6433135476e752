-- Removing what must never be shown from text a server or libcurl wrote:
-- the query strings of URLs (presigned URLs are credentials), userinfo in
-- URLs, bearer tokens, JWTs, client secrets, access tokens, X-Amz-* values
-- (any case, percent-encoded or not), and the exact secrets given.
--
-- The text is read up to untrusted.max_text bytes, and each rule is a scanner
-- that moves forward only (plain finds, single-class runs), so the time is
-- linear in that prefix whatever the text. Rules mark spans; the spans are
-- merged and each is written as "…".
local untrusted = require("ion.upload.untrusted")

local scrub = {}

local ELLIPSIS = "…"

-- A deep scrub (an error's raw errors[] and data) looks at this many values
-- and string bytes at most, this deep at most; what is beyond is dropped.
scrub.max_values = 500
scrub.max_bytes = 16 * 1024
scrub.max_depth = 12

-- Keys whose value is a credential (matched in lower case, after %XX decoding).
local KEYED = { "client_secret", "access_token", "refresh_token", "id_token", "x-amz-" }

-- A view of s with its %XX escapes decoded, and a map from each byte of the
-- view back to the bytes of s it came from.
local function decoded_view(s)
  if not s:find("%", 1, true) then
    return { text = s, first = function(k) return k end, last = function(k) return k end }
  end
  local out, starts, i, n = {}, {}, 1, #s
  while i <= n do
    starts[#out + 1] = i
    local hex = s:byte(i) == 37 and s:match("^%%(%x%x)", i)
    if hex then
      out[#out + 1] = string.char(tonumber(hex, 16))
      i = i + 3
    else
      out[#out + 1] = s:sub(i, i)
      i = i + 1
    end
  end
  starts[#out + 1] = n + 1
  return {
    text = table.concat(out),
    first = function(k) return starts[k] end,
    last = function(k) return starts[k + 1] - 1 end,
  }
end

-- Marks bytes a..b of the view (inclusive) for removal.
local function mark(spans, view, a, b)
  if b >= a then spans[#spans + 1] = { view.first(a), view.last(b) } end
end

-- End of the run of class `set` that starts at j (j - 1 when there is none).
local function run_end(t, set, j)
  local _, e = t:find("^" .. set .. "+", j)
  return e or j - 1
end

local function exact(spans, view, secret)
  local t, i = view.text, 1
  while true do
    local a, b = t:find(secret, i, true)
    if not a then return end
    mark(spans, view, a, b)
    i = b + 1
  end
end

-- scheme://userinfo@host/path?query: the userinfo and the query go.
local function urls(spans, view)
  local t, i, n = view.text, 1, #view.text
  while true do
    local q = t:find("://", i, true)
    if not q then return end
    i = q + 3
    if q > 1 and t:find("^[%w+.%-]", q - 1) then
      local host_end = t:find("[/%s?#\"'<>]", i) or n + 1
      local authority = t:sub(i, host_end - 1)
      local at, j = nil, 1
      while true do
        local x = authority:find("@", j, true)
        if not x then break end
        at, j = x, x + 1
      end
      if at then mark(spans, view, i, i + at - 2) end
      local path_end = t:find("[%s?#\"'<>]", host_end) or n + 1
      i = path_end
      if t:byte(path_end) == 63 then -- "?"
        local query_end = t:find("[%s\"'<>]", path_end + 1) or n + 1
        mark(spans, view, path_end + 1, query_end - 1)
        i = query_end
      end
    end
  end
end

-- After a key ending at j - 1: ["']? [=:] ["']? value, the value marked.
-- Returns where to look next.
local function value_after(spans, view, low, j)
  j = run_end(low, "[\"']", j) + 1
  j = run_end(low, "%s", j) + 1
  local c = low:sub(j, j)
  if c ~= "=" and c ~= ":" then return j end
  j = run_end(low, "%s", j + 1) + 1
  j = run_end(low, "[\"']", j) + 1
  local e = run_end(low, "[^&%s\"']", j)
  mark(spans, view, j, e)
  return math.max(e, j) + 1
end

-- key ["']? [=:] ["']? value, in a lower-cased view; "x-amz-" takes a name
-- first (x-amz-signature, x-amz-security-token, ...).
local function keyed(spans, view, low, key)
  local named = key:sub(-1) == "-"
  local i = 1
  while true do
    local _, b = low:find(key, i, true)
    if not b then return end
    local j = b + 1
    if named then j = run_end(low, "[%a%-]", j) + 1 end
    i = j
    if j > b + 1 or not named then i = value_after(spans, view, low, j) end
  end
end

-- "Bearer <credential>". "bearer token" is prose (our own messages say it):
-- the word stays, and only a value after it (bearer token: x) is marked.
local PROSE = { token = true, tokens = true }

local function bearer(spans, view, low)
  local i = 1
  while true do
    local _, b = low:find("bearer", i, true)
    if not b then return end
    local j = run_end(low, "%s", b + 1) + 1
    if j > b + 1 then
      local e = run_end(low, "[^%s\"',;]", j)
      local w = e -- the word without a sentence's closing marks
      while w >= j and low:find("^[.:=)!?]", w) do w = w - 1 end
      if PROSE[low:sub(j, w)] then
        i = value_after(spans, view, low, w + 1)
      else
        mark(spans, view, j, e)
        i = math.max(e, j) + 1
      end
    else
      i = j
    end
  end
end

-- eyJ<header>.<payload>[.<signature>]: a JWT.
local function jwts(spans, view)
  local t, i = view.text, 1
  while true do
    local a = t:find("eyJ", i, true)
    if not a then return end
    local e1 = run_end(t, "[%w_%-]", a + 3)
    i = math.max(e1, a + 2) + 1
    if e1 >= a + 3 and t:byte(e1 + 1) == 46 then -- "."
      local e2 = run_end(t, "[%w_%-]", e1 + 2)
      if e2 >= e1 + 2 then
        local e = e2
        if t:byte(e2 + 1) == 46 then e = run_end(t, "[%w_%-]", e2 + 2) end -- the dot, at least
        mark(spans, view, a, e)
        i = e + 1
      end
    end
  end
end

-- s with the marked spans written as "…" (overlapping spans merged).
local function apply(s, spans)
  if #spans == 0 then return s end
  table.sort(spans, function(x, y) return x[1] < y[1] end)
  local out, pos = {}, 1
  local a, b = spans[1][1], spans[1][2]
  for k = 2, #spans + 1 do
    local sp = spans[k]
    if sp and sp[1] <= b + 1 then
      if sp[2] > b then b = sp[2] end
    else
      out[#out + 1] = s:sub(pos, a - 1)
      out[#out + 1] = ELLIPSIS
      pos = b + 1
      if sp then a, b = sp[1], sp[2] end
    end
  end
  out[#out + 1] = s:sub(pos)
  return table.concat(out)
end

-- The first max_text bytes of s, cut back to the last white space or quote
-- so that no token or secret is cut in two (its tail alone would not be
-- recognised); "" when the prefix holds none.
function scrub.clip(s)
  if #s <= untrusted.max_text then return s end
  local p = s:sub(1, untrusted.max_text + 1)
  local k = #p
  while k > 0 and not p:find("^[%s\"'<>]", k) do k = k - 1 end
  return p:sub(1, k > 0 and k - 1 or 0)
end

--- text(s [, secrets]): s scrubbed. `secrets` is a list of exact values
-- (walked with pairs: a nil in it hides nothing); those under 4 bytes are
-- ignored (they would blank ordinary words).
function scrub.text(s, secrets)
  if type(s) ~= "string" then s = tostring(s) end
  s = scrub.clip(s)
  local spans = {}
  local raw = { text = s, first = function(k) return k end, last = function(k) return k end }
  local view = decoded_view(s)
  for _, secret in pairs(secrets or {}) do
    if type(secret) == "string" and #secret >= 4 then
      exact(spans, raw, secret)
      if view.text ~= s then exact(spans, view, secret) end
    end
  end
  local low = view.text:lower()
  urls(spans, view)
  for _, key in ipairs(KEYED) do keyed(spans, view, low, key) end
  bearer(spans, view, low)
  jwts(spans, view)
  return apply(s, spans)
end

--- value(v [, secrets]): a copy of v with every string in it (keys too)
-- scrubbed; at most max_values values, max_bytes of text, max_depth deep (the
-- rest dropped or written as "…").
function scrub.value(v, secrets)
  local budget, bytes = scrub.max_values, scrub.max_bytes
  local function walk(x, depth)
    if type(x) == "string" then
      if bytes <= 0 then return ELLIPSIS end
      bytes = bytes - math.min(#x, untrusted.max_text)
      return scrub.text(x, secrets)
    end
    if type(x) ~= "table" then return x end
    if depth >= scrub.max_depth then return ELLIPSIS end
    local out = {}
    for k, val in pairs(x) do
      budget = budget - 1
      if budget < 0 then break end
      if type(k) == "string" then k = walk(k, depth) end
      out[k] = walk(val, depth + 1)
    end
    return out
  end
  return walk(v, 0)
end

return scrub
