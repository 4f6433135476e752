-- Units of ion-upload verify's inputs and receipts (no network): the
-- journal read without a lock, its keys taken apart, receipt lines written
-- and read back (a last line cut short, a line that is no receipt), ids, and
-- the ETag reading of ion.upload.verify.
local cjson = require("cjson")
local core = require("ion.upload.core")
local journal = require("ion.upload.journal.file")
local receipts = require("ion.upload.cli.receipts")
local inputs = require("ion.upload.cli.verify_inputs")
local verify = require("ion.upload.verify")

local function tmp()
  local p = os.tmpname()
  os.remove(p)
  return p
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

describe("verify inputs", function()
  it("takes a journal key apart from the right, a path with | included", function()
    local key = journal.key("/data/a|b.txt", { size = 12, mtime = 1700000000.25 }, "run_step=7")
    local abs, size, mtime, target = journal.parse_key(key)
    assert.equal("/data/a|b.txt", abs)
    assert.equal(12, size)
    assert.equal(1700000000.25, mtime)
    assert.equal("run_step=7", target)
    assert.is_nil(journal.parse_key("no key"))
  end)

  it("reads a journal's attached files (and the SHA-256 of a put record) without locking it", function()
    local path = tmp()
    local j = assert(journal.open(path))
    local k1 = journal.key("/d/b.txt", { size = 3, mtime = 10 }, "part=3")
    local k2 = journal.key("/d/a.txt", { size = 5, mtime = 11 }, "run=1")
    assert(j:record_put(k1, { s3Key = "k1", etag = "e1", md5 = string.rep("1", 32), sha256 = string.rep("2", 64) }))
    assert(j:record_put(k2, { s3Key = "k2", etag = "e2", md5 = string.rep("3", 32) }))
    assert(j:record_attached(k2, { id = 7, md5 = string.rep("3", 32), etag = "e2", s3Key = "k2", size = 5 }))
    -- still open and locked by j: read() neither waits nor creates
    local entries = assert(journal.read(path))
    assert.equal(string.rep("2", 64), entries[k1].put.sha256)
    local list = assert(inputs.from_journal(path))
    assert.equal(2, #list)
    assert.equal("/d/a.txt", list[1].label)
    assert.equal(7, list[1].id)
    assert.same({ path = "/d/a.txt", size = 5, mtime = 11, md5 = string.rep("3", 32), etag = "e2", s3Key = "k2" },
      list[1].expect)
    assert.equal("/d/b.txt", list[2].label)
    assert.matches("no attachment", list[2].missing)
    j:close()
    os.remove(path)
    local r, err = inputs.from_journal(path)
    assert.is_nil(r)
    assert.matches("cannot read journal", err)
    assert.is_nil(io.open(path)) -- not created
  end)

  it("writes receipt lines in a fixed key order and reads them back", function()
    local line = receipts.line({ path = "/d/a b.txt", size = 6, mtime = 1700000000.123456, md5 = string.rep("a", 32),
      sha256 = nil, etag = string.rep("a", 32), id = 42, entityId = "9", kind = "run_step", target_id = 12,
      filename = "a b.txt", s3Key = "uploads/x/a b.txt", time = "2026-01-01T00:00:00Z" })
    assert.matches('^{"path":"/d/a b.txt","size":6,"mtime":1700000000.123456,"md5":"a+","sha256":null,'
      .. '"etag":"a+","id":42,"entityId":"9","target":{"kind":"run_step","id":12},"filename":"a b.txt",'
      .. '"s3Key":"uploads/x/a b.txt","time":"2026%-01%-01T00:00:00Z"}$', line)
    local path = tmp()
    write(path, line .. "\nnot json\n" .. line:sub(1, 30)) -- a bad line, then a last line cut short
    local list = assert(inputs.from_receipts(path))
    assert.equal(2, #list)
    assert.equal(42, list[1].id)
    assert.equal("run_step=12", list[1].target)
    assert.is_nil(list[1].expect.sha256) -- null
    assert.equal(1700000000.123456, list[1].expect.mtime)
    assert.matches("line 2 of .* is no receipt", list[2].err)
    os.remove(path)
  end)

  it("matches a manifest row whose target is found by name by its path (the record holds what it resolved to)",
    function()
      local path = tmp()
      write(path, "path,target,id\n/d/a.csv,run_step,88/Final test\n/d/b.csv,run,title=SN1\n/d/c.csv,run,7\n")
      local rec = { label = "/d/a.csv", id = 5, target = "run_step=28", expect = { path = "/d/a.csv" } }
      local other = { label = "/d/c.csv", id = 6, target = "run=8", expect = { path = "/d/c.csv" } }
      local list = assert(inputs.from_manifest(path, { rec, other }, core, function() end))
      assert.equal(rec, list[1])
      assert.equal("no upload of this file is on record", list[2].missing)
      assert.equal("no upload of this file to run=7 is on record", list[3].missing) -- an id still decides
      os.remove(path)
    end)

  it("a receipt of a target found by name gives its kind and words; the entity says where it went", function()
    local path = tmp()
    local w = assert(receipts.open(path, core))
    w:done({ path = "/nonexistent/x", target = { run_step = { run = 7, title = "Final test" } } },
      { id = 1, size = 1, entityId = "304", md5 = string.rep("b", 32) })
    w:close()
    local rec = cjson.decode(io.open(path):read("*a"))
    assert.same({ kind = "run_step", lookup = "run_step 'Final test' of run 7" }, rec.target)
    assert.equal("304", rec.entityId)
    os.remove(path)
  end)

  it("appends receipts, flushed per line, and none for a skipped file", function()
    local path = tmp()
    local w = assert(receipts.open(path, core))
    w:done({ path = "/nonexistent/x", target = { part = 3 } }, { id = 1, size = 1, md5 = string.rep("b", 32) })
    assert.equal(1, select(2, (io.open(path):read("*a")):gsub("\n", ""))) -- on disk before close
    w:done({ path = "/nonexistent/y", target = { part = 3 } }, { id = 2 }, true)
    assert(w:close())
    local rec = cjson.decode(io.open(path):read("*l"))
    assert.same({ kind = "part", id = 3 }, rec.target)
    assert.equal(1, rec.id)
    os.remove(path)
  end)

  it("takes positive whole ids only", function()
    local list = assert(inputs.from_ids({ "12", "007" }))
    assert.equal(12, list[1].id)
    assert.equal(7, list[2].id)
    assert.is_nil(inputs.from_ids({ "0" }))
    assert.is_nil(inputs.from_ids({ "1.5" }))
  end)

  it("reads an ETag as an MD5 only when it is one", function()
    assert.equal(string.rep("a", 32), verify.etag_md5('"' .. string.rep("A", 32) .. '"'))
    assert.equal(string.rep("a", 32), verify.etag_md5('W/"' .. string.rep("a", 32) .. '"'))
    assert.is_nil(verify.etag_md5('"' .. string.rep("a", 32) .. '-3"')) -- multipart
    assert.is_nil(verify.etag_md5(nil))
  end)
end)
