-- integration: proxies. The library uses the proxy named by its `proxy`
-- option for every transfer (GraphQL, token, PUT, download) and no other:
-- not one from http_proxy & co, which libcurl would read by itself. no_proxy
-- bypasses it per host; the bearer token never reaches storage through it.
-- The CLI takes --proxy, or reads the variables as curl does. The proxy is
-- sandbox/testkit/proxy.js: it forwards plain-http requests (so it sees their
-- headers), tunnels CONNECT, and counts requests per host.
local cjson = require("cjson")
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local interpreter = require("support.interpreter")
local upload = require("ion.upload")
local core = require("ion.upload.core")

local q = files.quote

local function start_proxy()
  local h = assert(io.popen("exec env -u LD_PRELOAD node " .. q(sandbox.root .. "/sandbox/testkit/proxy.js"), "r"))
  local port, pid = (h:read("*l") or ""):match("^PORT (%d+) (%d+)$")
  assert(port, "the proxy did not start")
  local p = { url = "http://127.0.0.1:" .. port }
  local function call(method, path)
    local res = assert(core.request({ url = p.url .. path, method = method, body = method == "POST" and "" or nil,
      timeout = 5 }))
    return cjson.decode(res.body)
  end
  function p.stats() return call("GET", "/stats") end
  function p.reset() return call("POST", "/reset") end
  function p.stop()
    os.execute("kill " .. pid .. " 2>/dev/null")
    h:close()
  end
  return p
end

local function hostport(url) return url:match("^%a+://([^/]+)") end

