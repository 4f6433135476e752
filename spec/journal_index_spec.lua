-- Unit spec: the journal's compact index (core.journal_index) against the
-- plain fold of every record that journal.lua did before it, on real files.
local cjson = require("cjson")
local journal = require("ion.upload.journal.file")

local function tmpname()
  local path = os.tmpname()
  os.remove(path)
  return path
end

local function write_file(path, text)
  local fh = assert(io.open(path, "wb"))
  fh:write(text)
  fh:close()
end

-- What the state of each key must be: the old journal.lua's fold.
local function fold(states, rec)
  local s = states[rec.k] or {}
  states[rec.k] = s
  if rec.e == "put" then
    s.put = { s3Key = rec.s3Key, etag = rec.etag, md5 = rec.md5, sha256 = rec.sha256 }
  elseif rec.e == "attached" then
    s.attached, s.in_doubt, s.registering = rec.att, nil, nil
  elseif rec.e == "registering" then
    s.registering = true
  elseif rec.e == "in_doubt" then
    s.in_doubt = true
  elseif rec.e == "not_registered" then
    s.registering = nil
  elseif rec.e == "stale" then
    s.put, s.registering = nil, nil
  end
end

local KEYS = { "/data/a.jpg|10|1.500000|run_step=1", '/d/quote"and\\back|1|2.000000|part=3',
  "/d/caf\195\169 \226\130\172 \240\159\152\128|7|0.000000|run=9", "/d/pipe|in|name|5|3.250000|step=4",
  "/d/tab\tnl\nx|0|1.000000|procedure=2" }

