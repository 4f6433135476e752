-- unit spec: credentials (core stubbed; the fake clock drives expiry)
local stub = require("support.stub_core")

local function form(body)
  local t = {}
  for k, v in body:gmatch("([^&=]+)=([^&]*)") do
    t[k] = v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  end
  return t
end

-- A token endpoint + GraphQL that accepts only the latest token while it lives.
local function oauth_world(lifetime)
  local world = { issued = 0, valid = {} }
  local routes = stub.happy()
  world.handler = function(kind, req)
    if req.url == "https://auth.test/token" then
      world.issued = world.issued + 1
      world.last_form = form(req.body)
      world.last_req = req
      if world.last_form.client_secret ~= "s3cr3t+/=" then
        return stub.json(401, { error = "invalid_client", error_description = "Invalid client credentials" })
      end
      local tok = "eyJhbGciOi.eyJzdWIiOi" .. world.issued .. ".sig"
      world.valid[tok] = world.core.t + lifetime
      return stub.json(200, { access_token = tok, token_type = "Bearer", expires_in = lifetime })
    end
    local tok = req.headers.Authorization:match("^Bearer (.+)$")
    if not world.valid[tok] or world.core.t >= world.valid[tok] or world.revoked == tok
      or world.reject_all then
      return stub.json(401, { errors = { { message = "Unauthorized: token expired" } } })
    end
    return stub.router(routes)(kind, req)
  end
  return world
end

local function oauth_client(world, secret)
  local client, core = stub.client(world.handler, { client_id = "svc", client_secret = secret or "s3cr3t+/=",
    auth_url = "https://auth.test/token", audience = "https://ion.test" })
  world.core = core
  return client, core
end

describe("ion.upload.auth.credentials", function()
  it("fetches a token with the client credentials, form-encoded, and caches it", function()
    local world = oauth_world(300)
    local client = oauth_client(world)
    assert.equal("1001", client:entity_id("run_step", 1))
    assert.equal("1002", client:entity_id("run_step", 2))
    assert.equal(1, world.issued)
    assert.same({ grant_type = "client_credentials", client_id = "svc", client_secret = "s3cr3t+/=",
      audience = "https://ion.test" }, world.last_form)
    assert.equal("application/x-www-form-urlencoded", world.last_req.headers["Content-Type"])
    assert.is_nil(world.last_req.headers.Authorization)
  end)

  it("refreshes before expires_in runs out", function()
    local world = oauth_world(100)
    local client, core = oauth_client(world)
    assert(client:entity_id("run_step", 1))
    core.t = core.t + 95 -- inside the refresh margin (10% of the lifetime)
    assert(client:entity_id("run_step", 2))
    assert.equal(2, world.issued)
  end)

  it("refreshes once more after a 401, and only once", function()
    local world = oauth_world(300)
    local client = oauth_client(world)
    assert(client:entity_id("run_step", 1))
    world.revoked = "eyJhbGciOi.eyJzdWIiOi1.sig"
    assert.equal("1002", client:entity_id("run_step", 2))
    assert.equal(2, world.issued)
    world.reject_all = true
    local _, err = client:entity_id("run_step", 3)
    assert.equal("auth", err.code)
    assert.equal(3, world.issued)
  end)

  it("reports a refused client as auth, without the secret or the token", function()
    local world = oauth_world(300)
    local client = oauth_client(world, "wrong-secret")
    local _, err = client:entity_id("run_step", 1)
    assert.equal("auth", err.code)
    assert.equal(401, err.status)
    assert.matches("Invalid client credentials", err.message, 1, true)
    assert.not_matches("wrong-secret", tostring(err), 1, true)
  end)

  it("calls a token function for each request, and again after a 401", function()
    local calls, tokens = 0, { "old", "new" }
    local seen = {}
    local client = stub.client(function(kind, req)
      seen[#seen + 1] = req.headers.Authorization
      if req.headers.Authorization == "Bearer old" then
        return stub.json(401, { errors = { { message = "Unauthorized: token expired" } } })
      end
      return stub.router(stub.happy())(kind, req)
    end, { token = function() calls = calls + 1 return tokens[math.min(calls, 2)] end })
    assert.equal("1001", client:entity_id("run_step", 1))
    assert.same({ "Bearer old", "Bearer new" }, seen)
  end)

  it("a static token gets no second try after a 401", function()
    local n = 0
    local client = stub.client(function()
      n = n + 1
      return stub.json(401, { errors = { { message = "Unauthorized: invalid token" } } })
    end)
    local _, err = client:entity_id("run_step", 1)
    assert.equal("auth", err.code)
    assert.equal(1, n)
  end)

  it("a token function that raises is aborted; one that returns nothing is auth", function()
    local client = stub.client(stub.router(stub.happy()), { token = function() error("vault down") end })
    local _, err = client:entity_id("run_step", 1)
    assert.equal("aborted", err.code)
    client = stub.client(stub.router(stub.happy()), { token = function() return nil, "no token yet" end })
    _, err = client:entity_id("run_step", 1)
    assert.equal("auth", err.code)
    assert.matches("no token yet", err.message, 1, true)
  end)

  it("scrubs an OAuth token, the client secret and a token function's token a server echoes", function()
    local echo = function(_, req)
      if req.url:find("token") then return stub.json(200, { access_token = "opaque-tok-1", expires_in = 3600 }) end
      local tok = req.headers.Authorization:match("^Bearer (.+)$")
      return stub.json(200, { errors = { { message = "no: " .. tok .. " of svc / secret-cs-77" } } })
    end
    local client = stub.client(echo, { client_id = "svc", client_secret = "secret-cs-77",
      auth_url = "https://auth.test/token" })
    local _, err = client:entity_id("run_step", 1)
    assert.equal("graphql", err.code)
    assert.not_matches("opaque-tok-1", tostring(err), 1, true)
    assert.not_matches("secret-cs-77", tostring(err), 1, true)
    assert.matches("no: … of svc / …", err.message, 1, true)
    local n = 0
    client = stub.client(echo, { token = function() n = n + 1 return "fn-token-" .. n end })
    _, err = client:entity_id("run_step", 1)
    assert.not_matches("fn-token-", tostring(err), 1, true)
  end)

  it("keeps a token without expires_in until a 401", function()
    local n = 0
    local client = stub.client(function(kind, req)
      if req.url:find("token") then
        n = n + 1
        return stub.json(200, { access_token = "opaque" .. n })
      end
      return stub.router(stub.happy())(kind, req)
    end, { client_id = "i", client_secret = "s", auth_url = "https://auth.test/token" })
    client:entity_id("run_step", 1)
    client._core.t = client._core.t + 1e6
    client:entity_id("run_step", 2)
    assert.equal(1, n)
  end)
end)
