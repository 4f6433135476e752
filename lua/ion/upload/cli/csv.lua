-- CSV (RFC 4180) as a push parser: text is fed in chunks of any size, split
-- anywhere (a quoted field's line breaks, a CRLF, a doubled quote or a UTF-8
-- byte order mark may straddle two chunks), and whole records come out as
-- soon as they are complete. So the manifest is read a chunk at a time and
-- never held whole (cli/manifest.lua).
--
-- Linear time: string.find jumps to the next character that matters (a
-- quote in a quoted field; a quote, comma, CR or LF outside one) with a
-- one-character class, no backtracking; text between is taken as one piece.
-- A broken record (a quote inside an unquoted field, text after a closing
-- quote, a quoted field never closed) comes out as { err =, line =, fields =
-- (those complete before it broke) } in its place; the parser then skips to
-- the next line break and goes on. A quoted field that runs past its line
-- and then breaks is taken for a quote left open: its line alone is the
-- broken record, and the lines after it are read again as records.
local find, sub, byte = string.find, string.sub, string.byte

local csv = {}

local Parser = { __name = "ion.upload.cli.csv" }
Parser.__index = Parser

local QUOTE, LF, CR = 34, 10, 13
local BOM = "\239\187\191"
local UNCLOSED = "unclosed quote: the quoted field that starts here is never closed"

function csv.parser()
  return setmetatable({
    rest = "",        -- bytes held back: a BOM's start, a quote or a CR at a chunk's end
    at_start = true,  -- the BOM is not yet ruled out
    line = 1, start_line = 1,
    fields = {}, parts = {}, nparts = 0, quoted = false, was_quoted = false, skipping = false,
    out = {}, head = 1, tail = 0, -- records ready: out[head..tail]
  }, Parser)
end

-- Line breaks inside a piece of a quoted field (they move the line count).
local function count_lf(s)
  local n, p = 0, find(s, "\n", 1, true)
  while p do
    n = n + 1
    p = find(s, "\n", p + 1, true)
  end
  return n
end

function Parser:piece(s)
  if s ~= "" then
    self.nparts = self.nparts + 1
    self.parts[self.nparts] = s
  end
end

