-- ion.upload.core against a loopback fixture server (spec/support/http_fixture.js).
local core = require("ion.upload.core")
local fixture = require("support.fixture")
local cjson = require("cjson")
local interpreter = require("support.interpreter")
local as_nobody = require("support.as_nobody")

local srv

local function count()
  local res = assert(core.request{ url = srv.url("/count") })
  return cjson.decode(res.body).requests
end

local function header_values(echo, name)
  local out = {}
  for _, pair in ipairs(echo.headers) do
    if pair[1] == name then out[#out + 1] = pair[2] end
  end
  return out
end

describe("ion.upload.core", function()
  setup(function() srv = fixture.start() end)
  teardown(function()
    srv.stop()
    fixture.cleanup()
  end)

  it("reports its version and libcurl's", function()
    assert.equal("0.1.0", core.version)
    assert.matches("libcurl/", core.curl_version)
  end)

  describe("request", function()
    it("GETs, with lower-cased response headers and the body", function()
      local res = assert(core.request{ url = srv.url("/echo") })
      assert.equal(200, res.status)
      assert.equal("application/json", res.headers["content-type"])
      assert.equal("a, b", res.headers["x-multi"])
      assert.equal("GET", cjson.decode(res.body).method)
    end)

    it("POSTs a body with its headers", function()
      local body = string.rep("{\"q\":1}", 1000)
      local res = assert(core.request{
        url = srv.url("/echo"), body = body,
        headers = { ["Content-Type"] = "application/json", Authorization = "Bearer t" },
      })
      local echo = cjson.decode(res.body)
      assert.equal("POST", echo.method)
      assert.equal(#body, echo.length)
      assert.same({ "application/json" }, header_values(echo, "content-type"))
      assert.same({ "Bearer t" }, header_values(echo, "authorization"))
      assert.same({}, header_values(echo, "expect"))
    end)

    it("sends other methods", function()
      local res = assert(core.request{ url = srv.url("/echo"), method = "DELETE" })
      assert.equal("DELETE", cjson.decode(res.body).method)
    end)

    it("returns non-2xx statuses as results", function()
      local res = assert(core.request{ url = srv.url("/status/503"), body = "x" })
      assert.equal(503, res.status)
      assert.equal("status body", res.body)
    end)

    it("refuses other schemes and header injection as bad_input", function()
      local r, err = core.request{ url = "file:///etc/passwd" }
      assert.is_nil(r)
      assert.equal("bad_input", err.code)
      r, err = core.request{ url = srv.url("/echo"), headers = { X = "a\r\nEvil: 1" } }
      assert.is_nil(r)
      assert.equal("bad_input", err.code)
    end)

    it("raises on misuse", function()
      assert.has_error(function() core.request{ url = srv.url("/"), tiemout = 1 } end,
        "unknown option 'tiemout' for request")
      assert.has_error(function() core.request{ url = 1 } end)
      assert.has_error(function() core.request("http://x") end)
    end)

    it("gives network with libcurl's message when nothing listens", function()
      local r, err = core.request{ url = "http://127.0.0.1:1/x?secret=1" }
      assert.is_nil(r)
      assert.equal("network", err.code)
      assert.equal(7, err.curl_code)
      assert.matches("Couldn't connect", err.message)
      assert.not_matches("secret", err.message)
      assert.matches("/x?…", err.message, 1, true)
    end)

    it("times out with timeout", function()
      local t0 = core.now()
      local r, err = core.request{ url = srv.url("/hang?sig=s3cr3t"), timeout = 0.3 }
      assert.is_nil(r)
      assert.equal("timeout", err.code)
      assert.is_true(core.now() - t0 < 5)
      assert.not_matches("s3cr3t", err.message)
    end)

    it("caps the buffered body with protocol", function()
      local r, err = core.request{ url = srv.url("/big?n=100000"), max_response = 1000 }
      assert.is_nil(r)
      assert.equal("protocol", err.code)
      local res = assert(core.request{ url = srv.url("/big?n=3000000") })
      assert.equal(3000000, #res.body)
    end)

    -- /drop-reused reads the second request of a kept-alive connection, then
    -- closes it unanswered: what a server that processed a POST and died
    -- looks like. libcurl takes it for a connection that died while idle.
    it("sends a no_resend POST once: a dead reused connection is a failure", function()
      local s = core.session()
      assert(s:request{ url = srv.url("/drop-reused") })
      local before = count()
      local res, err = s:request{ url = srv.url("/drop-reused"), body = '{"m":1}', no_resend = true }
      assert.is_nil(res)
      assert.equal("network", err.code)
      assert.equal(65, err.curl_code) -- CURLE_SEND_FAIL_REWIND
      assert.matches("may have processed it", err.message)
      assert.equal(1, count() - before) -- one request reached the server, not two
      s:close()
    end)

    it("without no_resend, libcurl silently sends the POST again", function()
      local s = core.session()
      assert(s:request{ url = srv.url("/drop-reused") })
      local before = count()
      assert(s:request{ url = srv.url("/drop-reused"), body = '{"m":1}' })
      assert.equal(2, count() - before)
      s:close()
    end)

    it("sends a no_resend POST body exactly, with Content-Length", function()
      local body = string.rep("0123456789", 100000)
      local res = assert(core.request{ url = srv.url("/echo"), body = body, no_resend = true })
      local echo = cjson.decode(res.body)
      assert.equal("POST", echo.method)
      assert.equal(#body, echo.length)
      assert.same({ tostring(#body) }, header_values(echo, "content-length"))
      assert.same({}, header_values(echo, "transfer-encoding"))
    end)
  end)

  describe("put", function()
    local function put_and_check(n)
      local path = fixture.file(n)
      local res = assert(core.put{ url = srv.url("/echo"), path = path,
        content_type = "application/octet-stream" })
      local md5 = fixture.md5(path)
      assert.equal(200, res.status)
      assert.equal(md5, res.etag)
      assert.equal(md5, res.md5)
      assert.equal(n, res.size)
      local echo = cjson.decode(res.body)
      assert.equal(n, echo.length)
      assert.same({ tostring(n) }, header_values(echo, "content-length"))
      os.remove(path)
    end

    it("sends 0 bytes with the right ETag and MD5", function() put_and_check(0) end)
    it("sends 1 byte with the right ETag and MD5", function() put_and_check(1) end)
    it("sends 5 MiB with the right ETag and MD5", function() put_and_check(5 * 1024 * 1024) end)
    it("sends 200 MiB with the right ETag and MD5 #slow", function()
      put_and_check(200 * 1024 * 1024)
    end)

    it("normalises quoted, unquoted and weak ETags; nil when missing", function()
      local path = fixture.file(1000)
      local md5 = fixture.md5(path)
      for _, kind in ipairs{ "quoted", "unquoted", "weak" } do
        local res = assert(core.put{ url = srv.url("/etag/" .. kind), path = path })
        assert.equal(md5, res.etag, kind)
      end
      local res = assert(core.put{ url = srv.url("/etag/missing"), path = path })
      assert.is_nil(res.etag)
      assert.equal(md5, res.md5)
    end)

    it("sends exactly the Content-Type given, no Authorization, never chunked", function()
      local path = fixture.file(70000)
      local ct = "image/jpeg; charset=weird"
      local res = assert(core.put{ url = srv.url("/echo?X-Amz-Signature=abc"), path = path,
        content_type = ct, headers = { ["x-amz-meta-a"] = "1" } })
      local echo = cjson.decode(res.body)
      assert.equal("PUT", echo.method)
      assert.same({ ct }, header_values(echo, "content-type"))
      assert.same({}, header_values(echo, "authorization"))
      assert.same({}, header_values(echo, "transfer-encoding"))
      assert.same({}, header_values(echo, "expect"))
      assert.same({ "70000" }, header_values(echo, "content-length"))
      assert.same({ "1" }, header_values(echo, "x-amz-meta-a"))
    end)

    it("refuses Authorization and Content-Type headers on a PUT", function()
      local path = fixture.file(10)
      for _, name in ipairs{ "Authorization", "content-type", "Transfer-Encoding" } do
        local r, err = core.put{ url = srv.url("/echo"), path = path, headers = { [name] = "x" } }
        assert.is_nil(r)
        assert.equal("bad_input", err.code)
      end
    end)

    it("skips the MD5 when md5 = false", function()
      local path = fixture.file(3 * 1024 * 1024)
      local res = assert(core.put{ url = srv.url("/echo"), path = path, md5 = false })
      assert.is_nil(res.md5)
      assert.equal(fixture.md5(path), res.etag)
    end)

    describe("refuses before any traffic", function()
      local function refused(path, pattern)
        local before = count()
        local r, err = core.put{ url = srv.url("/echo"), path = path }
        assert.is_nil(r)
        assert.equal("bad_input", err.code)
        assert.matches(pattern, err.message)
        assert.equal(before, count())
      end

      it("a missing file", function()
        refused("/nonexistent/file.bin", "No such file")
      end)

      it("a directory", function()
        refused("/tmp", "directory")
      end)

      it("a FIFO and a device (not regular files)", function()
        local fifo = fixture.tmpname(".fifo")
        assert(os.execute("mkfifo " .. fifo))
        refused(fifo, "FIFO")
        refused("/dev/null", "device")
      end)

      it("an unreadable file", function()
        local path = fixture.file(10)
        assert(os.execute("chmod 000 " .. path))
        local f = io.open(path, "rb")
        if not f then
          return refused(path, "Permission denied")
        end
        f:close()
        -- root reads anything: try as nobody in a child process instead, with
        -- its own copy of the core (nobody may not enter a mode-700 checkout)
        local stage, why = as_nobody.stage()
        if not stage then
          pending("running as root and cannot run a child as nobody: " .. why)
          return
        end
        finally(function() as_nobody.remove(stage) end)
        local script = stage .. "/refuse.lua"
        f = assert(io.open(script, "w"))
        f:write(string.format([[
          local core = require("ion.upload.core")
          local r, err = core.put{ url = %q, path = %q }
          io.write(tostring(r), " ", err.code, " ", err.message)
        ]], srv.url("/echo"), path))
        f:close()
        os.execute("chmod 644 " .. script)
        local before = count()
        local h = assert(io.popen(string.format("cd / && %s %s %s %s 2>&1",
          as_nobody.env(stage), as_nobody.prefix, interpreter, script)))
        local out = h:read("*a")
        h:close()
        assert.matches("^nil bad_input .*Permission denied", out)
        assert.equal(before, count())
      end)
    end)

    it("reports progress, the last call with sent == total", function()
      local path = fixture.file(4 * 1024 * 1024)
      local calls = {}
      local res = assert(core.put{ url = srv.url("/echo"), path = path,
        on_progress = function(sent, total) calls[#calls + 1] = { sent, total } end })
      assert.equal(200, res.status)
      assert.is_true(#calls >= 1)
      local last = calls[#calls]
      assert.equal(4 * 1024 * 1024, last[1])
      assert.equal(4 * 1024 * 1024, last[2])
      for i = 2, #calls do assert.is_true(calls[i][1] >= calls[i - 1][1]) end
      -- never "0 of 0" for a body that has bytes: a display read it as done
      for _, c in ipairs(calls) do assert.equal(4 * 1024 * 1024, c[2]) end
    end)

    it("reports progress for an empty file", function()
      local path = fixture.file(0)
      local calls = {}
      assert(core.put{ url = srv.url("/echo"), path = path,
        on_progress = function(sent, total) calls[#calls + 1] = { sent, total } end })
      assert.same({ 0, 0 }, calls[#calls])
    end)

    it("gives aborted when on_progress raises, and keeps working", function()
      local path = fixture.file(2 * 1024 * 1024)
      local r, err = core.put{ url = srv.url("/echo"), path = path,
        on_progress = function() error("stop right there") end }
      assert.is_nil(r)
      assert.equal("aborted", err.code)
      assert.matches("stop right there", err.message)
      r, err = core.put{ url = srv.url("/echo"), path = path,
        on_progress = function() error({}) end }
      assert.is_nil(r)
      assert.equal("aborted", err.code)
      r, err = core.put{ url = srv.url("/echo"), path = path,
        on_progress = function() return false end }
      assert.is_nil(r)
      assert.equal("aborted", err.code)
      collectgarbage()
      local res = assert(core.put{ url = srv.url("/echo"), path = path })
      assert.equal(fixture.md5(path), res.etag)
    end)

    it("gives timeout when the server stops reading (stall_timeout)", function()
      local path = fixture.file(64 * 1024 * 1024)
      local t0 = core.now()
      local r, err = core.put{ url = srv.url("/stall?after=1000000"), path = path,
        stall_timeout = 0.5 }
      local dt = core.now() - t0
      assert.is_nil(r)
      assert.equal("timeout", err.code)
      assert.matches("stall", err.message)
      assert.is_true(dt >= 0.5 and dt < 10, "took " .. dt)
    end)

    it("gives network when the server drops the connection mid-body", function()
      local path = fixture.file(32 * 1024 * 1024)
      local r, err = core.put{ url = srv.url("/drop?after=100000"), path = path }
      assert.is_nil(r)
      assert.equal("network", err.code)
      assert.is_number(err.curl_code)
    end)

    it("returns storage's refusal with its XML body", function()
      local path = fixture.file(1000)
      local res = assert(core.put{ url = srv.url("/s3-403"), path = path })
      assert.equal(403, res.status)
      assert.matches("<Code>SignatureDoesNotMatch</Code>", res.body)
    end)

    for _, md5 in ipairs{ true, false } do
      it("fails when the file grows or shrinks while sent (md5 " .. tostring(md5) .. ")", function()
        for _, change in ipairs{ "grow", "shrink" } do
          local path = fixture.file(24 * 1024 * 1024)
          local done = false
          local r, err = core.put{ url = srv.url("/echo"), path = path, md5 = md5,
            on_progress = function()
              if done then return end
              done = true
              if change == "grow" then
                local f = assert(io.open(path, "ab")); f:write("more"); f:close()
              else
                assert(os.execute("truncate -s 1000 " .. path))
              end
            end }
          assert.is_nil(r, change)
          assert.equal("bad_input", err.code, change)
          assert.matches("file changed while uploading", err.message)
        end
      end)
    end
  end)

  describe("download", function()
    it("streams to disk through a .part file", function()
      local path = fixture.tmpname(".dl")
      local res = assert(core.download{ url = srv.url("/big?n=3000000"), path = path })
      assert.equal(200, res.status)
      assert.equal(3000000, res.size)
      assert.equal(fixture.md5(path), res.md5)
      assert.is_nil(io.open(path .. ".part"))
    end)

    it("leaves nothing on disk for a non-2xx answer", function()
      local path = fixture.tmpname(".dl")
      local res = assert(core.download{ url = srv.url("/status/404"), path = path })
      assert.equal(404, res.status)
      assert.equal("status body", res.body)
      assert.is_nil(io.open(path))
      assert.is_nil(io.open(path .. ".part"))
    end)

    it("fails with bad_input where it cannot write", function()
      local r, err = core.download{ url = srv.url("/big?n=10"), path = "/nonexistent/x" }
      assert.is_nil(r)
      assert.equal("bad_input", err.code)
    end)

    it("gives timeout when the body stalls", function()
      local path = fixture.tmpname(".dl")
      local r, err = core.download{ url = srv.url("/stall-body"), path = path, stall_timeout = 0.3 }
      assert.is_nil(r)
      assert.equal("timeout", err.code)
      assert.is_nil(io.open(path .. ".part"))
    end)
  end)

  describe("session", function()
    it("runs transfers concurrently and returns each result by id", function()
      local s = core.session{ max_host_connections = 4 }
      local paths, ids = {}, {}
      for i = 1, 6 do
        paths[i] = fixture.file(100000 * i)
        ids[s:add("put", { url = srv.url("/echo"), path = paths[i] })] = i
      end
      local rid = s:add("request", { url = srv.url("/echo") })
      local seen, n = {}, 0
      while s:pending() > 0 do
        for _, d in ipairs(s:step(1)) do
          n = n + 1
          seen[d.id] = d
        end
      end
      assert.equal(7, n)
      for id, i in pairs(ids) do
        assert.is_nil(seen[id].err)
        assert.equal(fixture.md5(paths[i]), seen[id].res.etag)
      end
      assert.equal(200, seen[rid].res.status)
      s:close()
    end)

    it("reuses connections to the same host", function()
      local s = core.session()
      local a = cjson.decode(assert(s:request{ url = srv.url("/echo") }).body)
      local b = cjson.decode(assert(s:request{ url = srv.url("/echo") }).body)
      assert.equal(a.port, b.port)
      s:close()
    end)

    it("keeps other completions for step while a blocking call runs", function()
      local s = core.session()
      local id = s:add("request", { url = srv.url("/echo") })
      local path = fixture.file(2000000)
      assert(s:put{ url = srv.url("/echo"), path = path })
      local done = {}
      while s:pending() > 0 do
        for _, d in ipairs(s:step(1)) do done[#done + 1] = d end
      end
      assert.equal(1, #done)
      assert.equal(id, done[1].id)
      s:close()
    end)

    it("cancels a transfer with aborted", function()
      local s = core.session()
      local id = s:add("request", { url = srv.url("/hang") })
      assert.same({}, s:step(0.05))
      assert.is_true(s:cancel(id))
      assert.is_false(s:cancel(id))
      local done = s:step(0)
      assert.equal(1, #done)
      assert.equal("aborted", done[1].err.code)
      assert.equal(0, s:pending())
      s:close()
    end)

    it("step(0) returns at once and step with nothing pending is empty", function()
      local s = core.session()
      assert.same({}, s:step(0))
      local t0 = core.now()
      s:add("request", { url = srv.url("/hang") })
      assert.same({}, s:step(0))
      assert.same({}, s:step(0.2))
      assert.is_true(core.now() - t0 < 2)
      s:close()
    end)

    it("closes with transfers in flight, by close, <close> (5.4) and gc", function()
      local path = fixture.file(5000000)
      -- <close> is 5.4 syntax: compiled only there, so the file loads on 5.1-5.3
      local scoped = _VERSION >= "Lua 5.4" and assert(load([[
        local core, url, hang, path = ...
        local s <close> = core.session()
        s:add("put", { url = url, path = path, on_progress = function() end })
        s:add("request", { url = hang, body = "x" })
        s:step(0.05)
      ]]))
      if scoped then
        scoped(core, srv.url("/stall"), srv.url("/hang"), path)
      else
        local s = core.session()
        s:add("put", { url = srv.url("/stall"), path = path, on_progress = function() end })
        s:add("request", { url = srv.url("/hang"), body = "x" })
        s:step(0.05)
        s:close()
      end
      local s = core.session()
      s:add("put", { url = srv.url("/stall"), path = path })
      s:step(0.05)
      s = nil -- luacheck: ignore
      collectgarbage()
      collectgarbage()
      local s2 = core.session()
      s2:close()
      s2:close()
      assert.has_error(function() s2:step(0) end, "session is closed")
      assert.equal(0, s2:pending())
    end)

    it("refuses to be driven from its own callbacks", function()
      local s = core.session()
      local path = fixture.file(1000)
      local r, err = s:put{ url = srv.url("/echo"), path = path,
        on_progress = function() s:step(0) end }
      assert.is_nil(r)
      assert.equal("aborted", err.code)
      assert.matches("busy", err.message)
      s:close()
    end)

    it("rewinds a PUT that libcurl resends on a fresh connection, MD5 restarted", function()
      local s = core.session()
      local path = fixture.file(5 * 1024 * 1024)
      local first = cjson.decode(assert(s:request{ url = srv.url("/drop-reused") }).body)
      local res = assert(s:put{ url = srv.url("/drop-reused"), path = path })
      local md5 = fixture.md5(path)
      assert.equal(200, res.status)
      assert.equal(md5, res.etag)
      assert.equal(md5, res.md5)
      assert.equal(5 * 1024 * 1024, res.size)
      assert.not_equal(first.port, cjson.decode(res.body).port)
      s:close()
    end)

    it("returns nil, err from add for a bad file, before any traffic", function()
      local s = core.session()
      local id, err = s:add("put", { url = srv.url("/echo"), path = "/nonexistent" })
      assert.is_nil(id)
      assert.equal("bad_input", err.code)
      assert.equal(0, s:pending())
      s:close()
    end)

    it("queues transfers beyond max_total_connections", function()
      local s = core.session{ max_host_connections = 1, max_total_connections = 1 }
      for _ = 1, 5 do s:add("request", { url = srv.url("/echo") }) end
      local ports, n = {}, 0
      while s:pending() > 0 do
        for _, d in ipairs(s:step(1)) do
          n = n + 1
          ports[cjson.decode(d.res.body).port] = true
        end
      end
      assert.equal(5, n)
      local distinct = 0
      for _ in pairs(ports) do distinct = distinct + 1 end
      assert.equal(1, distinct) -- one connection, reused in turn
      s:close()
    end)

    it("raises on unknown kinds and options", function()
      local s = core.session()
      assert.has_error(function() s:add("post", {}) end)
      assert.has_error(function() core.session{ max_connections = 1 } end)
      s:close()
    end)
  end)

  describe("download extras", function()
    it("reports progress and can skip the MD5", function()
      local path = fixture.tmpname(".dl")
      local last
      local res = assert(core.download{ url = srv.url("/big?n=2000000"), path = path, md5 = false,
        on_progress = function(got, total) last = { got, total } end })
      assert.is_nil(res.md5)
      assert.same({ 2000000, 2000000 }, last)
    end)

    it("leaves nothing on disk when on_progress raises", function()
      local path = fixture.tmpname(".dl")
      local r, err = core.download{ url = srv.url("/big?n=2000000"), path = path,
        on_progress = function() error("no thanks") end }
      assert.is_nil(r)
      assert.equal("aborted", err.code)
      assert.is_nil(io.open(path))
      assert.is_nil(io.open(path .. ".part"))
    end)
  end)

  it("stops a blocking call and step on SIGINT (in a child process)", function()
    local script = string.format([[
      local core = require("ion.upload.core")
      assert(core.catch_interrupt())
      local pid = io.open("/proc/self/stat"):read("*n")
      io.popen("sleep 0.3; kill -INT " .. pid)
      local t0 = core.now()
      local r, err = core.request{ url = %q }
      local t1 = core.now()
      local s = core.session()
      s:add("request", { url = %q })
      local done = s:step(10)
      io.write(string.format("%%s %%s %%d %%.1f", err.code, err.message:match("interrupted") or "-",
        #done, core.now() - t0))
      s:close()
    ]], srv.url("/hang"), srv.url("/hang"))
    local file = fixture.tmpname(".lua")
    local f = assert(io.open(file, "w"))
    f:write(script)
    f:close()
    local h = assert(io.popen(string.format("LUA_CPATH='%s' %s %s 2>&1", package.cpath, interpreter, file)))
    local out = h:read("*a")
    h:close()
    local code, why, n, dt = out:match("^(%S+) (%S+) (%d+) ([%d.]+)$")
    assert.equal("aborted", code, out)
    assert.equal("interrupted", why)
    assert.equal("0", n)
    assert.is_true(tonumber(dt) < 5, out)
  end)

  describe("system helpers", function()
    it("stat", function()
      local path = fixture.file(123)
      local st = assert(core.stat(path))
      assert.equal("file", st.type)
      assert.equal(123, st.size)
      assert.is_true(st.readable)
      assert.is_number(st.mtime)
      assert.equal("directory", core.stat("/tmp").type)
      local r, err = core.stat("/nonexistent")
      assert.is_nil(r)
      assert.equal("bad_input", err.code)
      local link = fixture.tmpname(".lnk")
      assert(os.execute("ln -s /nonexistent/target " .. link))
      assert.equal("link", core.stat(link).type)
    end)

    it("realpath", function()
      assert.equal("/tmp", core.realpath("/tmp/../tmp/."))
      assert.is_nil(core.realpath("/nonexistent/x"))
    end)

    -- core.realpath keeps the last folder's realpath (csrc/realpath.c): each
    -- answer must still be realpath(3)'s when the folder path is a link that
    -- moves, when the file is a link, and for ".", ".." and "/".
    it("realpath through its folder cache answers as realpath(3)", function()
      local root = fixture.tmpname(".rp")
      assert(os.execute("mkdir " .. root))
      root = core.realpath(root)
      local sh = "mkdir -p %s/a %s/b && touch %s/a/f %s/b/f %s/a/g"
      assert(os.execute(string.format(sh, root, root, root, root, root)))
      assert(os.execute(string.format("ln -s a %s/cur && ln -s ../b/f %s/a/lnk", root, root)))
      assert.equal(root .. "/a/f", core.realpath(root .. "/cur/f"))
      assert.equal(root .. "/a/g", core.realpath(root .. "/cur/g")) -- from the cache
      assert.equal(root .. "/b/f", core.realpath(root .. "/a/lnk")) -- the file is a link
      assert(os.execute(string.format("rm %s/cur && ln -s b %s/cur", root, root)))
      assert.equal(root .. "/b/f", core.realpath(root .. "/cur/f")) -- the folder link moved
      assert.is_nil(core.realpath(root .. "/cur/g"))
      assert.equal(root .. "/a", core.realpath(root .. "/a/."))
      assert.equal(root, core.realpath(root .. "/a/.."))
      assert.equal("/tmp", core.realpath("/tmp"))
      assert.equal(root .. "/a/f", core.realpath(root .. "//a/f"))
      assert.equal(root .. "/a/f", core.realpath(root .. "/a/../a/f"))
      os.execute("rm -rf " .. root)
    end)

    -- core.stat(path, true): the engine's one call a file (stat and realpath
    -- from one lstat, no access): the same answers as the calls apart.
    it("stat with its realpath answers as stat and realpath apart", function()
      local root = core.realpath(fixture.tmpname(".sr"):match("^(.*)/") or "/tmp") .. "/sr" .. os.time()
      local sh = "mkdir -p %s/a %s/b && echo x >%s/a/f && echo yy >%s/b/f && ln -s a %s/cur && ln -s ../b/f %s/a/lnk"
        .. " && ln -s nowhere %s/a/dangling"
      assert(os.execute(sh:format(root, root, root, root, root, root, root)))
      finally(function() os.execute("rm -rf " .. root) end)
      for _, p in ipairs({ "/cur/f", "/a/f", "/a/lnk", "/a/dangling", "/a", "/cur/f" }) do
        local both, alone = core.stat(root .. p, true), core.stat(root .. p)
        assert.is_nil(both.readable, p)
        assert.equal(alone.readable, core.readable(root .. p), p)
        alone.readable = nil
        assert.equal(alone.type == "file" and core.realpath(root .. p) or nil, both.real, p)
        both.real = nil
        assert.same(alone, both, p)
      end
      assert(os.execute(("rm %s/cur && ln -s b %s/cur"):format(root, root)))
      assert.equal(root .. "/b/f", core.stat(root .. "/cur/f", true).real) -- the folder link moved
      assert.equal(3, core.stat(root .. "/cur/f", true).size)
      assert.is_nil(core.stat(root .. "/nope", true))
      assert.is_false(core.readable(root .. "/nope"))
    end)

    it("fsync and lock on Lua file handles", function()
      local path = fixture.tmpname(".lock")
      local f1 = assert(io.open(path, "w"))
      local f2 = assert(io.open(path, "r"))
      f1:write("x")
      assert.is_true(core.fsync(f1))
      assert.is_true(core.lock(f1, "exclusive"))
      local r, err = core.lock(f2, "exclusive")
      assert.is_nil(r)
      assert.equal("busy", err.code)
      assert.is_true(core.lock(f1, "unlock"))
      assert.is_true(core.lock(f2, "shared"))
      f1:close()
      f2:close()
      assert.has_error(function() core.fsync(f1) end)
      assert.has_error(function() core.fsync("x") end)
    end)

    it("now, sleep, isatty, terminal_width", function()
      local t0 = core.now()
      core.sleep(0.05)
      local dt = core.now() - t0
      assert.is_true(dt >= 0.05 and dt < 1)
      assert.is_boolean(core.isatty(1))
      local w = core.terminal_width()
      assert.is_true(w == nil or w == math.floor(w))
    end)

    it("catch_interrupt turns SIGINT into a flag (in a child process)", function()
      local script = [[
        local core = require("ion.upload.core")
        assert(core.catch_interrupt())
        assert(core.interrupted() == false)
        local pid = io.open("/proc/self/stat"):read("*n")
        -- not os.execute: system() ignores SIGINT while it waits
        io.popen("kill -INT " .. pid):close()
        local t0 = core.now()
        while not core.interrupted() and core.now() - t0 < 5 do core.sleep(0.01) end
        io.write(tostring(core.interrupted()))
      ]]
      local file = fixture.tmpname(".lua")
      local f = assert(io.open(file, "w"))
      f:write(script)
      f:close()
      local cmd = string.format("LUA_CPATH='%s' %s %s", package.cpath, interpreter, file)
      local h = assert(io.popen(cmd))
      local out = h:read("*a")
      h:close()
      assert.equal("true", out, cmd)
    end)
  end)
end)
