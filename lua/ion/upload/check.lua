-- Argument and option checks of the public API, written once. A wrong
-- argument type is a misuse and raises (blamed on the caller); a bad option
-- value is bad_input, returned as nil, err.
local errors = require("ion.upload.errors")

local check = {}

--- Raises "bad argument #n to 'fname' (expected expected, got type)" unless
-- cond. level: as error()'s, seen from the function that calls check.arg
-- (default 2: the caller of that function).
function check.arg(cond, n, fname, expected, got, level)
  if not cond then
    error(string.format("bad argument #%d to '%s' (%s expected, got %s)", n, fname, expected, type(got)),
      (level or 2) + 1)
  end
end

--- The bad_input error of one option or field.
function check.bad(field, message, hint)
  return errors.new("bad_input", field .. ": " .. message, { field = field, hint = hint })
end

--- true | nil, err: every key of opts is in allowed (the first unknown one,
-- in sorted order, is named), and on_progress, when allowed and given, is a
-- function. `message(k)` words the error (default "unknown option k").
function check.options(opts, allowed, message)
  local names = {}
  for k in pairs(opts) do names[#names + 1] = tostring(k) end
  table.sort(names)
  for _, k in ipairs(names) do
    if not allowed[k] then
      return nil, errors.new("bad_input", message and message(k) or ("unknown option " .. k), { field = k })
    end
  end
  if opts.on_progress ~= nil and type(opts.on_progress) ~= "function" then
    return nil, errors.new("bad_input", "on_progress: expected a function", { field = "on_progress" })
  end
  return true
end

--- A whole number from min to max?
function check.whole(v, min, max)
  return type(v) == "number" and v == math.floor(v) and v >= min and v <= max
end

--- A non-empty string?
function check.nonempty(v)
  return type(v) == "string" and v ~= ""
end

return check
