-- The status server's pure parts: the page's escaping and plot, the
-- address parser, the token comparison, the recent files and the per-minute
-- series (a fixed clock stands in for os.time).
local page = require("ion.upload.status.page")
local server = require("ion.upload.status.server")
local status = require("ion.upload.status")
local recent_mod = require("ion.upload.status.recent")

describe("status page", function()
  it("escapes text for HTML element content and quoted attributes", function()
    assert.equal("&lt;img src=x onerror=alert(1)&gt;.csv", page.escape("<img src=x onerror=alert(1)>.csv"))
    assert.equal("a&amp;b &quot;c&quot; &#39;d&#39;", page.escape("a&b \"c\" 'd'"))
    assert.equal("", page.escape(nil))
  end)

  it("renders no markup from a file name, target, error or hint", function()
    local evil = "<script>alert(1)</script>"
    local html = page.render({ folder = evil, state = "idle", healthy = true, version = evil,
      stats = { files_attached = 1 }, queue = { { rel = evil, state = evil, size = 10, bytes = 5 } },
      files = { { rel = evil, target = evil, id = evil, size = 3, time = 0, outcome = evil } },
      errors = { { rel = evil, code = evil, message = evil, hint = evil, time = 0, times = 2 } },
      series = recent_mod.new(function() return 0 end):series(0) })
    assert.is_nil(html:find("<script", 1, true))
    assert.is_truthy(html:find("&lt;script&gt;", 1, true))
    assert.is_nil(html:find(" src=", 1, true)) -- nothing loaded, from outside or not
    assert.is_nil(html:find('href="http', 1, true))
  end)
end)

describe("status server address", function()
  it("reads HOST:PORT, [IPV6]:PORT, :PORT and PORT; loopback when no host", function()
    assert.same({ "127.0.0.1", "9464" }, { server.parse_addr("127.0.0.1:9464") })
    assert.same({ "::1", "9464" }, { server.parse_addr("[::1]:9464") })
    assert.same({ "127.0.0.1", "9464" }, { server.parse_addr(":9464") })
    assert.same({ "127.0.0.1", "0" }, { server.parse_addr("0") })
    assert.same({ "0.0.0.0", "80" }, { server.parse_addr("0.0.0.0:80") })
    assert.is_nil(server.parse_addr("127.0.0.1:99999"))
    assert.is_nil(server.parse_addr("host"))
    assert.is_nil(server.parse_addr("::1:80")) -- an IPv6 address needs its brackets
    assert.is_nil(server.parse_addr(9464))
  end)

  it("compares tokens whole", function()
    assert.is_true(status.same_secret("abcdef0123456789", "abcdef0123456789"))
    assert.is_false(status.same_secret("abcdef012345678", "abcdef0123456789"))
    assert.is_false(status.same_secret("abcdef01234567890", "abcdef0123456789"))
    assert.is_false(status.same_secret("Xbcdef0123456789", "abcdef0123456789"))
    assert.is_false(status.same_secret("", "abcdef0123456789"))
  end)
end)

describe("status recent", function()
  it("keeps the last 50 files, the queue with progress and files and bytes per minute", function()
    local now = 6000
    local r = recent_mod.new(function() return now end)
    r:observe({ type = "taken", rel = "q.txt", size = 100 })
    r:observe({ type = "progress", rel = "q.txt", bytes = 40, total = 100 })
    assert.same({ { rel = "q.txt", size = 100, bytes = 40, state = "uploading" } }, r:queued())
    r:observe({ type = "done", rel = "q.txt", total = 100, attachment = { id = 7 }, target = { run = 1 } })
    assert.same({}, r:queued())
    for i = 1, 60 do r:observe({ type = "done", rel = "f" .. i, total = 10, attachment = { id = i } }) end
    assert.equal(50, #r.files)
    assert.equal("f60", r.files[50].rel)
    local series = r:series(now)
    assert.equal(60, #series)
    assert.same({ minute = 6000, files = 61, bytes = 700 }, series[60])
    assert.equal(0, series[59].files)
    now = 6000 + 3600 -- an hour later the minute is gone
    assert.equal(0, r:series(now)[60].files)
    r:observe({ type = "done", rel = "late", total = 1 })
    assert.is_nil(r.per_minute[100]) -- let go
  end)

  it("counts an error repeated by retries on one line", function()
    local r = recent_mod.new(function() return 1 end)
    local err = { code = "network", message = "down", hint = "wait" }
    for _ = 1, 3 do r:observe({ type = "waiting", rel = "a", err = err }) end
    r:observe({ type = "error", rel = "b", err = err })
    assert.equal(2, #r.errors)
    assert.equal(3, r.errors[1].times)
    assert.equal("failed: network", r.files[1].outcome)
  end)
end)
