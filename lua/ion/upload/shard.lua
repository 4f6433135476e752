-- ion.upload.shard: the split of `--shard K/N` and of the `shard = { k, n }`
-- option. N processes given the same files and K = 0 .. N-1 each take the
-- files of their own shard, with nothing to coordinate: a file's shard is a
-- function of its key alone.
--
-- The key is the same text on every machine: the path relative to the
-- folder walked, a manifest's path column as written, a FILE argument as
-- given (a library item: its `shard_key`, or else its path). Its bytes are
-- hashed as they are: Linux does not normalise names (NFC or otherwise), so
-- a name is the bytes the file system holds.
--
-- The split, for another tool to reproduce (docs/internals.md has test
-- vectors): h = FNV-1a 64 of the key's bytes (offset basis
-- 14695981039346656037, prime 1099511628211), then K = jump(h, N), the jump
-- consistent hash of Lamping and Veach (arXiv:1406.2294). Both run in the
-- core (csrc/shard.c): 64-bit integer arithmetic Lua 5.1 and LuaJIT lack.
local check = require("ion.upload.check")

local shard = {}

-- More shards than this are more processes than one ION tenant's shared
-- rate limit can keep busy, and more likely a slip (an index in place of a
-- count) than a plan.
shard.MAX = 4096

local RULE = "K/N: shard K of N, K from 0 to N-1 (0-based, as $JOB_COMPLETION_INDEX), N from 1 to " .. shard.MAX

local function core() return require("ion.upload.core") end

local function shown(text)
  text = tostring(text)
  if #text > 40 then text = text:sub(1, 40) .. "..." end
  return (text:gsub("%c", "?"))
end

-- The bounds of k and n: { k =, n = } | nil, why.
local function bounded(k, n)
  if n < 1 or n > shard.MAX then return nil, "N is the number of shards, from 1 to " .. shard.MAX end
  if k >= n then
    return nil, "K counts from 0: shard " .. k .. " of " .. n .. " does not exist (0 to " .. n - 1 .. ")"
  end
  return { k = k, n = n }
end

--- "K/N" as a person writes it (`--shard`, ION_UPLOAD_SHARD): { k, n } |
-- nil, message (the rule and what was wrong). `label` names the source.
function shard.parse(text, label)
  label = label or "--shard"
  local k, n = tostring(text):match("^(%d+)/(%d+)$")
  local s, why
  if k and #k <= 5 and #n <= 5 then
    s, why = bounded(tonumber(k), tonumber(n))
    if s then return s end
  elseif k then
    why = "K and N are at most " .. shard.MAX
  end
  return nil, label .. " '" .. shown(text) .. "'" .. (why and ": " .. why or "") .. "; expected " .. RULE
end

--- The library's option `shard = { k, n }` (or { k =, n = }): { k, n } | nil, err (bad_input).
function shard.check(v, fname)
  local hint = "Give shard = { k, n } to " .. (fname or "upload_many") .. ", e.g. { 0, 4 } for the first of four"
  if type(v) ~= "table" then return nil, check.bad("shard", "expected a table { k, n }", hint) end
  local k, n = v.k or v[1], v.n or v[2]
  if not (check.whole(k, 0, math.huge) and check.whole(n, 0, math.huge)) then
    return nil, check.bad("shard", "expected whole numbers { k, n }; " .. RULE, hint)
  end
  local s, why = bounded(k, n)
  if not s then return nil, check.bad("shard", why .. "; expected " .. RULE, hint) end
  return s
end

--- "K/N".
function shard.text(s)
  return string.format("%d/%d", s.k, s.n)
end

--- The shard of `key` among n: 0 .. n-1.
function shard.of(key, n)
  return core().shard_bucket(key, n)
end

--- Whether shard k of n takes `key`.
function shard.owns(key, k, n)
  return core().shard_bucket(key, n) == k
end

--- Whether `s` (a checked shard, or nil: no split) takes `key`.
function shard.takes(s, key)
  return s == nil or core().shard_bucket(key, s.n) == s.k
end

--- A journal path with %k, %n and %% expanded for shard s (nil: no
-- shard) | nil, message (a %k or %n without a shard). Any other % stays as
-- written: journals named before sharding keep their names.
function shard.journal_path(pattern, s)
  local bad
  local path = pattern:gsub("%%([%%kn]?)", function(c)
    if c == "%" then return "%" end
    if c == "" then return "%" end
    if s then return tostring(s[c]) end
    bad = bad or ("--journal '" .. shown(pattern) .. "' has %" .. c .. ", the shard's " .. c:upper()
      .. ", but no shard was given: add --shard K/N (or set ION_UPLOAD_SHARD), or write %% for a literal %")
    return ""
  end)
  if bad then return nil, bad end
  return path
end

return shard
