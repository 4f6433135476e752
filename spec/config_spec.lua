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
  end)

  it("lets the endpoint override the environment's", function()
    local c = assert(upload.new({ environment = "staging", endpoint = "https://api.firstresonance.io/graphql",
      token = "t" }))
    assert.equal("https://api.firstresonance.io/graphql", c.cfg.endpoint)
  end)

  it("takes a token function or client credentials", function()
    assert.truthy(upload.new({ endpoint = "http://h/graphql", token = function() return "t" end }))
    assert.truthy(upload.new({ endpoint = "http://h/graphql", client_id = "i", client_secret = "s",
      auth_url = "http://h/token", audience = "http://h" }))
  end)

  it("names the field that is wrong", function()
    bad({ token = "t" }, "endpoint")
    bad({ endpoint = "ftp://h", token = "t" }, "endpoint")
    bad({ environment = "mars", token = "t" }, "environment")
    bad({ endpoint = "http://h/graphql" }, "token")
    bad({ endpoint = "http://h/graphql", token = "" }, "token")
    bad({ endpoint = "http://h/graphql", token = 42 }, "token")
    bad({ endpoint = "http://h/graphql", token = "t", client_id = "i", client_secret = "s" }, "token")
    bad({ endpoint = "http://h/graphql", client_id = "i" }, "client_secret")
    bad({ endpoint = "http://h/graphql", client_secret = "s" }, "client_id")
    bad({ endpoint = "http://h/graphql", client_id = "i", client_secret = "s" }, "auth_url")
    bad({ endpoint = "http://h/graphql", token = "t", auth_url = "http://h/token" }, "auth_url")
    bad({ endpoint = "http://h/graphql", token = "t", timeout = 0 }, "timeout")
    bad({ endpoint = "http://h/graphql", token = "t", timeout = "30" }, "timeout")
    bad({ endpoint = "http://h/graphql", token = "t", stall_timeout = -1 }, "stall_timeout")
    bad({ endpoint = "http://h/graphql", token = "t", retries = 1.5 }, "retries")
    bad({ endpoint = "http://h/graphql", token = "t", concurrency = 0 }, "concurrency")
    bad({ endpoint = "http://h/graphql", token = "t", verify_md5 = "yes" }, "verify_md5")
    bad({ endpoint = "http://h/graphql", token = "t", ca_file = "/nonexistent/ca.pem" }, "ca_file")
    bad({ endpoint = "http://h/graphql", token = "t", tokne = "t" }, "tokne")
  end)

  it("never shows the token or the secret in its errors", function()
    local err = bad({ endpoint = "http://h/graphql", token = "sekrit-token", client_id = "i",
      client_secret = "sekrit-secret" }, "token")
    assert.not_matches("sekrit", tostring(err), 1, true)
  end)

  it("raises for a config that is not a table (a misuse)", function()
    assert.has_error(function() upload.new("http://h/graphql") end)
    assert.has_error(function() upload.new() end)
  end)

  it("reads no environment variable", function()
    -- config.check sees only its argument: an empty table is refused whatever
    -- ION_API_URL or ION_TOKEN hold.
    local _, err = config.check({})
    assert.equal("endpoint", err.field)
  end)
end)