-- A seeded sequence of records of every kind over `nkeys` keys.
local function records(seed, n, nkeys)
  math.randomseed(seed)
  local kinds = { "put", "attached", "registering", "in_doubt", "not_registered", "stale", "other" }
  local out = {}
  for i = 1, n do
    local k = math.random(nkeys)
    local rec = { v = 1, k = KEYS[k] or ("/data/f" .. k .. "|" .. k .. "|1.000000|run_step=" .. k % 7),
      e = kinds[math.random(#kinds)] }
    if rec.e == "put" then
      rec.s3Key, rec.etag, rec.md5 = "uploads/" .. i, "e" .. i, "m" .. i
      if i % 3 == 0 then rec.sha256 = string.rep("2", 64) end
    elseif rec.e == "attached" then
      rec.att = { id = 1000 + i, entityId = tostring(k), filename = "f" .. i }
    end
    out[i] = rec
  end
  return out
end

local function expect_states(j, states)
  for k, s in pairs(states) do assert.same(s, j:lookup(k), k) end
  -- what a rerun reads (index:attached): lookup's state, less an attached file's put
  for k, s in pairs(states) do
    local want = {}
    for f, v in pairs(s) do want[f] = v end
    if want.attached then want.put = nil end
    local got, state = {}, j:resume_state(k)
    for f, v in pairs(state) do got[f] = v end
    assert.same(want, got, k)
  end
  assert.is_nil(j:resume_state("/nowhere|1|1.000000|run_step=1"))
  local seen = 0
  for k, s in j:each() do
    assert.same(states[k], s, k)
    seen = seen + 1
  end
  local n = 0
  for _ in pairs(states) do n = n + 1 end
  assert.equal(n, seen)
  assert.is_nil(j:lookup("/nowhere|1|1.000000|run_step=1"))
end

describe("ion.upload.journal index", function()
  local path
  before_each(function() path = tmpname() end)
  after_each(function()
    journal._hash_bits = nil
    os.remove(path)
  end)

  for _, case in ipairs({ { "a 64-bit hash", nil }, { "a 3-bit hash (every key collides)", 3 } }) do
    it("round-trips records of every kind, written in this run and reopened, with " .. case[1], function()
      journal._hash_bits = case[2]
      local recs, states = records(7, 600, 40), {}
      local j = assert(journal.open(path))
      for i = 1, #recs, 3 do
        local batch = { recs[i], recs[i + 1], recs[i + 2] }
        assert(j:write_records(batch))
        for _, r in ipairs(batch) do fold(states, r) end
      end
      expect_states(j, states)
      -- collisions: every key still has its own slot in the index, told apart by reading keys back
      assert.equal(case[2] ~= nil, j.index:stats().collided)
      j:close()
      j = assert(journal.open(path))
      expect_states(j, states)
      assert.equal(0, j.skipped)
      j:close()
      local peek = assert(journal.peek(path))
      expect_states(peek, states)
      peek:close()
      assert.same(states, assert(journal.read(path)))
    end)
  end

  it("checks the key on the attached line it reads: a key of the same hash is not taken for it", function()
    local core = require("ion.upload.core")
    local key = "/data/a.log|1|1.000000|run_step=1"
    write_file(path, cjson.encode({ v = 1, k = key, e = "put", s3Key = "u/1", etag = "e" }) .. "\n"
      .. cjson.encode({ v = 1, k = key, e = "attached", att = { id = 7 } }) .. "\n"
      .. cjson.encode({ v = 1, k = key, e = "registering" }) .. "\n")
    local fh = assert(io.open(path, "rb"))
    local idx = core.journal_index(fh, 1) -- one bit: every key has the one hash there is
    local line, registering, in_doubt = idx:attached(key)
    assert.equal(7, cjson.decode(line).att.id)
    assert.is_true(registering)
    assert.is_false(in_doubt)
    for i = 1, 16 do -- other keys land on its slot: never its line (they are unknown: nil)
      local other = "/data/other" .. i .. ".log|1|1.000000|run_step=1"
      assert.is_nil(idx:attached(other), other)
      assert.is_nil(idx:get(other))
    end
    idx:close()
    fh:close()
    -- a key known but not attached: false (the caller asks idx:get)
    write_file(path, cjson.encode({ v = 1, k = key, e = "put", s3Key = "u/1", etag = "e" }) .. "\n")
    fh = assert(io.open(path, "rb"))
    idx = core.journal_index(fh)
    assert.is_false(idx:attached(key))
    assert.is_nil(idx:attached("/data/b.log|1|1.000000|run_step=1"))
    idx:close()
    fh:close()
  end)

  it("skips damaged lines and a truncated last one, as the old fold did", function()
    local good = {
      { v = 1, k = "k1", e = "put", s3Key = "s", etag = "e", md5 = "m" },
      { v = 1, k = "k2", e = "registering" },
      { v = 1.0, k = "k2", e = "in_doubt" },
    }
    local lines = {}
    for i, r in ipairs(good) do lines[i] = cjson.encode(r) end
    local damaged = {
      "not json at all", "[1,2,3]", '"a string"', "{", '{"v":1,"k":"k1","e":"stale"', -- cut short
      '{"v":2,"k":"k1","e":"stale"}', '{"v":1,"k":5,"e":"stale"}', '{"k":"k1","e":"stale"}',
      '{"v":1,"k":"k1","e":"stale"} trailing', '{"v":1,"k":"k1","e":"stale",}', '{"v":1,"k":"\\ud800x","e":"stale"}',
      '{"v":1,"k":"k1\\q","e":"stale"}', '{"v":01,"k":"k1","e":"stale"}', '{"v":1,"k":"k1","e":"stale","x":' ..
      string.rep("[", 100) .. string.rep("]", 100) .. "}", '{"v":1,"k":"k1","e":"stale","x":"' ..
      string.rep("x", 1100 * 1024) .. '"}', "   ", '{"v":1,"k":"k1","e":"stale","x":tru}',
    }
    local text = table.concat(lines, "\n") .. "\n" .. table.concat(damaged, "\n") .. "\n\n"
      .. '{"v":1,"k":"k3","e":"att'
    write_file(path, text)
    local j = assert(journal.open(path))
    assert.equal(#damaged + 1, j.skipped)
    assert.same({ put = { s3Key = "s", etag = "e", md5 = "m" } }, j:lookup("k1"))
    assert.same({ registering = true, in_doubt = true }, j:lookup("k2"))
    assert.is_nil(j:lookup("k3"))
    assert(j:record_attached("k3", { id = 3 }))
    j:close()
    j = assert(journal.open(path))
    assert.equal(3, j:lookup("k3").attached.id)
    j:close()
  end)

  it("starts a new line after an over-long last line cut short, whatever its length", function()
    for _, len in ipairs({ 1024 * 1024 + 10, 2 * 1024 * 1024, 3 * 1024 * 1024 + 7 }) do
      write_file(path, '{"v":1,"k":"k0","e":"in_doubt"}\n{"v":1,"k":"k1","e":"put","s3Key":"' .. string.rep("x", len))
      local j = assert(journal.open(path))
      assert.equal(1, j.skipped)
      assert(j:record_attached("k1", { id = 1 }))
      j:close()
      j = assert(journal.open(path))
      assert.equal(1, j:lookup("k1").attached.id, len)
      assert.is_true(j:lookup("k0").in_doubt)
      j:close()
    end
  end)

  it("keeps under 100 bytes per entry for 20,000 entries (the old rich tables: 736)", function()
    local lines = {}
    for i = 1, 20000 do
      local k = string.format("/data/factory/run%04d/file%07d.log|%d|1700000000.%06d|run_step=%d", i % 50, i,
        1000 + i, i, i % 50 + 1)
      lines[#lines + 1] = cjson.encode({ v = 1, k = k, e = "put", s3Key = "uploads/" .. i,
        etag = string.rep("9c1185a5", 4), md5 = string.rep("9c1185a5", 4) })
      lines[#lines + 1] = cjson.encode({ v = 1, k = k, e = "registering" })
      lines[#lines + 1] = cjson.encode({ v = 1, k = k, e = "attached", att = { id = i, entityId = "7",
        filename = "file.log", s3Key = "uploads/" .. i, etag = string.rep("9c1185a5", 4) } })
    end
    write_file(path, table.concat(lines, "\n") .. "\n")
    lines = nil -- luacheck: ignore
    collectgarbage("collect")
    local before = collectgarbage("count")
    local j = assert(journal.open(path))
    collectgarbage("collect")
    local bytes = (collectgarbage("count") - before) * 1024
    -- the index lives in C memory: counted in full (its read-back buffers too)
    bytes = bytes + (j.index and j.index:stats().bytes or 0)
    assert.is_true(bytes / 20000 < 100, string.format("%.0f bytes per entry", bytes / 20000))
    assert.equal(20000, j:lookup(string.format("/data/factory/run%04d/file%07d.log|%d|1700000000.%06d|run_step=%d",
      0, 20000, 21000, 20000, 1)).attached.id)
    j:close()
  end)

  it("accepts a mutated line only when cjson reads the same record from it (seeded) #slow", function()
    local core = require("ion.upload.core")
    local base = cjson.encode({ v = 1, k = KEYS[2] .. "\226\130\172", e = "attached",
      att = { id = 4, list = { 1, 2.5e3, true, false }, deep = { a = { b = "\\u" } } } })
    local alphabet = '{}[]",:\\/ u0123456789abcdefABCDEFtrueflsn.-+eE\t'
    math.randomseed(5)
    local accepted = 0
    for _ = 1, 3000 do
      local line = base
      for _ = 1, math.random(3) do
        local at, how = math.random(#line), math.random(3)
        local c = alphabet:sub(math.random(#alphabet)):sub(1, 1)
        if how == 1 then
          line = line:sub(1, at - 1) .. c .. line:sub(at + 1)
        elseif how == 2 then
          line = line:sub(1, at - 1) .. line:sub(at + 1)
        else
          line = line:sub(1, at) .. c .. line:sub(at + 1)
        end
      end
      write_file(path, line .. "\n")
      local fh = assert(io.open(path, "rb"))
      local index = core.journal_index(fh)
      fh:close()
      if index:stats().records == 1 then
        accepted = accepted + 1
        local rec = cjson.decode(line)
        assert.equal(1, rec.v, line)
        local _, first = index:next(0)
        assert.equal("string", type(rec.k), line)
        assert.is_not_nil(index:get(rec.k), line) -- the key as cjson decodes it
        assert.equal(0, first)
      end
      index:close()
    end
    assert.is_true(accepted > 100, accepted .. " accepted") -- the mutations did not all break the line
  end)

  it("tells when a path no longer names the file it opened (core.same_file)", function()
    local core = require("ion.upload.core")
    write_file(path, "")
    local fh = assert(io.open(path, "rb"))
    assert.is_true(core.same_file(fh, path))
    write_file(path .. ".new", "")
    assert(os.rename(path .. ".new", path))
    assert.is_false(core.same_file(fh, path))
    fh:close()
    assert.is_true(core.fsync_dir((path:match("^(.*)/") or ".")))
    assert.is_nil(core.fsync_dir(path .. ".missing"))
  end)
end)
