-- integration: every error code the sandbox can provoke, from what really
-- comes back; and no token, secret or signed query in any of them.
local sandbox = require("support.sandbox")
local files = require("support.files")
local storage = require("ion.upload.storage")

describe("integration: errors", function()
  local dir, photo, state
  local seen = {}

  -- Checks the code, the contract fields, and that the string leaks nothing.
  local function expect(code, r, err)
    assert.is_nil(r)
    assert.is_table(err, "expected an error " .. code)
    assert.equal(code, err.code, tostring(err))
    assert.is_string(err.message)
    assert.is_string(err.hint)
    assert.is_boolean(err.retryable)
    local s = tostring(err)
    assert.equal(err.code .. ": " .. err.message .. " (" .. err.hint .. ")", s)
    for _, tok in pairs(state.tokens) do assert.not_matches(tok, s, 1, true) end
    assert.not_matches(state.oauth.client_secret, s, 1, true)
    assert.not_matches("X-Amz-Signature=", s, 1, true)
    assert.not_matches("X-Amz-Credential=", s, 1, true)
    seen[#seen + 1] = s
    return err
  end

  setup(function()
    state = sandbox.get()
    dir = files.tmpdir()
    photo = files.write(dir, "photo.jpg", string.rep("p", 2048))
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  it("bad token -> auth (401)", function()
    local c = sandbox.client({ token = "not-a-token" })
    local err = expect("auth", c:upload(photo, { run_step = 1 }))
    assert.equal(401, err.status)
    assert.is_false(err.retryable)
    assert.equal(0, sandbox.counters().storage.puts)
  end)

  it("expired token -> auth (401)", function()
    local c = sandbox.client({ token = state.tokens.expired })
    local err = expect("auth", c:upload(photo, { run_step = 1 }))
    assert.matches("expired", err.message)
  end)

  it("read-only token -> permission_denied on createFileAttachment", function()
    local c = sandbox.client({ token = state.tokens.ro })
    local err = expect("permission_denied", c:upload(photo, { run_step = 1 }))
    assert.matches("Check the role's permissions", err.hint, 1, true)
    assert.equal(0, #sandbox.attachments())
  end)

  it("a released part (read-only target) -> permission_denied", function()
    local c = sandbox.client()
    local err = expect("permission_denied", c:upload(photo, { part = 41 }))
    assert.matches("released", err.message, 1, true)
  end)

  it("unknown run step -> not_found, before any URL or PUT", function()
    local c = sandbox.client()
    expect("not_found", c:upload(photo, { run_step = 99999 }))
    expect("not_found", c:entity_id("part", 51))
    local counters = sandbox.counters()
    assert.equal(0, counters.storage.puts)
    assert.equal(0, counters.graphql.fields.requestFileUploadUrl or 0)
  end)

  it("unknown entity -> not_found", function()
    local c = sandbox.client()
    expect("not_found", c:upload(photo, { entity_id = "999999" }))
  end)

  it("wrong ETag -> etag_mismatch (validateUpload refused)", function()
    local c = sandbox.client()
    local t = assert(c:request_upload_url("photo.jpg"))
    local put = assert(c:put(t.uploadUrl, photo, t.contentType))
    local eid = assert(c:entity_id("run_step", 1))
    local err = expect("etag_mismatch", c:register({ filename = "photo.jpg", s3Key = t.s3Key,
      s3Etag = string.rep("0", 32), entityId = eid }))
    assert.matches("Capture the ETag after a successful 200 response", err.hint, 1, true)
    assert.is_false(err.retryable)
    -- the same object with its real ETag is accepted
    assert(c:register({ filename = "photo.jpg", s3Key = t.s3Key, s3Etag = put.etag, entityId = eid }))
  end)

  it("nothing stored under the key -> etag_mismatch (validateUpload: not found)", function()
    local c = sandbox.client()
    local t = assert(c:request_upload_url("never-put.jpg"))
    local eid = assert(c:entity_id("run_step", 1))
    expect("etag_mismatch", c:register({ filename = "x.jpg", s3Key = t.s3Key, s3Etag = string.rep("a", 32),
      entityId = eid }))
  end)

  it("expired URL -> url_expired on the PUT; upload() gets a fresh URL", function()
    sandbox.faults({ url_lifetime_s = 1 })
    local c = sandbox.client()
    local t = assert(c:request_upload_url("photo.jpg"))
    require("ion.upload.core").sleep(2.1)
    local err = expect("url_expired", c:put(t.uploadUrl, photo, t.contentType))
    assert.equal(403, err.status)
    assert.is_true(err.retryable)
    assert.matches("Re-request the URL", err.hint, 1, true)
    -- every PUT refused as expired: upload() retries with fresh URLs, then reports
    sandbox.faults({ storage_expire_rate = 1, url_lifetime_s = 300 })
    expect("url_expired", c:upload(photo, { run = 1 }))
    local counters = sandbox.counters()
    assert.is_true(counters.storage.faults.expire >= 2)
    assert.equal(counters.storage.puts, counters.graphql.fields.requestFileUploadUrl)
  end)

  it("Content-Type other than the signed one -> signature_mismatch", function()
    local c = sandbox.client()
    local t = assert(c:request_upload_url("photo.jpg"))
    local err = expect("signature_mismatch", c:put(t.uploadUrl, photo, "application/octet-stream"))
    assert.equal(403, err.status)
    assert.matches("Send exactly the contentType returned in step 1", err.hint, 1, true)
  end)

  it("stripped ETag -> missing_etag", function()
    sandbox.faults({ strip_etag_rate = 1 })
    local c = sandbox.client()
    local err = expect("missing_etag", c:upload(photo, { run = 1 }))
    assert.equal(200, err.status)
    assert.equal(0, #sandbox.attachments())
    assert.equal(2, sandbox.counters().storage.puts) -- one more try with a fresh URL, no more
  end)

  it("chunked PUT refused -> 411, mapped to http", function()
    local c = sandbox.client()
    local t = assert(c:request_upload_url("photo.jpg"))
    local res = assert(require("ion.upload.core").request({
      url = t.uploadUrl, method = "PUT", body = "abc",
      headers = { ["Content-Type"] = t.contentType, ["Transfer-Encoding"] = "chunked" },
      timeout = 10,
    }))
    assert.equal(411, res.status)
    local err = storage.map_status(res)
    expect("http", nil, err)
    assert.equal(411, err.status)
    assert.matches("MissingContentLength", err.message, 1, true)
    assert.is_true(sandbox.counters().storage.chunked_puts >= 1)
  end)

  it("rate limited after the retries -> rate_limited with Retry-After", function()
    sandbox.faults({ graphql_429_rate = 1, retry_after_s = 0.2 })
    local c = sandbox.client({ retries = 1 })
    local err = expect("rate_limited", c:entity_id("run", 1))
    assert.equal(429, err.status)
    assert.is_true(err.retryable)
    assert.equal(0.2, err.retry_after)
  end)

  it("a GraphQL call slower than timeout -> timeout", function()
    sandbox.faults({ graphql_latency_ms = 1500 })
    local c = sandbox.client({ timeout = 0.5, retries = 0 })
    expect("timeout", c:entity_id("run", 1))
  end)

  it("nothing listening -> network", function()
    local c = sandbox.client({ endpoint = "http://127.0.0.1:9/graphql", retries = 0 })
    local err = expect("network", c:entity_id("run", 1))
    assert.is_true(err.retryable)
  end)

  it("an endpoint that is not GraphQL -> http or protocol, never a Lua error", function()
    local c = sandbox.client({ endpoint = state.storage .. "/not-graphql", retries = 0 })
    local r, err = c:entity_id("run", 1)
    assert.is_nil(r)
    assert.truthy(err.code == "http" or err.code == "protocol", tostring(err))
  end)

  it("bad input never reaches the network", function()
    local c = sandbox.client()
    expect("bad_input", c:upload(dir .. "/missing.jpg", { run = 1 }))
    expect("bad_input", c:upload(dir, { run = 1 }))
    expect("bad_input", c:upload(photo, { run = 1, part = 2 }))
    expect("bad_input", c:upload(photo, {}))
    expect("bad_input", c:upload(photo, { widget = 1 }))
    assert.equal(0, sandbox.counters().graphql.requests)
  end)

  it("a callback that raises -> aborted", function()
    local c = sandbox.client()
    expect("aborted", c:upload(photo, { run = 1 }, { on_progress = function() error("stop!") end }))
    assert.equal(0, #sandbox.attachments())
  end)

  it("none of the error strings shows a token, a secret or a signed query", function()
    assert.is_true(#seen > 10)
    -- everything the sandbox issued this run: tokens, the client secret, each URL signature
    local secrets = sandbox.secrets()
    assert.is_true(#secrets > 3)
    for _, s in ipairs(seen) do
      for _, secret in ipairs(secrets) do assert.not_matches(secret, s, 1, true) end
    end
  end)
end)