function Parser:end_field()
  local v = self.nparts == 1 and self.parts[1] or table.concat(self.parts, "", 1, self.nparts)
  self.fields[#self.fields + 1] = v
  for k = self.nparts, 1, -1 do self.parts[k] = nil end
  self.nparts, self.was_quoted = 0, false
end

function Parser:emit(rec)
  self.tail = self.tail + 1
  self.out[self.tail] = rec
end

function Parser:end_record()
  local blank = #self.fields == 0 and self.nparts == 0 and not self.was_quoted
  self:end_field()
  if not blank then self:emit({ fields = self.fields, line = self.start_line }) end
  self.fields = {}
  self.start_line = self.line
end

-- A broken record: reported in its place; the rest of its line is skipped.
function Parser:broken(message, line)
  self:emit({ err = string.format("line %d: %s", line, message), line = self.start_line, fields = self.fields })
  self.fields = {}
  for k = self.nparts, 1, -1 do self.parts[k] = nil end
  self.nparts, self.quoted, self.was_quoted, self.skipping = 0, false, false, true
end

-- A quoted field that left its line and then broke (never closed, or text
-- after its closing quote) is most likely a quote left open by mistake: the
-- line it opened on is the broken record, and the text after that line is
-- read again, so one typo fails one row, not every row it swallowed. Returns
-- that text, or nil when the field never left its line. The field's pieces
-- hold each doubled quote as one: doubled again, they give the text back.
function Parser:reread(message)
  local body = table.concat(self.parts, "", 1, self.nparts)
  local nl = find(body, "\n", 1, true)
  if not nl then return nil end
  local line = self.quote_line
  self:broken(message, line)
  self.skipping, self.line, self.start_line = false, line + 1, line + 1
  return (sub(body, nl + 1):gsub('"', '""'))
end

-- Text after a closing quote at i (scan's): the rest of the line skipped,
-- or the field's lines read again (reread) up to the end of this line, the
-- closing quote now an opening one. Returns where to go on in text, and
-- when the lines read again took all of it, scan's own two results for them.
-- Linear: the lines read again hold quotes only in pairs, so no field of
-- theirs leaves its line, and none is read a third time.
function Parser:after_close(text, i, final)
  local again = self:reread(string.format("unclosed quote: the quoted field that starts here ends on line %d, "
    .. "with text after its closing quote", self.line))
  if not again then
    self:broken("text after a closing quote", self.line)
    return i
  end
  local eol = find(text, "\n", i, true)
  if not eol then return nil, self:scan(again .. sub(text, i - 1), 1, final) end
  self:scan(again .. sub(text, i - 1, eol), 1, final) -- ends with a line break: nothing held back
  return eol + 1
end

-- A whole record on one line with no quote and no CR (most manifest rows)
-- at i, at a record's start: its fields split at the commas, one find a
-- field, no pieces; or nil (the general path takes it). Returns where the
-- next record starts.
function Parser:plain_line(text, i)
  local nl = find(text, "\n", i, true)
  if not nl then return nil end
  local line = sub(text, i, nl - 1) -- searched alone: each byte looked at once
  if find(line, '["\r]') then return nil end
  if line ~= "" then
    local fields, nf, j = {}, 0, 1
    local comma = find(line, ",", 1, true)
    while comma do
      nf = nf + 1
      fields[nf] = sub(line, j, comma - 1)
      j = comma + 1
      comma = find(line, ",", j, true)
    end
    fields[nf + 1] = sub(line, j)
    self:emit({ fields = fields, line = self.line })
  end
  self.line = self.line + 1
  self.start_line = self.line
  return nl + 1
end

-- Parses text from i; returns where it stopped (past the end, or at bytes
-- that need the next chunk to be read right) and the text it stopped in
-- (another when a broken quoted field's lines were read again).
function Parser:scan(text, i, final)
  local n = #text
  while i <= n do
    local plain = not self.skipping and not self.quoted and self.nparts == 0 and not self.was_quoted
      and #self.fields == 0 and self:plain_line(text, i)
    if plain then
      i = plain
    elseif self.skipping then
      local p = find(text, "\n", i, true)
      if not p then return n + 1, text end
      self.line = self.line + 1
      self.start_line, self.skipping, i = self.line, false, p + 1
    elseif self.quoted then
      local q = find(text, '"', i, true)
      local s = sub(text, i, (q or n + 1) - 1)
      self.line = self.line + count_lf(s)
      self:piece(s)
      if not q then return n + 1, text end
      if q == n and not final then return q, text end -- a doubled quote, or the closing one?
      if byte(text, q + 1) == QUOTE then
        self:piece('"')
        i = q + 2
      else
        self.quoted, i = false, q + 1
      end
    else
      local d = find(text, '[",\r\n]', i)
      local c = d and byte(text, d)
      -- after a closing quote: text, or a CR that is no CRLF's
      if self.was_quoted and (d ~= i or c == CR and (d < n or final) and byte(text, d + 1) ~= LF) then
        local go_on, stop, rest_of = self:after_close(text, i, final)
        if not go_on then return stop, rest_of end
        i = go_on
      else
        self:piece(sub(text, i, (d or n + 1) - 1))
        if not d then return n + 1, text end
        i = d + 1
        if c == QUOTE then
          if self.nparts > 0 then
            self:broken("a quote inside an unquoted field", self.line)
            i = d
          else
            self.quoted, self.was_quoted, self.quote_line = true, true, self.line
          end
        elseif c == 44 then -- ,
          self:end_field()
        elseif c == LF then
          self.line = self.line + 1
          self:end_record()
        elseif d == n and not final then
          return d, text -- a CR: is an LF next?
        elseif byte(text, d + 1) == LF then
          self.line = self.line + 1
          self:end_record()
          i = d + 2
        else
          self:piece("\r")
        end
      end
    end
  end
  return i, text
end

--- Feeds the next chunk of text; final: no more will come (chunk may be
-- nil then). Complete records are then ready for next().
function Parser:feed(chunk, final)
  local text = self.rest .. (chunk or "")
  if self.at_start then
    if #text < #BOM and not final and BOM:sub(1, #text) == text then
      self.rest = text
      return
    end
    self.at_start = false
    if sub(text, 1, #BOM) == BOM then text = sub(text, #BOM + 1) end
  end
  local stop, rest_of = self:scan(text, 1, final)
  self.rest = sub(rest_of, stop)
  if final then
    self.rest = ""
    local again = self.quoted and self:reread(UNCLOSED)
    if again then self:scan(again, 1, true) end -- its quotes come in pairs: it ends with no field open
    if self.quoted then
      self:broken(UNCLOSED, self.quote_line)
    elseif not self.skipping and (self.nparts > 0 or #self.fields > 0 or self.was_quoted) then
      self:end_record()
    end
    self.done = true
  end
end

--- The next complete record — { fields =, line = } or { err =, line = } —
-- or nil when none is ready (feed more, or the text has ended: ended()).
function Parser:next()
  if self.head > self.tail then return nil end
  local r = self.out[self.head]
  self.out[self.head] = nil
  self.head = self.head + 1
  if self.head > self.tail then self.head, self.tail = 1, 0 end
  return r
end

function Parser:ended()
  return self.done == true and self.head > self.tail
end

--- Every record of a whole text (a string): records | nil, message (the
-- first broken record's).
function csv.parse(text)
  local p = csv.parser()
  p:feed(text, true)
  local records = {}
  for rec in function() return p:next() end do
    if rec.err then return nil, rec.err end
    records[#records + 1] = rec
  end
  return records
end

return csv
