-- What runs beside a watch inside its loop and turns with it: systemd's
-- notifier (watch/notify.lua) and the status server (ion.upload.status).
-- Each service is an object with any of these methods, all optional:
--   s:step(w, now)   the loop turned (w: the watch, to read through its methods)
--   s:event(ev)      one of the watch's events, before the host's on_event hears it
--   s:due(now)       seconds until it must turn for this service (math.huge: never)
--   s:fds(r, wr)     append the descriptors to wait on (readable, writable)
--   s:reloading()    the rules are being reloaded
--   s:stopping()     the folder is no longer watched (the drain may go on)
--   s:close()        the watch is done or closed: release what it holds
-- The watch calls them in the order they were added; none may raise.
local Services = {}
Services.__index = Services

function Services.new()
  return setmetatable({ list = {} }, Services)
end

function Services:add(s)
  self.list[#self.list + 1] = s
end

-- Calls method `name` of every service that has it.
local function each(self, name, ...)
  for _, s in ipairs(self.list) do
    if s[name] then s[name](s, ...) end
  end
end

function Services:step(w, now) each(self, "step", w, now) end
function Services:event(ev) each(self, "event", ev) end
function Services:fds(r, wr) each(self, "fds", r, wr) end
function Services:reloading() each(self, "reloading") end
function Services:stopping() each(self, "stopping") end

-- Once: a service's close is not called twice (the watch's step that ends
-- it and a close() after both come here).
function Services:close()
  if self.closed then return end
  self.closed = true
  each(self, "close")
end

-- The earliest of the services' dues (seconds, math.huge when none).
function Services:due(now)
  local t = math.huge
  for _, s in ipairs(self.list) do
    if s.due then t = math.min(t, s:due(now)) end
  end
  return t
end

return Services
