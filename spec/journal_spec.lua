-- Unit spec: the resume journal on real files in a temp folder (no network).
local journal = require("ion.upload.journal.file")

local function tmpname()
  local path = os.tmpname()
  os.remove(path)
  return path
end

local function read_all(path)
  local fh = assert(io.open(path, "rb"))
  local s = fh:read("*a")
  fh:close()
  return s
end

describe("ion.upload.journal.file", function()
  local path
  before_each(function() path = tmpname() end)
  after_each(function() os.remove(path) end)

  it("keys a file by absolute path, size, mtime and target", function()
    local a = journal.key("/data/a.jpg", { size = 10, mtime = 1.5 }, "run_step=1")
    local b = journal.key("/data/a.jpg", { size = 10, mtime = 1.5 }, "run_step=2")
    local c = journal.key("/data/a.jpg", { size = 11, mtime = 1.5 }, "run_step=1")
    assert.are_not.equal(a, b)
    assert.are_not.equal(a, c)
  end)

  it("remembers puts, attachments and doubts across reopening", function()
    local j = assert(journal.open(path))
    assert.is_nil(j:lookup("k1"))
    assert(j:record_put("k1", { s3Key = "uploads/x/a.jpg", etag = "abc", md5 = "abc" }))
    assert(j:record_put("k2", { s3Key = "uploads/y/b.jpg", etag = "def", md5 = "def" }))
    assert(j:record_attached("k2", { id = 42, entityId = "7" }))
    assert(j:record_put("k3", { s3Key = "uploads/z/c.jpg", etag = "123", md5 = "123" }))
    assert(j:record_in_doubt("k3"))
    j:close()

    j = assert(journal.open(path))
    assert.same({ s3Key = "uploads/x/a.jpg", etag = "abc", md5 = "abc" }, j:lookup("k1").put)
    assert.is_nil(j:lookup("k1").attached)
    assert.equal(42, j:lookup("k2").attached.id)
    assert.is_true(j:lookup("k3").in_doubt)
    assert.equal(0, j.skipped)
    j:close()
  end)

  it("remembers a registration sent but not answered (a crash) until its outcome is recorded", function()
    local j = assert(journal.open(path))
    for _, k in ipairs({ "a", "b", "c", "d" }) do
      assert(j:record_put(k, { s3Key = "s" .. k, etag = "e", md5 = "e" }))
    end
    assert(j:record_registering({ "a", "b", "c", "d" }))
    assert(j:record_attached("b", { id = 1 }))
    assert(j:record_not_registered("c"))
    assert(j:record_stale("d"))
    j:close()
    -- the four registering records went out in one write
    local n = 0
    for _ in read_all(path):gmatch('"e":"registering"') do n = n + 1 end
    assert.equal(4, n)
    j = assert(journal.open(path))
    assert.is_true(j:lookup("a").registering)
    assert.is_nil(j:lookup("b").registering)
    assert.is_nil(j:lookup("c").registering)
    assert.is_nil(j:lookup("d").registering)
    j:close()
  end)

  it("forgets a PUT that storage no longer has", function()
    local j = assert(journal.open(path))
    assert(j:record_put("k", { s3Key = "s", etag = "e", md5 = "e" }))
    assert(j:record_stale("k"))
    assert.is_nil(j:lookup("k").put)
    j:close()
  end)

  it("tolerates a last line cut short by a crash and appends on a new line", function()
    local j = assert(journal.open(path))
    assert(j:record_put("k1", { s3Key = "s1", etag = "e1", md5 = "e1" }))
    j:close()
    local fh = assert(io.open(path, "ab"))
    fh:write('{"v":1,"k":"k2","e":"att')   -- what a SIGKILL mid-write leaves
    fh:close()

    j = assert(journal.open(path))
    assert.equal(1, j.skipped)
    assert.is_nil(j:lookup("k2"))
    assert(j:record_attached("k1", { id = 1 }))
    j:close()

    local lines = {}
    for line in read_all(path):gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal(3, #lines)
    j = assert(journal.open(path))
    assert.equal(1, j:lookup("k1").attached.id)
    j:close()
  end)

  it("refuses a second run on the same journal while the first holds it", function()
    local first = assert(journal.open(path))
    local second, err = journal.open(path)
    assert.is_nil(second)
    assert.equal("bad_input", err.code)
    assert.matches("in use by another run", err.message)
    first:close()
    second = assert(journal.open(path))
    second:close()
  end)

  it("reports an unwritable location as bad_input", function()
    local j, err = journal.open("/nonexistent-folder/x.journal")
    assert.is_nil(j)
    assert.equal("bad_input", err.code)
  end)
end)
