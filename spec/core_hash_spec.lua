-- ion.upload.core's SHA-256 (put and download, sha256 = true), the download
-- that only hashes (discard = true) and core.hash_file, against the loopback
-- fixture server (spec/support/http_fixture.js) and sha256sum/md5sum.
local core = require("ion.upload.core")
local cjson = require("cjson")
local fixture = require("support.fixture")

local function tool(cmd, path)
  local h = assert(io.popen(cmd .. " < '" .. path .. "'"))
  local out = h:read("*a")
  h:close()
  return out:match("^(%x+)")
end

local function sha256(path) return tool("sha256sum", path) end
local function md5(path) return tool("md5sum", path) end

-- Files in a folder of their own, to see that nothing else appears in it.
local function listing(dir)
  local names = {}
  for _, e in ipairs(assert(core.list_dir(dir))) do names[#names + 1] = e.name end
  table.sort(names)
  return names
end

describe("ion.upload.core hashes", function()
  local srv
  setup(function() srv = fixture.start() end)
  teardown(function()
    srv.stop()
    fixture.cleanup()
  end)

  describe("put with sha256 = true", function()
    -- 7 bytes are read in libcurl's callback; 3 MB by the reader thread.
    for _, n in ipairs({ 7, 3000000 }) do
      it("gives the SHA-256 of the bytes sent beside their MD5 (" .. n .. " bytes)", function()
        local path = fixture.file(n)
        local res = assert(core.put{ url = srv.url("/echo"), path = path, sha256 = true })
        assert.equal(200, res.status)
        assert.equal(md5(path), res.md5)
        assert.equal(md5(path), cjson.decode(res.body).md5) -- what the server received
        assert.equal(sha256(path), res.sha256)
      end)
    end

    it("gives no SHA-256 unless asked", function()
      local res = assert(core.put{ url = srv.url("/echo"), path = fixture.file(3000000) })
      assert.is_nil(res.sha256)
      assert.is_string(res.md5)
    end)

    it("gives the SHA-256 with MD5 off, the reader thread hashing only that", function()
      local path = fixture.file(3000000)
      local res = assert(core.put{ url = srv.url("/echo"), path = path, md5 = false, sha256 = true })
      assert.is_nil(res.md5)
      assert.equal(sha256(path), res.sha256)
    end)

    it("restarts the SHA-256 when libcurl rewinds the PUT", function()
      local s = core.session()
      local path = fixture.file(5 * 1024 * 1024)
      local first = cjson.decode(assert(s:request{ url = srv.url("/drop-reused") }).body)
      local res = assert(s:put{ url = srv.url("/drop-reused"), path = path, sha256 = true })
      assert.not_equal(first.port, cjson.decode(res.body).port) -- it was resent
      assert.equal(md5(path), res.md5)
      assert.equal(sha256(path), res.sha256)
      s:close()
    end)
  end)

  describe("download with discard = true", function()
    it("hashes the body and writes nothing", function()
      local dir = fixture.tmpname(".d")
      assert(core.mkdir(dir))
      local ref = dir .. "/ref"
      assert(core.download{ url = srv.url("/big?n=3000000"), path = ref })
      local res = assert(core.download{ url = srv.url("/big?n=3000000"), discard = true, sha256 = true })
      assert.equal(200, res.status)
      assert.equal(3000000, res.size)
      assert.equal(md5(ref), res.md5)
      assert.equal(sha256(ref), res.sha256)
      assert.same({ "ref" }, listing(dir))
      os.remove(ref)
      os.remove(dir)
    end)

    it("keeps an error page's start and gives no digest", function()
      local res = assert(core.download{ url = srv.url("/status/404"), discard = true, sha256 = true })
      assert.equal(404, res.status)
      assert.equal("status body", res.body)
      assert.is_nil(res.md5)
      assert.is_nil(res.sha256)
    end)

    it("still checks expect_md5 and the size", function()
      local r, err = core.download{ url = srv.url("/big?n=1000"), discard = true, expect_md5 = string.rep("0", 32) }
      assert.is_nil(r)
      assert.equal("etag_mismatch", err.code)
      r, err = core.download{ url = srv.url("/big?n=1000"), discard = true, size = 999 }
      assert.is_nil(r)
      assert.equal("protocol", err.code)
    end)

    it("refuses path and discard together, and neither", function()
      assert.has_error(function() core.download{ url = srv.url("/big?n=1"), discard = true, path = "/tmp/x" } end,
        "options 'path' and 'discard' exclude each other")
      assert.has_error(function() core.download{ url = srv.url("/big?n=1") } end,
        "option 'path' is required (or discard = true)")
    end)

    it("runs in a session beside other transfers", function()
      local s = core.session()
      local a = assert(s:add("download", { url = srv.url("/big?n=70000"), discard = true }))
      local b = assert(s:add("download", { url = srv.url("/big?n=80000"), discard = true, md5 = false }))
      local got = {}
      while s:pending() > 0 do
        for _, done in ipairs(s:step(1)) do got[done.id] = done end
      end
      assert.equal(70000, got[a].res.size)
      assert.is_string(got[a].res.md5)
      assert.equal(80000, got[b].res.size)
      assert.is_nil(got[b].res.md5)
      s:close()
    end)
  end)

  describe("hash_file", function()
    it("gives the MD5, and the SHA-256 when asked, with the size and mtime of core.stat", function()
      local path = fixture.file(1234567)
      local h = assert(core.hash_file(path, { sha256 = true }))
      local st = assert(core.stat(path))
      assert.equal(md5(path), h.md5)
      assert.equal(sha256(path), h.sha256)
      assert.equal(st.size, h.size)
      assert.equal(st.mtime, h.mtime)
      assert.is_nil(assert(core.hash_file(path)).sha256)
    end)

    it("hashes an empty file", function()
      local path = fixture.file(0)
      local h = assert(core.hash_file(path, { sha256 = true }))
      assert.equal("d41d8cd98f00b204e9800998ecf8427e", h.md5)
      assert.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", h.sha256)
      assert.equal(0, h.size)
    end)

    it("fails with bad_input for a missing file or a folder", function()
      local r, err = core.hash_file("/nonexistent/file")
      assert.is_nil(r)
      assert.equal("bad_input", err.code)
      r, err = core.hash_file("/tmp")
      assert.is_nil(r)
      assert.equal("bad_input", err.code)
      assert.matches("not a file", err.message)
    end)
  end)
end)
