-- Unit spec: the CSV push parser (cli/csv.lua) and the manifest read a
-- record at a time (cli/manifest.lua's reader): the same records whatever
-- the chunks, broken records in their place, the file read in chunks.
local csv = require("ion.upload.cli.csv")
local manifest = require("ion.upload.cli.manifest")

-- Every record of text fed as the given chunks.
local function records_of(chunks)
  local p, out = csv.parser(), {}
  local function drain()
    for rec in function() return p:next() end do out[#out + 1] = rec end
  end
  for _, c in ipairs(chunks) do
    p:feed(c)
    drain()
  end
  p:feed(nil, true)
  drain()
  assert.is_true(p:ended())
  return out
end

-- A text with every case that may straddle two chunks: a BOM, a quoted
-- field with CRLF and LF inside, doubled quotes, CRLF ends, a lone CR in a
-- field, blank lines, an empty quoted field, broken records, no final break.
local UNCLOSED = "unclosed quote: the quoted field that starts here is never closed"

local TEXT = "\239\187\191path,target,id\r\n"
  .. '"multi\r\nline\n, ""quoted""",run,1\r\n'
  .. "plain.txt,run,2\n"
  .. "\n"
  .. 'a"b,run,3\n'                 -- a quote inside an unquoted field
  .. '"c" x,run,4\r\n'             -- text after a closing quote
  .. "lone\rcr.txt,run,5\r\n"
  .. '"",run,6\n'
  .. "last.txt,run,7"

describe("ion.upload.cli.csv", function()
  local whole

  setup(function() whole = records_of({ TEXT }) end)

  it("parses fields, quotes and line breaks, and reports broken records in their place", function()
    assert.same({ "path", "target", "id" }, whole[1].fields)
    assert.same({ 'multi\r\nline\n, "quoted"', "run", "1" }, whole[2].fields)
    assert.equal(2, whole[2].line)
    assert.same({ "plain.txt", "run", "2" }, whole[3].fields)
    assert.equal(5, whole[3].line)
    assert.equal(7, whole[4].line)
    assert.equal("line 7: a quote inside an unquoted field", whole[4].err)
    assert.equal("line 8: text after a closing quote", whole[5].err)
    assert.same({ "lone\rcr.txt", "run", "5" }, whole[6].fields) -- the parser went on after them
    assert.equal(9, whole[6].line)
    assert.equal(11, whole[8].line)
    assert.same({ "", "run", "6" }, whole[7].fields)
    assert.same({ "last.txt", "run", "7" }, whole[8].fields)
    assert.equal(8, #whole)
  end)

  it("gives the same records for the text split in two at every byte", function()
    for cut = 0, #TEXT do
      assert.same(whole, records_of({ TEXT:sub(1, cut), TEXT:sub(cut + 1) }), "split at " .. cut)
    end
  end)

  it("gives the same records fed a byte at a time", function()
    local bytes = {}
    for i = 1, #TEXT do bytes[i] = TEXT:sub(i, i) end
    assert.same(whole, records_of(bytes))
  end)

  it("hands a record out as soon as it is complete, a quoted field's line breaks across chunks", function()
    local p = csv.parser()
    p:feed('path,target,id\n"a\n')
    assert.same({ "path", "target", "id" }, p:next().fields)
    assert.is_nil(p:next()) -- the quoted field goes on
    p:feed('b\n')
    assert.is_nil(p:next())
    p:feed('c",run,1\nd,run')
    assert.same({ "a\nb\nc", "run", "1" }, p:next().fields)
    assert.is_nil(p:next())
    p:feed(",2\n")
    assert.same({ "d", "run", "2" }, p:next().fields)
    assert.is_false(p:ended())
  end)

  it("reports a quoted field never closed at the end", function()
    assert.same({ nil, "line 2: " .. UNCLOSED }, { csv.parse('x\n"open') })
  end)

  -- Quotes left open on lines 3 and 6, closed by the quoted fields of lines 5
  -- and 8 (text after them), and one on line 9 never closed: each fails its
  -- own line, and the lines they swallowed are read again, doubled quotes
  -- and all.
  local OPEN = 'path,target,id\nok,run,1\nc.txt,run,"2\nd.txt,run,3\n"e ""q"".txt",run,4\n'
    .. '"f.txt,run,5\ng.txt,run,6\n"h, i.txt",run,7\nj.txt,run,"8\r\nk.txt,run,9'

  it("takes a quoted field that runs on and breaks for a quote left open: its line fails, the rest is read", function()
    local recs = records_of({ OPEN })
    local got = {}
    for k, r in ipairs(recs) do got[k] = r.err or table.concat(r.fields, "|") .. "@" .. r.line end
    assert.same({
      "path|target|id@1", "ok|run|1@2",
      "line 3: unclosed quote: the quoted field that starts here ends on line 5, with text after its closing quote",
      "d.txt|run|3@4", 'e "q".txt|run|4@5',
      "line 6: unclosed quote: the quoted field that starts here ends on line 8, with text after its closing quote",
      "g.txt|run|6@7", "h, i.txt|run|7@8",
      "line 9: " .. UNCLOSED, "k.txt|run|9@10",
    }, got)
    assert.same({ "c.txt", "run" }, recs[3].fields)
    assert.same({ 3, 6, 9 }, { recs[3].line, recs[6].line, recs[9].line })
    for cut = 0, #OPEN do
      assert.same(recs, records_of({ OPEN:sub(1, cut), OPEN:sub(cut + 1) }), "split at " .. cut)
    end
    local bytes = {}
    for i = 1, #OPEN do bytes[i] = OPEN:sub(i, i) end
    assert.same(recs, records_of(bytes))
  end)
end)

describe("ion.upload.cli.manifest reader", function()
  local core = require("ion.upload.core")
  local path

  before_each(function()
    path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write("path,target,id,filename\n")
    for i = 1, 200 do f:write(string.format('"dir/f%d.txt",run_step,%d,\n', i, i)) end
    f:write("bad.txt,widget,1,\n")
    f:close()
  end)
  after_each(function() os.remove(path) end)

  it("core.read_some gives what one read(2) gives: a pipe's bytes without waiting for max", function()
    local p = assert(io.popen("printf abc"))
    local fd = core.fileno(p)
    assert.is_true(fd > 2)
    assert.equal(1, core.poll({ fd }, {}, 10)) -- the readiness probe: the bytes (or the end) are there
    local got = {}
    while true do
      local s = core.read_some(p, 2)
      if not s then break end
      got[#got + 1] = s
    end
    p:close()
    assert.equal("abc", table.concat(got))
    assert.is_true(#got[1] <= 2)
    assert.has_error(function() core.read_some(io.stdin, 0) end)
  end)

  it("reads the file a chunk at a time, as rows are asked for", function()
    local reads, old = 0, manifest.chunk
    manifest.chunk = 100
    local counting = setmetatable({ read_some = function(...)
      reads = reads + 1
      return core.read_some(...)
    end }, { __index = core })
    local r = assert(manifest.open(path, counting))
    local after_header = reads
    assert.is_true(after_header <= 1)
    local first = r:next()
    assert.same({ path = "dir/f1.txt", target = { run_step = 1 }, line = 2 }, first)
    assert.is_true(reads <= 2, "read more than it needed: " .. reads)
    local n, last = 1, nil
    while true do
      local item = r:next()
      if not item then break end
      n, last = n + 1, item
    end
    manifest.chunk = old
    r:close()
    assert.equal(201, n)
    assert.matches('unknown target "widget"', last.err.message) -- a bad row fails in its place
    assert.is_true(reads > 50, "not read in chunks: " .. reads .. " reads")
    -- the whole-file reader (verify) gives the same rows
    assert.equal(201, #assert(manifest.read(path, core)))
  end)

  it("fails a broken row under its path, or where it is when it has none; the rows after it still come", function()
    local f = assert(io.open(path, "wb"))
    f:write('path,target,id\n"a.txt,run,1\nb.txt,run,2\nc.txt,run,"3\nd.txt,run,4\n')
    f:close()
    local r = assert(manifest.open(path, core))
    local rows = {}
    for row in function() return r:next(true) end do rows[#rows + 1] = row end
    r:close()
    assert.equal(4, #rows)
    assert.equal(path .. ":2", rows[1].path) -- the path column itself is broken
    assert.equal("bad_input", rows[1].err.code)
    -- (line 4's quote closes it: then, with text after that, it is taken for a quote left open)
    assert.equal("manifest line 2: unclosed quote: the quoted field that starts here ends on line 4, with text after "
      .. "its closing quote", rows[1].err.message)
    assert.same({ "b.txt", { run = 2 } }, { rows[2].path, rows[2].target })
    assert.equal("c.txt", rows[3].path)
    assert.equal("manifest line 4: " .. UNCLOSED, rows[3].err.message)
    assert.same({ "d.txt", { run = 4 } }, { rows[4].path, rows[4].target })
    -- verify wants a manifest it can read whole
    local _, err = manifest.read(path, core)
    assert.equal(rows[1].err.message, err.message)
  end)
end)
