-- ion.upload.watch.notify: what a watch tells systemd when it runs as a
-- service (the option notify = true, which `ion-upload watch` gives, and
-- $NOTIFY_SOCKET set), through systemd's datagram protocol (core.sd_notify):
--   READY=1      when the watch's loop first turns (its folder watched, its
--                rules loaded), and again when it turns after a rules reload;
--   RELOADING=1  (with MONOTONIC_USEC, as systemd 253 wants) when a reload begins;
--   STATUS=…     a line a person reads in `systemctl status`, sent when it
--                changes, at most once a second;
--   STOPPING=1   when the folder is no longer watched;
--   WATCHDOG=1   every half of $WATCHDOG_USEC, from the step loop only: a loop
--                stuck in a callback stops the pings, and systemd restarts it.
-- A message that cannot be sent is counted (n.failed), never raised: a service
-- manager gone is no reason to stop uploading.
local notify = {}

-- Seconds between two STATUS= lines while files come and go (their count
-- changes with each file).
notify.status_every = 1

local Notify = {}
Notify.__index = Notify

local function clock(t)
  return os.date("%H:%M:%S", t)
end

--- The line of STATUS=: "12 queued, last upload 10:31:02", "waiting for ION
-- since 08:12:03 (network), 3 files queued", "idle, last upload 10:31:02".
function notify.status_text(w, last_upload)
  local last = last_upload and ("last upload " .. clock(last_upload)) or "nothing uploaded yet"
  local n = w:queued()
  if w.stopping then return string.format("stopping, %d queued, %s", n, last) end
  local down = w:waiting_message()
  if down then return down end
  if n > 0 then return string.format("%d queued, %s", n, last) end
  return "idle, " .. last
end

--- notify.new(w [, getenv]) -> n: the notifier of watch w (w.core, w.o and
-- the watch's queued() and waiting_message()). One that says nothing when
-- the watch has no notify option or no $NOTIFY_SOCKET: the watch calls it
-- all the same.
function notify.new(w, getenv)
  local n = setmetatable({ sent = 0, failed = 0 }, Notify)
  local socket = w.o.notify and (getenv or os.getenv)("NOTIFY_SOCKET")
  if not socket or socket == "" or not w.core.sd_notify then return n end
  n.core, n.socket, n.dirty, n.next_status = w.core, socket, true, 0
  local usec = w.core.sd_watchdog_usec()
  if usec > 0 then n.interval, n.next_ping = usec / 2e6, 0 end
  return n
end

--- One of the watch's events (watch/services.lua): it tells when the status
-- may have changed (a file taken, attached, failed; ION gone or back), and
-- when the last upload was.
function Notify:event(ev)
  if not self.socket then return end
  if ev.type == "done" and not ev.skipped then self.last_upload = os.time() end
  if ev.type ~= "progress" then self.dirty = true end
end

function Notify:send(text)
  if self.core.sd_notify(self.socket, text) then
    self.sent = self.sent + 1
  else
    self.failed = self.failed + 1
  end
end

--- Called each time the watch's loop turns (Watch:tick).
function Notify:step(w, now)
  if not self.socket then return end
  if not self.ready then
    self.ready = true
    self:send("READY=1")
  elseif self.reloaded then
    self.reloaded = false
    self:send("READY=1")
  end
  if self.interval and now >= self.next_ping then
    self.next_ping = now + self.interval
    self:send("WATCHDOG=1")
  end
  if self.dirty and now >= self.next_status then
    self.dirty = false
    local text = notify.status_text(w, self.last_upload)
    if text ~= self.status then
      self.status, self.next_status = text, now + notify.status_every
      self:send("STATUS=" .. text)
    end
  end
end

--- Seconds until the loop must turn for us (the next ping, a status line
-- held back), math.huge when nothing is due: an idle watch without a
-- watchdog wakes no more often than before.
function Notify:due(now)
  if not self.socket then return math.huge end
  local t = self.interval and self.next_ping - now or math.huge
  if self.dirty then t = math.min(t, self.next_status - now) end
  return math.max(0, t)
end

--- A rules reload begins; READY=1 follows when the loop turns again.
function Notify:reloading()
  if not self.socket then return end
  self.reloaded = true
  self:send(string.format("RELOADING=1\nMONOTONIC_USEC=%.0f", self.core.now() * 1e6))
end

function Notify:stopping()
  if not self.socket or self.stopped then return end
  self.stopped = true
  self:send("STOPPING=1")
end

return notify
