-- integration: ION's token URL in its two published forms. A named
-- environment's token URL (the newer form, without /auth) that answers 404
-- is tried once in the other form, which the client then keeps; an explicit
-- auth_url is used as given. Sandboxes started with --token-path serve one
-- form each. Named environments point at real hosts, so each spec adds a
-- loopback one through environments._table, a private seam for specs (not
-- part of the contract), and removes it afterwards.
local sandbox = require("support.sandbox")
local environments = require("ion.upload.environments")
local upload = require("ion.upload")

local NAME = "spec-token-url"

describe("integration: token URL forms", function()
  local served = {} -- form -> sandbox instance

  setup(function()
    served.noauth = sandbox.spawn({ "--token-path", "noauth" })
    served.auth = sandbox.spawn({ "--token-path", "auth" })
  end)
  teardown(function()
    for _, sb in pairs(served) do sb:stop() end
  end)
  after_each(function() environments._table[NAME] = nil end)

  -- A client of a named environment whose hosts are the sandbox's API server.
  local function env_client(sb, auth_base)
    local base = sb.state.graphql:gsub("/graphql$", "")
    environments._table[NAME] = { api = base, auth = auth_base or base }
    return assert(upload.new({ environment = NAME, client_id = sb.state.oauth.client_id,
      client_secret = sb.state.oauth.client_secret, retries = 0 }))
  end
  local function token_counters(sb) return sb:admin("GET", "/counters").token end

  it("a named environment's newer form (no /auth) works at once", function()
    local sb = served.noauth
    sb:admin("POST", "/reset")
    local c = env_client(sb)
    assert(c:entity_id("run", 1))
    assert.same({ requests = 1, not_found = 0 }, token_counters(sb))
  end)

  it("a 404 there: the manual's /auth form once, then kept for the client's life", function()
    local sb = served.auth
    sb:admin("POST", "/reset")
    local c = env_client(sb)
    assert(c:entity_id("run", 1))
    assert.same({ requests = 1, not_found = 1 }, token_counters(sb))
    c._auth:invalidate() -- the next call fetches a fresh token: straight from the form that worked
    assert(c:entity_id("run", 2))
    assert.same({ requests = 2, not_found = 1 }, token_counters(sb))
    assert.equal(sb.state.oauth.token_url, c._auth.auth_url)
  end)

  it("neither form: auth, 404, a hint to give auth_url, each form asked once", function()
    local sb = served.auth
    sb:admin("POST", "/reset")
    local c = env_client(sb, sb.state.graphql:gsub("/graphql$", "/elsewhere"))
    local ok, err = c:entity_id("run", 1)
    assert.is_nil(ok)
    assert.equal("auth", err.code)
    assert.equal(404, err.status)
    assert.matches("auth_url", err.hint, 1, true)
    assert.equal(0, sb:admin("GET", "/counters").graphql.requests)
  end)

  it("an explicit auth_url is used as given: no second form on a 404", function()
    local sb = served.auth
    sb:admin("POST", "/reset")
    local noauth_url = sb.state.graphql:gsub("/graphql$", "/realms/api-keys/protocol/openid-connect/token")
    local c = assert(upload.new({ endpoint = sb.state.graphql, client_id = sb.state.oauth.client_id,
      client_secret = sb.state.oauth.client_secret, auth_url = noauth_url, retries = 0 }))
    local ok, err = c:entity_id("run", 1)
    assert.is_nil(ok)
    assert.equal("auth", err.code)
    assert.same({ requests = 0, not_found = 1 }, token_counters(sb))
    -- and the form it serves, given explicitly, works
    c = assert(upload.new({ endpoint = sb.state.graphql, client_id = sb.state.oauth.client_id,
      client_secret = sb.state.oauth.client_secret, auth_url = sb.state.oauth.token_url }))
    assert(c:entity_id("run", 1))
  end)
end)
