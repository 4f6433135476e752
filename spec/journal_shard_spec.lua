-- The journal's shard record (lua/ion/upload/journal/shard_record.lua): written
-- by a shard's first run, refused by another shard, kept by compaction, and
-- never taken for a file. Real journals in a temporary folder.
local journal = require("ion.upload.journal.file")
local record = require("ion.upload.journal.shard_record")
local files = require("support.files")
local cjson = require("cjson")

-- The journal's first record.
local function first(path) return cjson.decode(files.read(path):match("^[^\n]*")) end

describe("the journal's shard record", function()
  local dir
  before_each(function() dir = files.tmpdir() end)
  after_each(function() files.rmdir(dir) end)

  local function key(i) return "/data/f" .. i .. ".txt|10|1700000000.000000|run_step=1" end

  it("is written first by a shard's first run; another shard, or no shard, is refused", function()
    local path = dir .. "/s.journal"
    local j = assert(journal.open(path, { shard = { k = 1, n = 4 } }))
    assert(j:record_put(key(1), { s3Key = "k", etag = "e", md5 = "m" }))
    j:close()
    assert.same({ v = 1, k = "shard", e = "shard", shard = "1/4" }, first(path))
    assert.equal("1/4", record.of_file(path))
    for _, other in ipairs({ { k = 2, n = 4 }, { k = 1, n = 8 }, false }) do
      local j2, err = journal.open(path, { shard = other or nil })
      assert.is_nil(j2)
      assert.equal("bad_input", err.code)
      assert.matches("is shard 1/4's", err.message)
      assert.is_nil((journal.peek(path, other)))
    end
    j = assert(journal.open(path, { shard = { k = 1, n = 4 } })) -- its own shard: again and again
    j:close()
    local keys = {}
    for k in assert(journal.each(path)) do keys[#keys + 1] = k end
    assert.same({ key(1) }, keys) -- the record is no file
  end)

  it("leaves a journal older than sharding usable, and records the first shard run on it", function()
    local path = dir .. "/old.journal"
    files.write(dir, "old.journal", '{"v":1,"k":"' .. key(1) .. '","e":"put","s3Key":"k","etag":"e","md5":"m"}\n')
    local j = assert(journal.open(path)) -- no shard: as before
    j:close()
    assert.is_nil(record.of_file(path))
    j = assert(journal.open(path, { shard = { k = 0, n = 2 } }))
    assert.is_table(j:lookup(key(1)).put)
    j:close()
    assert.equal("0/2", record.of_file(path))
  end)

  it("survives compaction, still the first line", function()
    local path = dir .. "/big.journal"
    local j = assert(journal.open(path, { shard = { k = 3, n = 8 } }))
    local recs = {}
    for i = 1, 1000 do
      recs[#recs + 1] = { v = 1, k = key(i), e = "put", s3Key = "k" .. i, etag = "e", md5 = "m" }
      for _, e in ipairs({ "registering", "not_registered", "registering" }) do
        recs[#recs + 1] = { v = 1, k = key(i), e = e }
      end
      recs[#recs + 1] = { v = 1, k = key(i), e = "attached", att = { id = i } }
    end
    assert(j:write_records(recs))
    j:close()
    local before = #files.read(path)
    j = assert(journal.open(path, { shard = { k = 3, n = 8 } })) -- more than half superseded: compacted
    assert.same({ id = 7 }, j:lookup(key(7)).attached)
    j:close()
    assert.is_true(#files.read(path) < before * 0.75, "not compacted")
    assert.same({ v = 1, k = "shard", e = "shard", shard = "3/8" }, first(path))
    assert.equal("3/8", record.of_file(path))
  end)
end)
