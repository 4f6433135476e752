-- --limit-rate RATE, read as curl reads its own --limit-rate: a whole number of
-- bytes per second, optionally followed by one unit letter, K, M or G (powers
-- of 1024) or B (bytes), in either case: 500K, 2M, 1G, 65536, 100b.
local config = require("ion.upload.config")

local rate = {}

local UNITS = { b = 1, k = 1024, m = 1024 * 1024, g = 1024 * 1024 * 1024 }

-- The library's ceiling: 1e15 bytes per second.
local MAX = config.max_rate

rate.forms = "a whole number of bytes per second with an optional unit K, M or G "
  .. "(powers of 1024), e.g. 500K, 2M, 1G or 65536"

--- Bytes per second | nil, message naming flag (e.g. "--limit-rate").
function rate.parse(text, flag)
  local digits, unit = tostring(text):match("^(%d+)(%a?)$")
  local n = digits and tonumber(digits)
  local factor = unit and (unit == "" and 1 or UNITS[unit:lower()])
  if n and factor and n * factor >= 1 and n * factor <= MAX then
    local v = n * factor
    return math.tointeger and math.tointeger(v) or v
  end
  local why = (n and factor and n * factor < 1) and "must be at least 1 byte per second"
    or (n and factor) and "is over the ceiling of 1e15 bytes per second"
    or "is not a rate"
  return nil, flag .. " '" .. tostring(text):gsub("%c", "?") .. "' " .. why .. ": give " .. rate.forms
end

--- argv with "FLAG VALUE" written "FLAG=VALUE": as curl, the word after
-- the flag is its value even when it starts with "-" (argparse would take
-- "--limit-rate -1" for an unknown option -1, not a bad rate).
function rate.join_value(argv, flag)
  local out, i = {}, 1
  while i <= #argv do
    if argv[i] == "--" then -- the rest are file names
      for j = i, #argv do out[#out + 1] = argv[j] end
      break
    elseif argv[i] == flag and argv[i + 1] ~= nil and argv[i + 1]:sub(1, 1) == "-" then
      out[#out + 1] = flag .. "=" .. argv[i + 1]
      i = i + 2
    else
      out[#out + 1] = argv[i]
      i = i + 1
    end
  end
  return out
end

return rate
