-- integration: OAuth2 client credentials against the sandbox's token endpoint,
-- and the token kept away from storage and out of every message.
local sandbox = require("support.sandbox")
local files = require("support.files")
local upload = require("ion.upload")

describe("integration: credentials", function()
  local dir, photo, state

  setup(function()
    state = sandbox.get()
    dir = files.tmpdir()
    photo = files.write(dir, "photo.jpg", string.rep("q", 4096))
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  local function cc_client(secret)
    return assert(upload.new({ endpoint = state.graphql, client_id = state.oauth.client_id,
      client_secret = secret or state.oauth.client_secret, auth_url = state.oauth.token_url, retries = 2 }))
  end

  it("fetches a token once and reuses it", function()
    local c = cc_client()
    assert(c:upload(photo, { run_step = 1 }))
    assert(c:upload(photo, { run_step = 2 }))
    assert.equal(1, sandbox.counters().token.requests)
  end)

  it("refreshes the token before it expires", function()
    sandbox.faults({ token_lifetime_s = 1 })
    local c = cc_client()
    assert(c:upload(photo, { run_step = 1 }))
    require("ion.upload.core").sleep(1.1)
    assert(c:upload(photo, { run_step = 2 }))
    local counters = sandbox.counters()
    assert.equal(2, counters.token.requests)
    assert.is_nil(counters.graphql.status["401"])
  end)

  it("refreshes once more after a 401 (a token the server no longer takes)", function()
    sandbox.faults({ token_lifetime_s = 1 })
    local c = cc_client()
    assert(c:entity_id("run", 1))
    c._auth.expires_at = math.huge -- pretend the clocks disagree: the client still trusts it
    require("ion.upload.core").sleep(1.1)
    assert(c:upload(photo, { run = 2 }))
    local counters = sandbox.counters()
    assert.equal(2, counters.token.requests)
    assert.equal(1, counters.graphql.status["401"])
  end)

  it("a refused client secret -> auth, the secret nowhere in the message", function()
    local c = cc_client("wrong-secret-value")
    local r, err = c:upload(photo, { run = 1 })
    assert.is_nil(r)
    assert.equal("auth", err.code)
    assert.not_matches("wrong-secret-value", tostring(err), 1, true)
  end)

  it("a token function works like a token", function()
    local calls = 0
    local c = assert(upload.new({ endpoint = state.graphql,
      token = function() calls = calls + 1 return state.tokens.rw end }))
    assert(c:upload(photo, { part = 1 }))
    assert.is_true(calls >= 3)
  end)

  it("storage never sees an Authorization header (the gate's counter)", function()
    local c = sandbox.client()
    assert(c:upload(photo, { run = 1 }))
    local att = assert(c:upload(photo, { run = 2 }))
    assert(c:download(att.id, dir .. "/copy.jpg"))
    cc_client():upload(photo, { run = 3 })
    local s = sandbox.counters().storage
    assert.is_true(s.puts >= 3)
    assert.equal(0, s.authorization_headers)
    assert.equal(0, s.chunked_puts)
  end)

  it("the token is in no error string", function()
    local c = sandbox.client({ token = state.tokens.ro })
    local _, err = c:upload(photo, { run = 1 })
    assert.equal("permission_denied", err.code)
    for _, tok in pairs(state.tokens) do assert.not_matches(tok, tostring(err), 1, true) end
    local c2 = sandbox.client({ token = state.tokens.expired })
    local _, err2 = c2:upload(photo, { run = 1 })
    for _, tok in pairs(state.tokens) do assert.not_matches(tok, tostring(err2), 1, true) end
  end)
end)
