-- Reading what a server sent. Its text is untrusted: every reader here works
-- on a bounded prefix, in time linear in that prefix, with plain finds and
-- single-class scans where a pattern with two quantifiers would backtrack
-- (a body of `<Code>` and a million spaces must not hang the client).
local untrusted = {}

-- How much of an error body or message is read; a header value longer than
-- max_header is not a value this client expects (Retry-After, a Code).
untrusted.max_text = 4096
untrusted.max_header = 64

-- The first n bytes of s (s itself when shorter).
function untrusted.prefix(s, n)
  if #s <= n then return s end
  return s:sub(1, n)
end

-- s without leading and trailing white space (linear: no `^%s*(.-)%s*$`,
-- which is quadratic in a run of inner spaces).
function untrusted.trim(s)
  local first = s:find("%S")
  if not first then return "" end
  local last = #s
  while s:find("^%s", last) do last = last - 1 end
  return s:sub(first, last)
end

-- The trimmed text of the first <name>…</name> element of an XML body with
-- no markup inside, read from the first max_text bytes; nil when there is none.
function untrusted.element(body, name)
  body = untrusted.prefix(body, untrusted.max_text)
  local open, close = "<" .. name .. ">", "</" .. name .. ">"
  local i = 1
  while true do
    local _, b = body:find(open, i, true)
    if not b then return nil end
    local lt = body:find("<", b + 1, true)
    if not lt then return nil end
    if body:sub(lt, lt + #close - 1) == close then return untrusted.trim(body:sub(b + 1, lt - 1)) end
    i = lt -- markup inside: the next <name> can only start here or later
  end
end

-- An id in an answer (an attachment's id, an entity's id): a whole number
-- (0 <= n < 2^53), or a string of 1 to 32 digits. Returns it (a number as an
-- integer where Lua has them), or nil for anything else: NaN, 1e999, a
-- fraction, text with control characters.
function untrusted.id(v)
  if type(v) == "number" then
    if v ~= v or v < 0 or v >= 2 ^ 53 or v ~= math.floor(v) then return nil end
    return math.tointeger and math.tointeger(v) or v
  end
  if type(v) == "string" and #v >= 1 and #v <= 32 and not v:find("%D") then return v end
  return nil
end

return untrusted
