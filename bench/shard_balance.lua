-- The balance of the shard split (lua/ion/upload/shard.lua) on 100,000
-- names shaped as a plant's files are ("line-3/2026-12-07/SN004512_1.jpg"):
-- for each N, the smallest and largest shard against the even share, and
-- the spread pure chance gives (one binomial standard deviation).
--   lua5.4 bench/shard_balance.lua        (after make build)
local script = arg and arg[0] and arg[0]:match("shard_balance%.lua$") -- not required by a spec
if script then
  package.path = "lua/?.lua;" .. package.path
  package.cpath = "build/?.so;" .. package.cpath
end
local shard = require("ion.upload.shard")

local balance = {}

--- The names: deterministic, no seed needed.
function balance.names(count)
  local names = {}
  for i = 1, count do
    names[i] = string.format("line-%d/2026-12-%02d/SN%06d_%d.jpg", i % 7, i % 28 + 1, i, i % 3)
  end
  return names
end

--- { n, min, max, low (%), high (%), sigma (%) } of the split of names into n.
function balance.row(names, n)
  local count = {}
  for k = 0, n - 1 do count[k] = 0 end
  for _, name in ipairs(names) do
    local k = shard.of(name, n)
    count[k] = count[k] + 1
  end
  local min, max = math.huge, 0
  for k = 0, n - 1 do
    min, max = math.min(min, count[k]), math.max(max, count[k])
  end
  local even = #names / n
  return { n = n, min = min, max = max, low = (min - even) / even * 100, high = (max - even) / even * 100,
    sigma = math.sqrt(#names * (1 / n) * (1 - 1 / n)) / even * 100, count = count }
end

if script then
  local names = balance.names(100000)
  print("| N | smallest shard | largest shard | vs even share | chance's sigma |")
  print("|---|---|---|---|---|")
  for _, n in ipairs({ 2, 4, 8, 16, 32, 64 }) do
    local r = balance.row(names, n)
    print(string.format("| %d | %d | %d | %+.2f %% / %+.2f %% | %.2f %% |", n, r.min, r.max, r.low, r.high, r.sigma))
  end
end

return balance
