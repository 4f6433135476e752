-- integration: upload.new's on_request and the CLI's -v/--verbose against the
-- sandbox (real libcurl, real storage): one report per transfer that ended,
-- GraphQL, token, PUT and download alike, with the host only (never a path,
-- a query string or a token), the status and the time.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")

-- host:port of a URL.
local function host(url) return url:match("^%a+://([^/]+)") end

local function lines_of(text, pattern)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    if line:find(pattern) then out[#out + 1] = line end
  end
  return out
end

describe("integration: on_request and -v", function()
  local state, dir, photo
  setup(function()
    state, dir = sandbox.get(), files.tmpdir()
    photo = files.write(dir, "photo.jpg", string.rep("v", 70000))
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(sandbox.reset)

  it("on_request: every transfer once, kind, method, host, status and seconds; no path or query", function()
    local infos = {}
    local c = sandbox.client({ on_request = function(info) infos[#infos + 1] = info end })
    local att = assert(c:upload(photo, { run_step = 12 }))
    assert(c:download(att.id, dir .. "/copy.jpg"))
    local kinds = {}
    for _, info in ipairs(infos) do
      kinds[info.kind] = (kinds[info.kind] or 0) + 1
      assert.equal(200, info.status)
      assert.is_nil(info.error)
      assert.is_true(info.seconds >= 0 and info.seconds < 30)
      if info.kind == "graphql" then
        assert.same({ "POST", host(state.graphql) }, { info.method, info.host })
      else
        assert.same({ info.kind == "put" and "PUT" or "GET", host(state.storage) }, { info.method, info.host })
      end
      for k, v in pairs(info) do assert.is_nil(tostring(v):find("[/?]"), k .. " holds a path or query") end
    end
    -- lookup + URL + registration, the attachment's downloadUrl; one PUT, one GET
    assert.same({ graphql = 4, put = 1, download = 1 }, kinds)
    assert.equal(sandbox.counters().graphql.requests, kinds.graphql)
    c:close()
  end)

  it("on_request: a failed transfer says why; an on_request that raises fails nothing", function()
    sandbox.faults({ storage_503_rate = 1 })
    local infos = {}
    local c = sandbox.client({ retries = 0, on_request = function(info) infos[#infos + 1] = info end })
    local att, err = c:upload(photo, { run = 1 })
    assert.is_nil(att)
    assert.equal("rate_limited", err.code, tostring(err)) -- (503 SlowDown)
    local last = infos[#infos]
    assert.same({ "put", 503 }, { last.kind, last.status })
    sandbox.faults({ storage_503_rate = 0 })
    local raising = sandbox.client({ on_request = function() error("a bad logger") end })
    assert(raising:upload(photo, { run = 2 }))
    -- and a host that holds a user and password gives the host alone
    local seen
    local proxyless = sandbox.client({ endpoint = state.graphql:gsub("//", "//user:pw@"), retries = 0,
      on_request = function(info) seen = info end })
    proxyless:graphql("{ __typename }")
    assert.equal(host(state.graphql), seen.host)
  end)

  it("on_request: a client-credentials client reports its token request", function()
    local infos = {}
    local c = sandbox.client({ token = false, client_id = state.oauth.client_id,
      client_secret = state.oauth.client_secret, auth_url = state.oauth.token_url,
      on_request = function(info) infos[#infos + 1] = info end })
    assert(c:upload(photo, { run = 3 }))
    assert.same({ "token", "POST", 200, host(state.oauth.token_url) },
      { infos[1].kind, infos[1].method, infos[1].status, infos[1].host })
  end)

  it("-v: one line per request on stderr, for ion-upload, watch and verify; stdout keeps its JSON", function()
    local receipts = dir .. "/r.jsonl"
    local r = run.cli({ "-v", "--json", "--run-step", "12", "--receipts", receipts, photo })
    assert.equal(0, r.code, r.stderr)
    local g = host(state.graphql):gsub("%p", "%%%0")
    local s = host(state.storage):gsub("%p", "%%%0")
    assert.equal(3, #lines_of(r.stderr, "^POST " .. g .. " 200 %d+%.%d%d%d s %(graphql%)$"), r.stderr)
    assert.equal(1, #lines_of(r.stderr, "^PUT " .. s .. " 200 %d+%.%d%d%d s %(put%)$"), r.stderr)
    assert.matches('^{"path":[^\n]*"ok":true[^\n]*}\n$', r.stdout)
    local inbox = dir .. "/in"
    assert(os.execute("mkdir -p '" .. inbox .. "'"))
    files.write(inbox, "w.txt", "watched")
    r = run.cli({ "watch", inbox, "--run", "5", "--once", "--settle", "0", "--verbose" })
    assert.equal(0, r.code, r.stderr)
    assert.equal(1, #lines_of(r.stderr, "^PUT " .. s .. " 200 .* s %(put%)$"), r.stderr)
    r = run.cli({ "verify", "-v", "--receipts", receipts })
    assert.equal(0, r.code, r.stdout .. r.stderr)
    assert.equal(1, #lines_of(r.stderr, "^GET " .. s .. " 200 .* s %(download%)$"), r.stderr)
    -- without -v: none
    r = run.cli({ "--run-step", "12", photo })
    assert.equal(0, #lines_of(r.stderr, "%(graphql%)$"))
  end)
end)
