-- A rule's `match`, checked at load as a Lua pattern: its syntax walked
-- (captures balanced, sets closed, %b and %f complete), so a bad pattern is
-- refused when the rules load, not when a file first reaches it.
local lua_pattern = {}

-- End of the set starting at p[i] == "[" (as lstrlib's classEnd: the first
-- character after "[" or "[^" is literal, even "]"), or nil.
local function set_end(p, i)
  i = i + 1
  if p:sub(i, i) == "^" then i = i + 1 end
  repeat
    if i > #p then return nil end
    local c = p:sub(i, i)
    i = i + 1
    if c == "%" then
      if i > #p then return nil end
      i = i + 1
    end
  until p:sub(i, i) == "]"
  return i
end

--- lua_pattern.check(p) -> true | nil, why: a valid Lua pattern, or why not. string.find reports a malformed part only
-- when the matcher reaches it (find("", "x[") succeeds), so the syntax is
-- walked here first; the pcall is the backstop.
function lua_pattern.check(p)
  local i, depth = 1, 0
  while i <= #p do
    local c = p:sub(i, i)
    if c == "(" then
      depth = depth + 1
    elseif c == ")" then
      depth = depth - 1
      if depth < 0 then return nil, "a ')' closes no capture" end
    elseif c == "[" then
      i = set_end(p, i)
      if not i then return nil, "malformed pattern (missing ']')" end
    elseif c == "%" then
      local n = p:sub(i + 1, i + 1)
      if n == "" then return nil, "malformed pattern (ends with '%')" end
      i = i + 1
      if n == "b" then
        if #p < i + 2 then return nil, "missing arguments to '%b'" end
        i = i + 2
      elseif n == "f" then
        if p:sub(i + 1, i + 1) ~= "[" then return nil, "missing '[' after '%f' in pattern" end
        i = set_end(p, i + 1)
        if not i then return nil, "malformed pattern (missing ']')" end
      end
    end
    i = i + 1
  end
  if depth ~= 0 then return nil, "unfinished capture" end
  local ok, err = pcall(string.find, "", p)
  if ok then return true end
  return nil, (tostring(err):gsub("^.-:%d+: ", ""))
end

return lua_pattern