-- The requests the proxy forwarded to host: { method, path, headers }.
local function requests_to(stats, host)
  local out = {}
  for _, r in ipairs(stats.requests) do
    if r.host == host then out[#out + 1] = r end
  end
  return out
end

local function methods(reqs)
  local m = {}
  for _, r in ipairs(reqs) do m[r.method] = (m[r.method] or 0) + 1 end
  return m
end

describe("integration: proxy", function()
  local proxy, state, dir, photo, api, storage

  setup(function()
    state = sandbox.get()
    proxy = start_proxy()
    dir = files.tmpdir()
    photo = files.write(dir, "photo.jpg", string.rep("p", 70000))
    api, storage = hostport(state.graphql), hostport(state.storage)
  end)
  teardown(function()
    if proxy then proxy.stop() end
    files.rmdir(dir)
  end)
  before_each(function()
    sandbox.reset()
    proxy.reset()
  end)

  it("carries GraphQL, the token request, the PUT and the download when configured", function()
    local c = assert(upload.new({ endpoint = state.graphql, client_id = state.oauth.client_id,
      client_secret = state.oauth.client_secret, auth_url = state.oauth.token_url, proxy = proxy.url }))
    local att = assert(c:upload(photo, { run_step = 1 }))
    local copy = dir .. "/copy.jpg"
    assert(c:download(att.id, copy))
    assert.equal(att.md5, files.md5(copy))
    local s = proxy.stats()
    local to_api, to_storage = requests_to(s, api), requests_to(s, storage)
    assert.equal(#to_api, s.hosts[api])
    assert.equal(#to_storage, s.hosts[storage])
    assert.is_true(#to_api >= 3) -- token, URL, registration, attachment
    assert.same({ PUT = 1, GET = 1 }, methods(to_storage))
    local token_posts = 0
    for _, r in ipairs(to_api) do
      if r.path:find("/realms/", 1, true) then token_posts = token_posts + 1 end
    end
    assert.equal(1, token_posts)
    -- what the sandbox saw came through the proxy: as many requests as it forwarded
    local counters = sandbox.counters()
    assert.equal(counters.graphql.requests + counters.token.requests, #to_api)
    assert.equal(counters.storage.requests, #to_storage)
  end)

  it("never hands the bearer token to storage: the proxy sees storage's headers, no Authorization", function()
    local c = sandbox.client({ proxy = proxy.url })
    local att = assert(c:upload(photo, { run = 2 }))
    assert(c:download(att.id, dir .. "/copy2.jpg"))
    local s = proxy.stats()
    local to_storage = requests_to(s, storage)
    assert.is_true(#to_storage >= 2)
    for _, r in ipairs(to_storage) do
      assert.is_nil(r.headers.authorization, r.method)
      assert.is_not_nil(r.headers.host) -- the proxy did record this request's headers
    end
    -- while GraphQL requests through the same proxy do carry it
    for _, r in ipairs(requests_to(s, api)) do assert.equal("<present>", r.headers.authorization) end
  end)

  it("bypasses it for hosts in no_proxy", function()
    -- GraphQL by the name localhost, storage by 127.0.0.1: only the first is excepted
    local c = sandbox.client({ endpoint = state.graphql:gsub("127%.0%.0%.1", "localhost"), proxy = proxy.url,
      no_proxy = "localhost" })
    assert(c:upload(photo, { run = 3 }))
    local s = proxy.stats()
    assert.is_nil(s.hosts[(api:gsub("127%.0%.0%.1", "localhost"))])
    assert.is_nil(s.hosts[api])
    assert.equal(1, s.hosts[storage])
    proxy.reset()
    c = sandbox.client({ proxy = proxy.url, no_proxy = "127.0.0.1" })
    assert(c:upload(photo, { run = 4 }))
    assert.same({}, proxy.stats().hosts)
  end)

  -- A child Lua with the proxy variables set, using the library.
  local function child(vars, cfg_lua)
    local script = files.write(dir, "child.lua", string.format([[
      local upload = require("ion.upload")
      local c = assert(upload.new({ endpoint = %q, token = %q %s }))
      local att, err = c:upload(%q, { run = 5 })
      io.write(att and "attached" or tostring(err))
    ]], state.graphql, state.tokens.rw, cfg_lua or "", photo))
    local assigns = {}
    for k, v in pairs(vars) do assigns[#assigns + 1] = k .. "=" .. q(v) end
    local h = io.popen(string.format("env LUA_PATH=%s LUA_CPATH=%s %s %s %s 2>&1", q(package.path), q(package.cpath),
      table.concat(assigns, " "), interpreter, q(script)))
    local out = h:read("*a")
    h:close()
    return out
  end

  it("without proxy, the library ignores http_proxy, https_proxy and all_proxy", function()
    local out = child({ http_proxy = proxy.url, https_proxy = proxy.url, HTTPS_PROXY = proxy.url,
      all_proxy = proxy.url, ALL_PROXY = proxy.url })
    assert.equal("attached", out)
    assert.same({}, proxy.stats().hosts)
    assert.equal(1, #sandbox.attachments())
  end)

  it("with proxy, the library ignores no_proxy from the environment", function()
    local out = child({ no_proxy = "*", NO_PROXY = "*" }, ", proxy = " .. string.format("%q", proxy.url))
    assert.equal("attached", out)
    assert.equal(1, proxy.stats().hosts[storage])
  end)

  describe("the CLI", function()
    it("--proxy URL sends every request through it", function()
      local r = run.cli({ "--run", "6", "--proxy", proxy.url, photo })
      assert.equal(0, r.code, r.stderr)
      local s = proxy.stats()
      assert.is_true((s.hosts[api] or 0) >= 2)
      assert.equal(1, s.hosts[storage])
    end)

    it("without --proxy, reads http_proxy for an http endpoint, and no_proxy", function()
      local r = run.cli({ "--run", "7", photo }, { http_proxy = proxy.url })
      assert.equal(0, r.code, r.stderr)
      assert.equal(1, proxy.stats().hosts[storage])
      proxy.reset()
      r = run.cli({ "--run", "8", photo }, { http_proxy = proxy.url, no_proxy = "127.0.0.1" })
      assert.equal(0, r.code, r.stderr)
      assert.same({}, proxy.stats().hosts)
    end)

    it("ignores HTTP_PROXY, as curl does; --proxy '' ignores them all", function()
      local r = run.cli({ "--run", "9", photo }, { HTTP_PROXY = proxy.url })
      assert.equal(0, r.code, r.stderr)
      r = run.cli({ "--run", "9", "--proxy", "", photo }, { http_proxy = proxy.url, all_proxy = proxy.url })
      assert.equal(0, r.code, r.stderr)
      assert.same({}, proxy.stats().hosts)
    end)
  end)

  it("tunnels https through CONNECT (a --tls sandbox)", function()
    local tls = sandbox.spawn({ "--tls" })
    local ok, err = pcall(function()
      local c = tls:client({ ca_file = tls.state.ca_file, proxy = proxy.url })
      local att = assert(c:upload(photo, { run_step = 3 }))
      assert(c:download(att.id, dir .. "/copy-tls.jpg"))
      local s = proxy.stats()
      assert.same({}, s.hosts) -- nothing in clear
      assert.is_true((s.connects[hostport(tls.state.graphql)] or 0) >= 1)
      assert.is_true((s.connects[hostport(tls.state.storage)] or 0) >= 1)
    end)
    tls:stop()
    assert(ok, err)
  end)
end)
