-- What a client's helpers get instead of the client: the checked
-- configuration, the credentials, the one session (ion.upload.transport), the
-- clock, the retry PRNG, the entity cache and the MD5s of this client's
-- uploads. Nothing else of the client is reachable from here.
local auth = require("ion.upload.auth.credentials")
local retry = require("ion.upload.retry")
local targets = require("ion.upload.targets")
local transport = require("ion.upload.transport")

local context = {}

-- Remembers the MD5 of an attachment this client uploaded, for download() to
-- check. Bounded: a client on a test stand may upload for months, and an
-- unbounded map would grow with every file (up to the last 1,000 are kept).
local MD5_KEEP = 1000
local function md5_memory()
  local map, count = {}, 0
  local m = {}
  function m.remember(id, md5)
    if count >= MD5_KEEP then map, count = {}, 0 end
    local k = tostring(id)
    if map[k] == nil then count = count + 1 end
    map[k] = md5
  end
  function m.get(id)
    return map[tostring(id)]
  end
  return m
end

--- core(): the C core module (clock: now, sleep; stat, realpath; session).
--- random(): a number in [0, 1) for the retry jitter.
function context.new(cfg, user_agent, core, random)
  return {
    cfg = cfg,
    user_agent = user_agent,
    auth = auth.new(cfg),
    core = core,
    random = random,
    default_random = retry.prng(retry.seed()),
    transport = transport.new(core, cfg),
    entities = targets.cache(),
    md5 = md5_memory(),
  }
end

return context
