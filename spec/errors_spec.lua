-- unit spec: ion.upload.errors (no network, no core)
local errors = require("ion.upload.errors")

describe("ion.upload.errors", function()
  local contract = { "bad_input", "auth", "permission_denied", "not_found", "url_expired",
    "signature_mismatch", "etag_mismatch", "missing_etag", "rate_limited", "graphql", "http",
    "network", "timeout", "protocol", "aborted" }

  it("knows exactly the codes of DESIGN.md, each with a hint", function()
    local n = 0
    for _ in pairs(errors.codes) do n = n + 1 end
    assert.equal(#contract, n)
    for _, code in ipairs(contract) do
      assert.truthy(errors.codes[code], code)
      assert.is_string(errors.hints[code])
      local e = errors.new(code, "m")
      assert.equal(code, e.code)
      assert.is_boolean(e.retryable)
    end
  end)

  it("uses the guide's Common errors words as hints", function()
    assert.matches("Re-request the URL; don't sit on a signed URL", errors.hints.url_expired, 1, true)
    assert.matches("Send exactly the contentType returned in step 1", errors.hints.signature_mismatch, 1, true)
    assert.matches("Capture the ETag after a successful 200 response", errors.hints.etag_mismatch, 1, true)
    assert.matches("Check the role's permissions on the parent resource", errors.hints.permission_denied, 1, true)
  end)

  it("reads code: message (hint)", function()
    local e = errors.new("url_expired", "storage answered 403", { status = 403 })
    assert.equal("url_expired: storage answered 403 (" .. errors.hints.url_expired .. ")", tostring(e))
    assert.equal(403, e.status)
    assert.is_true(e.retryable)
    assert.is_false(errors.new("bad_input", "x").retryable)
    assert.is_true(errors.is(e))
    assert.is_false(errors.is({ code = "x" }))
  end)

  it("rejects an unknown code (a programming error)", function()
    assert.has_error(function() errors.new("nope", "x") end)
  end)

  it("never shows a presigned query string, a bearer token, a JWT or a client secret", function()
    local s = errors.scrub("PUT https://bucket.s3.amazonaws.com/uploads/a.jpg"
      .. "?X-Amz-Algorithm=AWS4&X-Amz-Signature=deadbeef"
      .. " with Authorization: Bearer sbx_rw_abc.def and eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"
      .. " client_secret=s3cr3t and {\"access_token\":\"tok123\"}")
    assert.not_matches("deadbeef", s, 1, true)
    assert.not_matches("X-Amz-Algorithm=AWS4", s, 1, true)
    assert.not_matches("sbx_rw_abc", s, 1, true)
    assert.not_matches("eyJzdWIiOi", s, 1, true)
    assert.not_matches("s3cr3t", s, 1, true)
    assert.not_matches("tok123", s, 1, true)
    assert.matches("https://bucket.s3.amazonaws.com/uploads/a.jpg?…", s, 1, true)
  end)

  it("removes given secrets wherever they appear, magic characters and all", function()
    local e = errors.new("auth", "token %a.b+c* rejected")
    errors.scrubbed(e, { "%a.b+c*" })
    assert.equal("token … rejected", e.message)
  end)

  it("maps core errors, keeping status and curl_code", function()
    local e = errors.from_core({ code = "network", message = "Couldn't connect", curl_code = 7 }, "GraphQL: ")
    assert.equal("network", e.code)
    assert.equal(7, e.curl_code)
    assert.is_true(e.retryable)
    assert.equal("GraphQL: Couldn't connect", e.message)
    local t = errors.from_core({ code = "timeout", message = "stalled" })
    assert.is_true(t.retryable)
    local a = errors.from_core({ code = "aborted", message = "callback" })
    assert.is_false(a.retryable)
    local b = errors.from_core({ code = "bad_input", message = "is a directory" })
    assert.equal("bad_input", b.code)
  end)
end)

describe("ion.upload.messages", function()
  local messages = require("ion.upload.messages")

  it("keeps the validateUpload refusal patterns in one table", function()
    assert.same({ "etag mismatch", "not found" }, messages.validate)
    assert.is_true(messages.matches("validate", "Upload validation failed: ETag mismatch for uploads/x"))
    assert.is_true(messages.matches("validate", "Upload validation failed: object not found: uploads/x"))
    assert.is_false(messages.matches("validate", "Something else"))
  end)

  it("tells an unknown entity and a permission error by their words", function()
    assert.is_true(messages.matches("entity_not_found", "Entity not found: 999"))
    assert.is_true(messages.matches("permission", "Permission denied: token may not attach files"))
    assert.is_false(messages.matches("permission", "Entity not found"))
    assert.is_false(messages.matches("nonexistent_list", "x"))
  end)
end)
