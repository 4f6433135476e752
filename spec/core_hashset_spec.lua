-- core.hashset (csrc/hashset.c): the hot folder's memory of the versions it
-- uploaded, kept as 64-bit hashes.
local core = require("ion.upload.core")

describe("core.hashset", function()
  it("adds, finds and removes members", function()
    local s = core.hashset()
    assert.is_true(s:add("a/b.csv\0" .. "12|1700000000.000001"))
    assert.is_false(s:add("a/b.csv\0" .. "12|1700000000.000001")) -- already there
    assert.is_true(s:has("a/b.csv\0" .. "12|1700000000.000001"))
    assert.is_false(s:has("a/b.csv\0" .. "12|1700000000.000002")) -- another version
    assert.is_false(s:has("a/b.csv"))
    assert.is_true(s:add(""))
    assert.is_true(s:has(""))
    assert.equal(2, (s:count()))
    assert.is_true(s:remove("a/b.csv\0" .. "12|1700000000.000001"))
    assert.is_false(s:remove("a/b.csv\0" .. "12|1700000000.000001"))
    assert.is_false(s:has("a/b.csv\0" .. "12|1700000000.000001"))
    assert.equal(1, (s:count()))
    assert.has_error(function() s:add(nil) end)
  end)

  it("holds 100,000 members in about 16 bytes each, none confused with a non-member", function()
    local s, n = core.hashset(), 100000
    for i = 1, n do assert.is_true(s:add("station7/RS" .. i .. "_log.csv")) end
    local count, bytes = s:count()
    assert.equal(n, count)
    assert.is_true(bytes / n <= 24, bytes / n .. " bytes a member")
    for i = 1, n do
      assert.is_true(s:has("station7/RS" .. i .. "_log.csv"))
      assert.is_false(s:has("station7/RS" .. i .. "_log.csv.tmp"))
    end
  end)

  it("reuses the slots of removed members: add and remove forever stays small", function()
    local s = core.hashset()
    for i = 1, 50000 do
      s:add("f" .. i)
      if i > 10 then assert.is_true(s:remove("f" .. (i - 10))) end
    end
    local count, bytes = s:count()
    assert.equal(10, count)
    assert.is_true(bytes <= 1024, bytes .. " bytes for 10 members")
    for i = 49991, 50000 do assert.is_true(s:has("f" .. i)) end
    assert.is_false(s:has("f49990"))
  end)
end)
