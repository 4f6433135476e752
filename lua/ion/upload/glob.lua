-- Globs, the one matcher for every filter: the CLI's --include and --exclude,
-- the watch's include, exclude, take_temporary and its temporary names. Each
-- is compiled once into a small
-- automaton (a list of tokens) that is run over a path as a set of states,
-- Thompson style. A match costs O(path length x glob length) whatever the
-- glob: no backtracking, so `*a*a*a*a*b` over a long name cannot hang.
--
--   *        any run of characters except /
--   **       any run of characters, / included
--   **/      (at the start or after a /) zero or more whole folders
--   ?        one character except /
--   [abc] [a-z] [!x] [^x]   one character (not /) of the set, or not of it
--   \c       the character c itself
--
-- Characters are UTF-8 sequences (a stray byte counts as one), so `?` is one
-- letter of a name and a range compares code points.
local glob = {}

-- The characters of s: UTF-8 sequences, any other byte alone.
local function chars(s)
  local out, i, n = {}, 1, #s
  while i <= n do
    local c = s:byte(i)
    local len = 1
    if c >= 0xC2 and c <= 0xDF then
      len = 2
    elseif c >= 0xE0 and c <= 0xEF then
      len = 3
    elseif c >= 0xF0 and c <= 0xF4 then
      len = 4
    end
    local j = i + 1
    while j < i + len and j <= n do
      local b = s:byte(j)
      if b < 0x80 or b > 0xBF then break end
      j = j + 1
    end
    out[#out + 1] = s:sub(i, j - 1)
    i = j
  end
  return out
end
glob.chars = chars

-- The code point of one character from chars() (a lone byte: its value).
local function code(ch)
  local c = ch:byte(1)
  if #ch == 1 then return c end
  local cp = c % (2 ^ (7 - #ch))
  for k = 2, #ch do cp = cp * 64 + (ch:byte(k) - 0x80) end
  return cp
end

local LIT, ANY, CLASS, STAR, DSTAR, FOLDERS = 1, 2, 3, 4, 5, 6

-- A [...] set starting at cs[i] (just after the [): token, next index | nil.
local function parse_class(cs, i)
  local tok = { kind = CLASS, negate = false, singles = {}, ranges = {} }
  if cs[i] == "!" or cs[i] == "^" then
    tok.negate = true
    i = i + 1
  end
  local first = true
  while true do
    local c = cs[i]
    if c == nil then return nil end
    if c == "]" and not first then return tok, i + 1 end
    first = false
    if c == "\\" then
      i = i + 1
      c = cs[i]
      if c == nil then return nil end
    end
    i = i + 1
    if cs[i] == "-" and cs[i + 1] ~= nil and cs[i + 1] ~= "]" then
      local hi = cs[i + 1]
      i = i + 2
      if hi == "\\" then
        hi = cs[i]
        if hi == nil then return nil end
        i = i + 1
      end
      tok.ranges[#tok.ranges + 1] = { code(c), code(hi) }
    else
      tok.singles[c] = true
    end
  end
end

local function in_class(tok, c)
  local hit = tok.singles[c] == true
  if not hit then
    local cp = code(c)
    for _, r in ipairs(tok.ranges) do
      if cp >= r[1] and cp <= r[2] then
        hit = true
        break
      end
    end
  end
  return hit ~= tok.negate
end

local function parse(pattern)
  local cs, toks, i = chars(pattern), {}, 1
  while i <= #cs do
    local c = cs[i]
    if c == "\\" then
      if cs[i + 1] == nil then return nil, "ends with a lone backslash (write \\\\ for a backslash)" end
      toks[#toks + 1] = { kind = LIT, c = cs[i + 1] }
      i = i + 2
    elseif c == "[" then
      local tok, nexti = parse_class(cs, i + 1)
      if not tok then return nil, "has a [ that is not closed by ] (write \\[ for a bracket)" end
      toks[#toks + 1] = tok
      i = nexti
    elseif c == "*" then
      local j = i
      while cs[j] == "*" do j = j + 1 end
      if j - i == 1 then
        toks[#toks + 1] = { kind = STAR }
      elseif (i == 1 or cs[i - 1] == "/") and cs[j] == "/" then
        toks[#toks + 1] = { kind = FOLDERS }
        j = j + 1
      else
        toks[#toks + 1] = { kind = DSTAR }
      end
      i = j
    elseif c == "?" then
      toks[#toks + 1] = { kind = ANY }
      i = i + 1
    else
      toks[#toks + 1] = { kind = LIT, c = c }
      i = i + 1
    end
  end
  return toks
end

local Matcher = {}
Matcher.__index = Matcher

--- Compiles a glob: matcher | nil, message (the message names the glob).
function glob.compile(pattern)
  if type(pattern) ~= "string" then error("glob.compile: pattern must be a string", 2) end
  local toks, why = parse(pattern)
  if not toks then return nil, "bad glob '" .. pattern .. "': it " .. why end
  return setmetatable({ source = pattern, toks = toks }, Matcher)
end

-- States: 1..m+1 are "before token i" (m+1 accepts); m+1+i is "inside the
-- folders of FOLDERS token i, after a character that is not a /".
local function add(set, mark, gen, toks, s)
  local m = #toks
  while true do
    if mark[s] == gen then return end
    mark[s] = gen
    set[#set + 1] = s
    local tok = toks[s]
    if s > m or not (tok.kind == STAR or tok.kind == DSTAR or tok.kind == FOLDERS) then return end
    s = s + 1 -- these three may match nothing: also be past them
  end
end

--- Whether the whole of path matches.
function Matcher:match(path)
  local toks = self.toks
  local m = #toks
  local mark, gen = {}, 1
  local cur = {}
  add(cur, mark, gen, toks, 1)
  for _, c in ipairs(chars(path)) do
    gen = gen + 1
    local nxt = {}
    local slash = c == "/"
    for _, s in ipairs(cur) do
      if s > m + 1 then -- inside FOLDERS token s-m-1: a / ends a folder
        local t = s - m - 1
        if slash then add(nxt, mark, gen, toks, t) else add(nxt, mark, gen, toks, s) end
      elseif s <= m then
        local tok = toks[s]
        local k = tok.kind
        if k == LIT then
          if c == tok.c then add(nxt, mark, gen, toks, s + 1) end
        elseif k == ANY then
          if not slash then add(nxt, mark, gen, toks, s + 1) end
        elseif k == CLASS then
          if not slash and in_class(tok, c) then add(nxt, mark, gen, toks, s + 1) end
        elseif k == STAR then
          if not slash then add(nxt, mark, gen, toks, s) end
        elseif k == DSTAR then
          add(nxt, mark, gen, toks, s)
        elseif k == FOLDERS then
          if slash then add(nxt, mark, gen, toks, s) else add(nxt, mark, gen, toks, m + 1 + s) end
        end
      end
    end
    if #nxt == 0 then return false end
    cur = nxt
  end
  return mark[m + 1] == gen
end

-- Path rules (README, "Whole folders"): paths are relative to the folder
-- given, with / between folders. A glob with no / (a trailing one aside)
-- matches the last part of the path (any depth); one with a / the whole
-- relative path (a leading / only anchors it). A glob ending in / only
-- matches folders. Exclusion wins; --include never stops a walk into a folder.

--- One glob compiled with the rules above: matcher | nil, message naming the glob.
function glob.rule(pattern)
  local ok, err = glob.compile(pattern) -- checked as given, so that a message quotes it as given
  if not ok then return nil, err end
  local body = pattern:gsub("^/+", "")
  local anchored = #body < #pattern or body:gsub("/+$", ""):find("/", 1, true) ~= nil
  return glob.compile(anchored and body or "**/" .. body)
end

local function any(list, path)
  for _, m in ipairs(list) do
    if m:match(path) then return true end
  end
  return false
end

--- Whether the folder rel (relative to the root) is left out: not entered.
-- f = { include = { matcher... }, exclude = { matcher... } } or nil.
function glob.skip_folder(f, rel)
  return f and (any(f.exclude, rel) or any(f.exclude, rel .. "/"))
end

--- Whether the file rel is taken: no exclude matches it and, if there are
-- includes, one does.
function glob.take_file(f, rel)
  if not f then return true end
  if any(f.exclude, rel) then return false end
  return #f.include == 0 or any(f.include, rel)
end

return glob
