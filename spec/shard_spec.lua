-- The shard split (lua/ion/upload/shard.lua, csrc/shard.c): the K/N rule,
-- the published hash (checked against its own test vectors and an
-- independent Lua 5.3+ version), the partition and the balance.
local balance = require("bench.shard_balance")
local shard = require("ion.upload.shard")
local core = require("ion.upload.core")

-- FNV-1a 64 and the jump hash written again from their papers, in Lua 5.3+
-- integers (kept in a string: 5.1 and LuaJIT cannot parse `>>`).
local REFERENCE = [[
  local key, n = ...
  local h = -3750763034362895579 -- 14695981039346656037 as a signed 64-bit integer
  for i = 1, #key do h = (h ~ key:byte(i)) * 1099511628211 end
  local b, j = -1, 0
  while j < n do
    b = j
    h = h * 2862933555777941757 + 1
    j = math.floor((b + 1) * ((1 << 31) / ((h >> 33) + 1)))
  end
  return b
]]

describe("shard.parse", function()
  it("takes K/N with K from 0 to N-1", function()
    assert.same({ k = 0, n = 4 }, shard.parse("0/4"))
    assert.same({ k = 3, n = 4 }, shard.parse("3/4"))
    assert.same({ k = 0, n = 1 }, shard.parse("0/1"))
    assert.same({ k = 4095, n = 4096 }, shard.parse("4095/4096"))
    assert.same({ k = 7, n = 8 }, shard.parse("07/8")) -- as a shell pads an index
  end)

  it("refuses what is not a shard, with the rule", function()
    for text, why in pairs({ ["4/4"] = "K counts from 0: shard 4 of 4 does not exist %(0 to 3%)",
      ["-1/4"] = "'%-1/4'; expected", ["1/0"] = "N is the number of shards, from 1 to 4096",
      ["1/4/2"] = "'1/4/2'; expected", x = "'x'; expected", [""] = "''; expected",
      ["0/4097"] = "from 1 to 4096", ["99999999/4"] = "at most 4096", ["1 /4"] = "expected" }) do
      local s, err = shard.parse(text)
      assert.is_nil(s, text)
      assert.matches(why, err)
      assert.matches("expected K/N: shard K of N, K from 0 to N%-1 %(0%-based", err)
    end
    assert.matches("^ION_UPLOAD_SHARD 'x'", select(2, shard.parse("x", "ION_UPLOAD_SHARD")))
  end)

  it("checks the library's option as the other options are (bad_input naming it)", function()
    assert.same({ k = 1, n = 4 }, shard.check({ 1, 4 }))
    assert.same({ k = 1, n = 4 }, shard.check({ k = 1, n = 4 }))
    for _, v in ipairs({ { 4, 4 }, { -1, 4 }, { 1, 0 }, { 0.5, 4 }, { "1", "4" }, "1/4", { 0, 5000 } }) do
      local s, err = shard.check(v, "plan")
      assert.is_nil(s)
      assert.equal("bad_input", err.code)
      assert.equal("shard", err.field)
      assert.matches("to plan", err.hint)
    end
  end)
end)

describe("shard.journal_path", function()
  it("expands %k, %n and %%, and leaves any other % as written", function()
    assert.equal("uploads.2.journal", shard.journal_path("uploads.%k.journal", { k = 2, n = 8 }))
    assert.equal("j/2-of-8.%.journal", shard.journal_path("j/%k-of-%n.%%.journal", { k = 2, n = 8 }))
    assert.equal("50%.journal", shard.journal_path("50%.journal", nil))
    assert.equal("a%x%", shard.journal_path("a%x%", { k = 0, n = 1 }))
  end)

  it("refuses %k or %n without a shard", function()
    local p, err = shard.journal_path("uploads.%k.journal", nil)
    assert.is_nil(p)
    assert.matches("has %%k, the shard's K, but no shard was given: add %-%-shard K/N", err)
    assert.is_nil((shard.journal_path("u.%n", nil)))
  end)
end)

describe("the split", function()
  it("is FNV-1a 64 (its published test vectors)", function()
    assert.equal("cbf29ce484222325", core.fnv1a64(""))
    assert.equal("af63dc4c8601ec8c", core.fnv1a64("a"))
    assert.equal("85944171f73967e8", core.fnv1a64("foobar"))
  end)

  it("gives docs/internals.md's test vectors", function()
    for key, want in pairs({ [""] = { 1, 1, 1, 17 }, a = { 1, 2, 2, 31 },
      ["photos/2026/IMG_0001.jpg"] = { 1, 2, 4, 59 }, ["SN004512_final.csv"] = { 0, 3, 3, 39 },
      ["caf\195\169.jpg"] = { 1, 3, 4, 4 } }) do
      for i, n in ipairs({ 2, 4, 8, 64 }) do assert.equal(want[i], shard.of(key, n), key .. " in " .. n) end
    end
    assert.equal("263f12e91f65836a", core.fnv1a64("photos/2026/IMG_0001.jpg"))
  end)

  it("is the same as FNV-1a 64 then the jump hash written in Lua (5.3+)", function()
    if not math.type then
      print("  (skipped here: Lua " .. _VERSION .. " has no 64-bit integers; the 5.3/5.4 runs check it)")
      return
    end
    local ref, names = assert(load(REFERENCE)), balance.names(2000)
    for i = 1, 2000 do
      local key = names[i] .. (i % 5 == 0 and "é" or "")
      local n = i % 64 + 1
      assert.equal(ref(key, n), shard.of(key, n), key .. " in " .. n)
    end
  end)

  it("puts every file in exactly one shard for N = 1..64", function()
    local names = balance.names(500)
    for n = 1, 64 do
      for _, name in ipairs(names) do
        local owners = 0
        for k = 0, n - 1 do
          if shard.owns(name, k, n) then owners = owners + 1 end
        end
        assert.equal(1, owners, name .. " in " .. n)
      end
    end
  end)

  it("takes a key as bytes: NFC and NFD of a name are two keys", function()
    -- "é" composed (U+00E9) and decomposed (e + U+0301): Linux keeps what it was given
    assert.are_not.equal(core.fnv1a64("caf\195\169.jpg"), core.fnv1a64("cafe\204\129.jpg"))
  end)

  it("balances 100,000 names within 5 % up to N = 32, and as chance would at every N to 64", function()
    local names = balance.names(100000)
    for n = 2, 64 do
      local r = balance.row(names, n)
      if n <= 32 then
        assert.is_true(math.abs(r.low) <= 5 and math.abs(r.high) <= 5, n .. ": " .. r.low .. " " .. r.high)
      end
      -- chi-square against the even share, n-1 degrees of freedom: below
      -- the 0.1 % critical value (normal approximation, z = 3.09)
      local chi, even = 0, #names / n
      for k = 0, n - 1 do chi = chi + (r.count[k] - even) ^ 2 / even end
      local df = n - 1
      local critical = df * (1 - 2 / (9 * df) + 3.09 * math.sqrt(2 / (9 * df))) ^ 3
      assert.is_true(chi < critical, n .. ": chi-square " .. chi .. " >= " .. critical)
    end
  end)
end)
