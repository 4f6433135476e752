-- unit spec: upload.new's validation (no network, no core)
local upload = require("ion.upload")
local config = require("ion.upload.config")

local function bad(cfg, field)
  local client, err = upload.new(cfg)
  assert.is_nil(client)
  assert.equal("bad_input", err.code)
  assert.equal(field, err.field)
  assert.matches(field, err.message, 1, true)
  return err
end

describe("upload.new", function()
  it("accepts an endpoint and a token, with the documented defaults", function()
    local c = assert(upload.new({ endpoint = "http://127.0.0.1:1/graphql", token = "t" }))
    assert.same({ 30, 60, 4, 4, true }, { c.cfg.timeout, c.cfg.stall_timeout, c.cfg.retries,
      c.cfg.concurrency, c.cfg.verify_md5 })
  end)

  it("takes a named environment from the facts table", function()
    local c = assert(upload.new({ environment = "production", token = "t" }))
    assert.equal("https://api.buildwithion.com/graphql", c.cfg.endpoint)
    c = assert(upload.new({ environment = "gov-staging", client_id = "i", client_secret = "s" }))
    assert.equal("https://api-staging-gov.buildwithion.com/graphql", c.cfg.endpoint)
    assert.equal("https://auth-staging-gov.buildwithion.com/realms/api-keys/protocol/openid-connect/token",
      c.cfg.auth_url)
    -- the other published form (ION's manual), tried once on a 404
    assert.equal("https://auth-staging-gov.buildwithion.com/auth/realms/api-keys/protocol/openid-connect/token",
      c.cfg.auth_url_other)
  end)

  it("lets the endpoint override the environment's", function()
    local c = assert(upload.new({ environment = "staging", endpoint = "https://api.firstresonance.io/graphql",
      token = "t" }))
    assert.equal("https://api.firstresonance.io/graphql", c.cfg.endpoint)
  end)

  it("takes a token function or client credentials", function()
    assert.truthy(upload.new({ endpoint = "https://h/graphql", token = function() return "t" end }))
    assert.truthy(upload.new({ endpoint = "https://h/graphql", client_id = "i", client_secret = "s",
      auth_url = "https://h/token", audience = "https://h" }))
  end)

  it("names the field that is wrong", function()
    bad({ token = "t" }, "endpoint")
    bad({ endpoint = "ftp://h", token = "t" }, "endpoint")
    bad({ environment = "mars", token = "t" }, "environment")
    bad({ endpoint = "https://h/graphql" }, "token")
    bad({ endpoint = "https://h/graphql", token = "" }, "token")
    bad({ endpoint = "https://h/graphql", token = 42 }, "token")
    bad({ endpoint = "https://h/graphql", token = "t", client_id = "i", client_secret = "s" }, "token")
    bad({ endpoint = "https://h/graphql", client_id = "i" }, "client_secret")
    bad({ endpoint = "https://h/graphql", client_secret = "s" }, "client_id")
    bad({ endpoint = "https://h/graphql", client_id = "i", client_secret = "s" }, "auth_url")
    bad({ endpoint = "https://h/graphql", token = "t", auth_url = "https://h/token" }, "auth_url")
    bad({ endpoint = "https://h/graphql", token = "t", timeout = 0 }, "timeout")
    bad({ endpoint = "https://h/graphql", token = "t", timeout = "30" }, "timeout")
    bad({ endpoint = "https://h/graphql", token = "t", stall_timeout = -1 }, "stall_timeout")
    bad({ endpoint = "https://h/graphql", token = "t", retries = 1.5 }, "retries")
    bad({ endpoint = "https://h/graphql", token = "t", concurrency = 0 }, "concurrency")
    bad({ endpoint = "https://h/graphql", token = "t", verify_md5 = "yes" }, "verify_md5")
    bad({ endpoint = "https://h/graphql", token = "t", ca_file = "/nonexistent/ca.pem" }, "ca_file")
    bad({ endpoint = "https://h/graphql", token = "t", tokne = "t" }, "tokne")
  end)

  it("never shows the token or the secret in its errors", function()
    local err = bad({ endpoint = "https://h/graphql", token = "sekrit-token", client_id = "i",
      client_secret = "sekrit-secret" }, "token")
    assert.not_matches("sekrit", tostring(err), 1, true)
  end)

  it("raises for a config that is not a table (a misuse)", function()
    assert.has_error(function() upload.new("https://h/graphql") end)
    assert.has_error(function() upload.new() end)
  end)

  it("reads no environment variable", function()
    -- config.check sees only its argument: an empty table is refused whatever
    -- ION_API_URL or ION_TOKEN hold.
    local _, err = config.check({})
    assert.equal("endpoint", err.field)
  end)

  describe("plain http", function()
    it("is refused for the endpoint and auth_url of a host that is not loopback, with a hint naming allow_http",
      function()
        local err = bad({ endpoint = "http://ion.example/graphql", token = "t" }, "endpoint")
        assert.matches("allow_http", err.hint, 1, true)
        err = bad({ endpoint = "https://h/graphql", client_id = "i", client_secret = "s",
          auth_url = "http://auth.example/token" }, "auth_url")
        assert.matches("allow_http", err.hint, 1, true)
        -- hosts that only look like loopback
        bad({ endpoint = "http://127.0.0.1.example/graphql", token = "t" }, "endpoint")
        bad({ endpoint = "http://localhost.example/graphql", token = "t" }, "endpoint")
        bad({ endpoint = "http://127.0.0.1@ion.example/graphql", token = "t" }, "endpoint")
        bad({ endpoint = "http://[::2]/graphql", token = "t" }, "endpoint")
        bad({ endpoint = "http://128.0.0.1/graphql", token = "t" }, "endpoint")
      end)

    it("is accepted for loopback hosts (127.0.0.0/8, ::1, localhost)", function()
      for _, url in ipairs({ "http://127.0.0.1:8080/graphql", "http://127.1.2.3/graphql", "http://localhost/graphql",
        "http://LocalHost:99/graphql", "http://[::1]:8080/graphql", "http://user@127.0.0.1/graphql" }) do
        assert.truthy(upload.new({ endpoint = url, token = "t" }), url)
      end
      assert.truthy(upload.new({ endpoint = "https://h/graphql", client_id = "i", client_secret = "s",
        auth_url = "http://127.0.0.1:9/token" }))
    end)

    it("is accepted anywhere with allow_http = true, which must be a boolean", function()
      local c = assert(upload.new({ endpoint = "http://ion.example/graphql", token = "t", allow_http = true }))
      assert.equal("http://ion.example/graphql", c.cfg.endpoint)
      assert.truthy(upload.new({ endpoint = "http://ion.example/graphql", client_id = "i", client_secret = "s",
        auth_url = "http://auth.example/token", allow_http = true }))
      bad({ endpoint = "https://h/graphql", token = "t", allow_http = "yes" }, "allow_http")
    end)
  end)

  describe("proxy and no_proxy", function()
    it("are kept in the configuration", function()
      local c = assert(upload.new({ endpoint = "https://h/graphql", token = "t", proxy = "http://proxy.lan:3128",
        no_proxy = "localhost,.internal" }))
      assert.equal("http://proxy.lan:3128", c.cfg.proxy)
      assert.equal("localhost,.internal", c.cfg.no_proxy)
      for _, p in ipairs({ "https://p:443", "socks5h://p:1080", "http://user:pw@p:3128" }) do
        assert.truthy(upload.new({ endpoint = "https://h/graphql", token = "t", proxy = p }), p)
      end
    end)

    it("are checked, and a refused proxy is not echoed (it may hold a password)", function()
      for _, p in ipairs({ "", "proxy.lan:3128", "ftp://p", "http://", "http://p:1/\n", 3128, true }) do
        bad({ endpoint = "https://h/graphql", token = "t", proxy = p }, "proxy")
      end
      local err = bad({ endpoint = "https://h/graphql", token = "t", proxy = "ftp://u:sekrit@p:1" }, "proxy")
      assert.not_matches("sekrit", tostring(err), 1, true)
      bad({ endpoint = "https://h/graphql", token = "t", no_proxy = 1 }, "no_proxy")
      bad({ endpoint = "https://h/graphql", token = "t", no_proxy = "a\nb" }, "no_proxy")
    end)
  end)

  it("refuses NaN, infinite, negative or huge numbers before they reach the core", function()
    local nan, inf = 0 / 0, math.huge
    for _, k in ipairs({ "timeout", "stall_timeout" }) do
      for _, v in ipairs({ nan, inf, -inf, -1, 0, 1e7, 2 ^ 63 }) do
        bad({ endpoint = "https://h/graphql", token = "t", [k] = v }, k)
      end
      assert.truthy(upload.new({ endpoint = "https://h/graphql", token = "t", [k] = config.max_seconds }))
      assert.truthy(upload.new({ endpoint = "https://h/graphql", token = "t", [k] = 0.25 }))
    end
    for _, k in ipairs({ "retries", "concurrency" }) do
      for _, v in ipairs({ nan, inf, -inf, -1, 1001, 2 ^ 53, 2 ^ 63, 1.5 }) do
        bad({ endpoint = "https://h/graphql", token = "t", [k] = v }, k)
      end
    end
  end)
end)
