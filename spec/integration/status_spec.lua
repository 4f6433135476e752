-- integration: the status server of a watch (client:watch's `status`)
-- against the sandbox, asked over real sockets by curl and by raw-socket
-- probes (spec/support/http_probe.py) while the spec steps the watch.
local sandbox = require("support.sandbox")
local files = require("support.files")
local steps = require("support.watch_steps")
local http = require("support.status_http")
local prom = require("support.prom_text")
local server_mod = require("ion.upload.status.server")

local XSS = "<img src=x onerror=alert(1)>.csv"

local count = steps.count

describe("integration: the watch's status server", function()
  local dir, w
  setup(function() sandbox.get() end)
  before_each(function()
    sandbox.reset()
    dir = files.tmpdir()
  end)
  after_each(function()
    if w then w:close() end
    w = nil
    files.rmdir(dir)
    http.cleanup()
  end)

  local function watch(opts, events)
    opts.target, opts.settle, opts.status = opts.target or { run_step = 12 }, 0.1, opts.status or "127.0.0.1:0"
    opts.on_event = function(ev) events[#events + 1] = ev end
    local cfg = opts.cfg
    opts.cfg = nil
    w = assert(sandbox.client(cfg):watch(dir, opts))
    return "http://127.0.0.1:" .. w.status_server:port()
  end

  it("serves /metrics equal to job:stats(), /healthz, and the page with the file name escaped", function()
    local events = {}
    local base = watch({}, events)
    files.write(dir, XSS, "a,b\n1,2\n")
    files.write(dir, "plain.txt", "plain")
    steps.step_until(w, function() return count(events, "done") == 2 and w:stats().files_queued == 0 end, 30)
    local status, headers, body = http.get(w, base .. "/metrics")
    assert.equal(200, status)
    assert.equal("text/plain; version=0.0.4; charset=utf-8", headers["content-type"])
    local p = prom.parse(body)
    local s = w:stats()
    assert.equal(2, s.files_attached)
    assert.equal(s.files_attached, prom.value(p, "ion_upload_files_attached_total"))
    assert.equal(s.bytes_sent, prom.value(p, "ion_upload_sent_bytes_total"))
    assert.equal(s.graphql_requests, prom.value(p, "ion_upload_graphql_requests_total"))
    assert.equal(2, prom.value(p, "ion_upload_attach_duration_seconds_count"))
    assert.is_not_nil(prom.value(p, "ion_upload_build_info", { version = require("ion.upload").VERSION }))

    local hstatus, _, hbody = http.get(w, base .. "/healthz")
    assert.equal(200, hstatus)
    assert.equal("ok\n", hbody)

    status, headers, body = http.get(w, base .. "/")
    assert.equal(200, status)
    assert.matches("^text/html", headers["content-type"])
    assert.matches("default-src 'none'", headers["content-security-policy"], 1, true)
    assert.is_nil(headers["set-cookie"])
    assert.is_nil(body:find("<img", 1, true)) -- the name is text, never markup
    assert.is_truthy(body:find("&lt;img src=x onerror=alert(1)&gt;.csv", 1, true))
    assert.is_nil(body:find("<script", 1, true))
    local att
    for _, a in ipairs(sandbox.attachments()) do
      if a.filename == XSS then att = a end
    end
    assert.is_truthy(att, "the sandbox holds the file")
    local id = string.format("%d", att.id) -- (a JSON number: 4242.0 in Lua 5.3+)
    assert.is_truthy(body:find("<td>" .. id .. "</td>", 1, true), "the page shows the attachment id " .. id)
    assert.is_truthy(body:find('<dd id="files_attached">2</dd>', 1, true))
    assert.is_truthy(body:find('<dd id="state" class="state good">idle</dd>', 1, true))

    assert.equal(404, (http.get(w, base .. "/nothing")))
    assert.equal(405, (http.get(w, base .. "/metrics", "-X POST")))
  end)

  it("/healthz turns 503 after unhealthy_after seconds of waiting for ION, and 200 once it answers", function()
    local events = {}
    local base = watch({ unhealthy_after = 0.5, cfg = { retries = 0 }, retry_cap = 1 }, events)
    sandbox.admin("POST", "/outage", { target = "both", mode = "refuse", seconds = 6 })
    files.write(dir, "o.txt", "outage")
    steps.step_until(w, function() return count(events, "waiting_for_ion") == 1 end, 30)
    local deadline = require("ion.upload.core").now() + 0.6
    steps.step_until(w, function() return require("ion.upload.core").now() > deadline end, 5)
    local status, _, body = http.get(w, base .. "/healthz")
    if count(events, "resumed") == 0 then -- (the outage lasts 6 s: a slow machine may see it end)
      assert.equal(503, status)
      assert.matches("^waiting for ION since %d+%-%d+%-%d+ %d+:%d+:%d+ %(network%)\n$", body)
      local _, _, page = http.get(w, base .. "/")
      assert.is_truthy(page:find(">waiting for ION since", 1, true))
    else
      print("status spec: the 6 s outage ended before /healthz was asked (a slow machine): 503 not checked")
    end
    steps.step_until(w, function() return count(events, "done") == 1 end, 30)
    status, _, body = http.get(w, base .. "/healthz")
    assert.equal(200, status)
    assert.equal("ok\n", body)
  end)

  it("/healthz says 503 once the watched folder is gone", function()
    local base = watch({}, {})
    files.rmdir(dir)
    local status, _, body = http.get(w, base .. "/healthz")
    assert.equal(503, status)
    assert.matches("^the watched folder is gone", body)
    os.execute("mkdir -p " .. http.q(dir)) -- for after_each
  end)

  it("refuses a request over 8 KiB with 431, and a bad one with 400", function()
    local base = watch({}, {})
    local port = tostring(w.status_server:port())
    assert.equal("HTTP/1.1 431 Request Header Fields Too Large\n", http.probe(w, { "big", port, "9000" }))
    assert.equal("HTTP/1.1 200 OK\n", http.probe(w, { "big", port, "7000" }))
    assert.equal(400, (http.get(w, base .. "/", "-H 'Bad Header: a\001b'")))
  end)

  it("holds at most 64 connections and drops the ones that send nothing", function()
    local idle = server_mod.idle
    server_mod.idle = 1 -- (a module knob: 10 s in use)
    local ok, err = pcall(function()
      watch({}, {})
      local port = tostring(w.status_server:port())
      local most = 0
      local out = http.probe(w, { "hold", port, "70", "4" }, function()
        most = math.max(most, w.status_server.n)
      end)
      assert.equal(64, most)
      assert.equal("70\n", out) -- every one dropped within the 4 s: 1 s idle, then the 6 next
    end)
    server_mod.idle = idle
    assert(ok, err)
  end)

  it("binds another interface only with a token file of mode 0600, and asks for the token", function()
    local path = dir .. "/../status-token-" .. tostring(os.time()) .. tostring(math.random(1e6))
    local token = "s3cret-token-0123456789abcdef"
    local f = assert(io.open(path, "w"))
    f:write(token, "\n")
    f:close()
    os.execute("chmod 644 " .. http.q(path))
    local c = sandbox.client()
    local _, err = c:watch(dir, { target = { run_step = 12 }, status = "0.0.0.0:0" })
    assert.equal("bad_input", err.code)
    assert.matches("token is needed", err.message)
    _, err = c:watch(dir, { target = { run_step = 12 }, status = "0.0.0.0:0", status_token_file = path })
    assert.equal("bad_input", err.code)
    assert.matches("readable by group or others", err.message)
    os.execute("chmod 600 " .. http.q(path))
    w = assert(c:watch(dir, { target = { run_step = 12 }, status = "0.0.0.0:0", status_token_file = path }))
    local base = "http://127.0.0.1:" .. w.status_server:port()
    local status, headers = http.get(w, base .. "/metrics")
    assert.equal(401, status)
    assert.matches("^Bearer", headers["www-authenticate"])
    assert.equal(401, (http.get(w, base .. "/metrics", "-H 'Authorization: Bearer wrong-token-0123456789abcdef'")))
    assert.equal(200, (http.get(w, base .. "/metrics", "-H 'Authorization: Bearer " .. token .. "'")))
    local body
    status, _, body = http.get(w, base .. "/?token=" .. token)
    assert.equal(200, status)
    assert.is_nil(body:find(token, 1, true)) -- never shown
    os.remove(path)
  end)
end)
