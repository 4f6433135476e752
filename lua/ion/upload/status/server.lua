-- The status server's connections (`ion-upload watch --status`): the
-- listener and the clients of core.http_listen, stepped from the watch's own
-- loop. Each connection reads one GET (its request line and headers at most
-- 8 KiB: 431 beyond), gets one response rendered at once into a buffer of
-- its own (at most max_response bytes: a slow reader holds that much, never
-- more) and is closed. At most max_conns at a time: the listener is left out
-- of the poll while they are all taken (the kernel's backlog holds the next).
-- A client that sends no full request within `idle` seconds, or does not
-- read its response within `idle` seconds, is dropped.
local errors = require("ion.upload.errors")

local M = {}

M.max_conns = 64
M.idle = 10
M.max_response = 1024 * 1024

local REASON = { [200] = "OK", [400] = "Bad Request", [401] = "Unauthorized", [404] = "Not Found",
  [405] = "Method Not Allowed", [431] = "Request Header Fields Too Large", [500] = "Internal Server Error",
  [503] = "Service Unavailable" }

local Server = {}
Server.__index = Server

--- M.parse_addr("HOST:PORT" | "[V6]:PORT" | ":PORT" | "PORT") -> host, port | nil, message.
-- No host: loopback.
function M.parse_addr(addr)
  if type(addr) ~= "string" then return nil, "the address must be a string such as 127.0.0.1:9464" end
  local host, port = addr:match("^%[([%x:%.]+)%]:(%d+)$")
  if not host then host, port = addr:match("^([^:%[%]]*):(%d+)$") end
  if not host and addr:match("^%d+$") then host, port = "", addr end
  if not host or #port > 5 or tonumber(port) > 65535 then
    return nil, addr .. ": not an address (HOST:PORT, [IPV6]:PORT or :PORT)"
  end
  if host == "" then host = "127.0.0.1" end
  return host, port
end

--- M.listen(core, addr, handler) -> server | nil, err. handler(req) ->
-- status, headers (a list of "Name: value" lines), body; req: { method,
-- target, authorization }.
function M.listen(core, addr, handler)
  local host, port = M.parse_addr(addr)
  if not host then
    return nil, errors.new("bad_input", "status: " .. port, { field = "status",
      hint = "Give the status server's address as HOST:PORT, such as 127.0.0.1:9464" })
  end
  local l, err = core.http_listen(host, port)
  if not l then
    return nil, errors.new("bad_input", "status: cannot listen on " .. addr .. ": " .. tostring(err.message or err),
      { field = "status", hint = "Choose a free port, or an address of this machine" })
  end
  return setmetatable({ core = core, listener = l, handler = handler, conns = {}, n = 0 }, Server)
end

function Server:port() return self.listener:port() end
function Server:loopback() return self.listener:loopback() end

-- The descriptors to poll: appended to r (readable) and w (writable).
function Server:fds(r, w)
  if not self.listener then return end
  if self.n < M.max_conns then r[#r + 1] = self.listener:fd() end
  for c, st in pairs(self.conns) do
    if st.writing then w[#w + 1] = c:fd() else r[#r + 1] = c:fd() end
  end
end

-- The clock's time of the next drop (a client too slow), or nil.
function Server:next_due()
  local at
  for _, st in pairs(self.conns) do
    if not at or st.deadline < at then at = st.deadline end
  end
  return at
end

function Server:drop(c)
  self.conns[c] = nil
  self.n = self.n - 1
  c:close()
end

local function response(status, headers, body)
  local head = { "HTTP/1.1 " .. status .. " " .. (REASON[status] or "Status"), "Content-Length: " .. #body,
    "Connection: close", "Cache-Control: no-store", "X-Content-Type-Options: nosniff" }
  for _, h in ipairs(headers or {}) do head[#head + 1] = h end
  return table.concat(head, "\r\n") .. "\r\n\r\n" .. body
end
M.response = response

local PLAIN = { "Content-Type: text/plain; charset=utf-8" }

function Server:answer(c, st, req, now)
  local status, headers, body
  if type(req) == "table" then
    local ok
    ok, status, headers, body = pcall(self.handler, req)
    if not ok then status, headers, body = 500, PLAIN, "internal error\n" end
    if #body > M.max_response then status, headers, body = 500, PLAIN, "response too large\n" end
  elseif req == "too_large" then
    status, headers, body = 431, PLAIN, "request too large (8 KiB at most)\n"
  else
    status, headers, body = 400, PLAIN, "bad request\n"
  end
  c:send(response(status, headers, body))
  st.writing, st.deadline = true, now + M.idle
end

-- One turn: new clients accepted, requests read and answered, responses
-- sent, slow clients dropped. Never blocks.
function Server:step(now)
  if not self.listener then return end
  while self.n < M.max_conns do
    local c = self.listener:accept()
    if not c then break end
    self.conns[c] = { deadline = now + M.idle }
    self.n = self.n + 1
  end
  for c, st in pairs(self.conns) do
    if not st.writing then
      local req = c:recv()
      if req == nil or req == "eof" then
        self:drop(c)
      elseif req ~= "more" then
        self:answer(c, st, req, now)
      end
    end
    if self.conns[c] and st.writing then
      local done = c:flush()
      if done ~= false then self:drop(c) end -- sent, or the client went away
    end
    if self.conns[c] and now >= st.deadline then self:drop(c) end
  end
end

function Server:close()
  if not self.listener then return end
  for c in pairs(self.conns) do self:drop(c) end
  self.listener:close()
  self.listener = nil
end

return M
