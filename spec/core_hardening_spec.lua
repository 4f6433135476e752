-- ion.upload.core refusing what it must not do (issue 11, items 10 and 12):
-- downloads that would lose or overwrite the wrong file, option values that
-- C cannot cast, a PUT over S3's 5 GiB. Against the loopback fixture
-- (spec/support/http_fixture.js).
local core = require("ion.upload.core")
local fixture = require("support.fixture")
local cjson = require("cjson")
local read = require("support.files").read

local srv

local function count()
  local res = assert(core.request{ url = srv.url("/count") })
  return cjson.decode(res.body).requests
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function is_symlink(path)
  local ok = os.execute("test -L '" .. path .. "'")
  return ok == true or ok == 0
end

-- Open descriptors of this process that point at `target` (other threads,
-- such as an earlier PUT's reader, may close their own at any moment, so a
-- total would be flaky).
local function open_fds(target)
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("*l"):match("^(%d+)")
  f:close()
  local n = 0
  local p = io.popen("ls -l /proc/" .. pid .. "/fd")
  for line in p:lines() do
    if line:sub(-#target - 4) == " -> " .. target then n = n + 1 end
  end
  p:close()
  return n
end

local MD5_OF_100_A -- set in setup

describe("ion.upload.core hardening", function()
  setup(function()
    srv = fixture.start()
    -- the MD5 of what /big?n=100 sends (100 bytes of "a")
    local p = fixture.tmpname(".a")
    write(p, string.rep("a", 100))
    MD5_OF_100_A = fixture.md5(p)
  end)
  teardown(function()
    srv.stop()
    fixture.cleanup()
  end)

  describe("download", function()
    it("checks expect_md5 before the rename: a mismatch keeps the earlier file", function()
      local path = fixture.tmpname(".dl")
      write(path, "the earlier file")
      local r, err = core.download{ url = srv.url("/big?n=100"), path = path, expect_md5 = string.rep("0", 32) }
      assert.is_nil(r)
      assert.equal("etag_mismatch", err.code)
      assert.matches(MD5_OF_100_A, err.message, 1, true)
      assert.equal("the earlier file", read(path))
      assert.is_nil(read(path .. ".part"))
      local res = assert(core.download{ url = srv.url("/big?n=100"), path = path, expect_md5 = MD5_OF_100_A:upper() })
      assert.equal(MD5_OF_100_A, res.md5)
      assert.equal(string.rep("a", 100), read(path))
    end)

    it("refuses an expect_md5 that is not 32 hex digits, before any traffic", function()
      local before = count()
      local r, err = core.download{ url = srv.url("/big?n=100"), path = fixture.tmpname(".dl"), expect_md5 = "abc" }
      assert.is_nil(r)
      assert.equal("bad_input", err.code)
      assert.equal(before, count())
    end)

    it("never writes through a symbolic link at path .. '.part'", function()
      local path = fixture.tmpname(".dl")
      local victim = fixture.tmpname(".victim")
      write(victim, "not yours")
      assert(os.execute("ln -s '" .. victim .. "' '" .. path .. ".part'"))
      local res = assert(core.download{ url = srv.url("/big?n=100"), path = path })
      assert.equal(100, res.size)
      assert.equal("not yours", read(victim))
      assert.is_false(is_symlink(path))
      assert.equal(string.rep("a", 100), read(path))
    end)

    it("caps a 2xx body at the caller's size: more or fewer bytes are protocol", function()
      local path = fixture.tmpname(".dl")
      write(path, "the earlier file")
      local r, err = core.download{ url = srv.url("/chunked?n=5000"), path = path, size = 1000 }
      assert.is_nil(r)
      assert.equal("protocol", err.code)
      assert.equal("the earlier file", read(path))
      assert.is_nil(read(path .. ".part"))
      r, err = core.download{ url = srv.url("/chunked?n=500"), path = path, size = 1000 }
      assert.is_nil(r)
      assert.equal("protocol", err.code)
      assert.equal("the earlier file", read(path))
      local res = assert(core.download{ url = srv.url("/chunked?n=1000"), path = path, size = 1000 })
      assert.equal(1000, res.size)
      assert.equal(1000, #read(path))
    end)

    it("refuses a size that is not a whole number of bytes", function()
      for _, bad in ipairs({ -1, 0.5, 0 / 0, math.huge, 2 ^ 63 }) do
        local r, err = core.download{ url = srv.url("/big?n=1"), path = fixture.tmpname(".dl"), size = bad }
        assert.is_nil(r, tostring(bad))
        assert.equal("bad_input", err.code)
      end
    end)

    it("takes 204 and 206 for protocol, leaving the earlier file", function()
      for _, status in ipairs({ 204, 206 }) do
        local path = fixture.tmpname(".dl")
        write(path, "the earlier file")
        local r, err = core.download{ url = srv.url("/status/" .. status), path = path }
        assert.is_nil(r, tostring(status))
        assert.equal("protocol", err.code)
        assert.equal(status, err.status)
        assert.equal("the earlier file", read(path))
        assert.is_nil(read(path .. ".part"))
      end
    end)
  end)

  describe("refused transfers", function()
    it("close what they opened at once, not at the next garbage collection", function()
      local s = core.session()
      collectgarbage("collect")
      collectgarbage("stop")
      local before = open_fds("/tmp")
      for _ = 1, 20 do
        local id, err = s:add("put", { url = srv.url("/echo"), path = "/tmp" }) -- a directory, opened then refused
        assert.is_nil(id)
        assert.equal("bad_input", err.code)
      end
      local after = open_fds("/tmp")
      collectgarbage("restart")
      s:close()
      assert.equal(before, after)
    end)
  end)

  describe("numbers C cannot cast", function()
    local nan, inf = 0 / 0, math.huge

    it("are bad_input as request, put and download options", function()
      local path = fixture.file(10)
      local cases = {
        { "timeout", nan }, { "timeout", inf }, { "timeout", 1e300 },
        { "connect_timeout", nan }, { "connect_timeout", inf }, { "connect_timeout", -inf },
        { "stall_timeout", nan }, { "stall_timeout", inf },
        { "max_response", nan }, { "max_response", inf }, { "max_response", 1e300 },
      }
      local before = count()
      for _, c in ipairs(cases) do
        local opt, v = c[1], c[2]
        for _, kind in ipairs({ "request", "put", "download" }) do
          local req = { url = srv.url("/echo"), path = kind == "download" and fixture.tmpname(".dl") or path }
          if kind == "request" then req.path = nil end
          req[opt] = v
          local r, err = core[kind](req)
          assert.is_nil(r, kind .. " " .. opt .. "=" .. tostring(v))
          assert.equal("bad_input", err.code)
          assert.matches(opt, err.message, 1, true)
        end
      end
      assert.equal(before, count())
    end)

    it("are bad_input as session limits", function()
      for _, v in ipairs({ nan, inf, -1, 1e300 }) do
        local s, err = core.session{ max_host_connections = v }
        assert.is_nil(s, tostring(v))
        assert.equal("bad_input", err.code)
        s, err = core.session{ max_total_connections = v }
        assert.is_nil(s, tostring(v))
        assert.equal("bad_input", err.code)
      end
    end)

    it("raise as step(t) and sleep(t); a huge step waits for a completion", function()
      local s = core.session()
      assert.has_error(function() s:step(nan) end)
      assert.has_error(function() core.sleep(nan) end)
      core.sleep(-inf)
      s:add("request", { url = srv.url("/echo") })
      local done = s:step(inf)
      assert.equal(1, #done)
      assert.equal(200, done[1].res.status)
      s:close()
    end)
  end)

  describe("put", function()
    it("refuses a file over 5 GiB before any traffic", function()
      local path = fixture.tmpname(".sparse")
      local f = assert(io.open(path, "wb"))
      assert(f:seek("set", 5 * 1024 * 1024 * 1024))
      f:write("x") -- 5 GiB + 1 byte, sparse: no disk used
      f:close()
      local before = count()
      local r, err = core.put{ url = srv.url("/drop?after=0"), path = path }
      assert.is_nil(r)
      assert.equal("bad_input", err.code)
      assert.matches("5 GiB", err.message, 1, true)
      assert.equal(before, count())
    end)
  end)
end)
