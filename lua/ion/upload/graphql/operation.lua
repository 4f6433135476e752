-- Which operation a GraphQL document runs, read by a small tokenizer (one
-- pass, linear in the text): client:graphql retries a document after a lost
-- answer only when it provably is a query.
--
-- The tokenizer skips what GraphQL ignores (a BOM, white space, commas,
-- comments) and strings (block strings too), and follows bracket depth to
-- find the top-level definitions. It does not validate the document: anything
-- it cannot read is "not provably a query".
local operation = {}

local BOM = "\239\187\191"
local OPEN = { ["{"] = true, ["("] = true, ["["] = true }
local CLOSE = { ["}"] = "{", [")"] = "(", ["]"] = "[" }
-- Punctuators other than brackets and the spread "...".
local PUNCT = { ["!"] = true, ["$"] = true, ["&"] = true, [":"] = true, ["="] = true, ["@"] = true, ["|"] = true }
local KINDS = { query = true, mutation = true, subscription = true }

-- Position after a string opened at i (i is its first quote), or nil when it
-- does not end (or a plain string crosses a line end).
local function skip_string(s, i)
  if s:sub(i, i + 2) == '"""' then
    local j = i + 3
    while true do
      local k = s:find('"""', j, true)
      if not k then return nil end
      if s:sub(k - 1, k - 1) ~= "\\" then return k + 3 end
      j = k + 3 -- \""" is an escaped triple quote
    end
  end
  local j = i + 1
  while true do
    local k = s:find('[\\"\n\r]', j)
    if not k then return nil end
    local c = s:sub(k, k)
    if c == '"' then return k + 1 end
    if c ~= "\\" then return nil end
    j = k + 2 -- an escape: the next character is taken as is
  end
end

-- The tokens of s one by one: next_token() -> kind ("name", "punct",
-- "value"), text | nil at the end | false, nil when s cannot be read.
local function tokens(s)
  local i, n = 1, #s
  return function()
    while i <= n do
      local c = s:sub(i, i)
      if c == " " or c == "\t" or c == "\n" or c == "\r" or c == "," then
        i = i + 1
      elseif c == "#" then
        i = (s:find("[\n\r]", i) or n) + 1
      elseif s:sub(i, i + 2) == BOM then
        i = i + 3
      else
        break
      end
    end
    if i > n then return nil end
    local c = s:sub(i, i)
    local _, e = s:find("^[_%a][_%w]*", i)
    if e then
      local word = s:sub(i, e)
      i = e + 1
      return "name", word
    end
    if c == '"' then
      local j = skip_string(s, i)
      if not j then return false end
      i = j
      return "value", nil
    end
    _, e = s:find("^%-?[%d][%w%.%+%-]*", i)
    if e then
      i = e + 1
      return "value", nil
    end
    if s:sub(i, i + 2) == "..." then
      i = i + 3
      return "punct", "..."
    end
    if OPEN[c] or CLOSE[c] or PUNCT[c] then
      i = i + 1
      return "punct", c
    end
    return false
  end
end

--- The kind of every top-level operation of `doc`, in order ("query" for the
-- shorthand `{ … }`), or nil when the text cannot be read as an executable
-- document (unbalanced brackets, an unterminated string, a stray character,
-- a type-system definition or a description).
function operation.kinds(doc)
  if type(doc) ~= "string" then return nil end
  local next_token = tokens(doc)
  local kinds, stack = {}, {}
  local state = "definition" -- or "header" (before the selection set), "body"
  while true do
    local kind, text = next_token()
    if kind == false then return nil end
    if kind == nil then break end
    if #stack == 0 and state == "definition" then
      if kind == "name" and KINDS[text] then
        kinds[#kinds + 1] = text
        state = "header"
      elseif kind == "name" and text == "fragment" then
        state = "header"
      elseif text == "{" then
        kinds[#kinds + 1] = "query"
        stack[1], state = "{", "body"
      else
        return nil
      end
    elseif kind == "punct" and OPEN[text] then
      if #stack == 0 and text == "{" then state = "body" end
      stack[#stack + 1] = text
    elseif kind == "punct" and CLOSE[text] then
      if stack[#stack] ~= CLOSE[text] then return nil end
      stack[#stack] = nil
      if #stack == 0 and state == "body" then state = "definition" end
    end
  end
  if #stack > 0 or state ~= "definition" then return nil end
  return kinds
end

--- True only when `doc` has exactly one operation and it is a query (a
-- document of several operations needs an operationName, which
-- client:graphql does not send).
function operation.is_query(doc)
  local kinds = operation.kinds(doc)
  return kinds ~= nil and #kinds == 1 and kinds[1] == "query"
end

return operation
