-- unit spec: ion.upload.errors (no network, no core)
local errors = require("ion.upload.errors")

describe("ion.upload.errors", function()
  local contract = { "bad_input", "auth", "permission_denied", "not_found", "url_expired",
    "signature_mismatch", "etag_mismatch", "missing_etag", "rate_limited", "graphql", "http",
    "network", "timeout", "protocol", "aborted" }

  it("knows exactly the codes of docs/api.md's table of errors, each with a hint", function()
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

  it("walks every secret given: a nil before one does not hide it", function()
    local s = errors.scrub("echo opaque-token-1 and s3cr3t+/= (s3cr3t%2B%2F%3D encoded)",
      { nil, "s3cr3t+/=", nil, "opaque-token-1" })
    assert.equal("echo … and … (… encoded)", s)
  end)

  it("scrubs X-Amz-* values in any case and percent-encoded, and userinfo in URLs", function()
    for _, s in ipairs({
      "x-amz-signature=SIG1", "X-AMZ-SIGNATURE=SIG1", "X-Amz-Signature%3DSIG1", "X%2DAmz%2DSignature%3DSIG1",
      "%58-Amz-Signature=SIG1", "x%2damz%2dsignature%3dSIG1&x=1", "url=https%3A%2F%2Fh%2Fk%3FX-Amz-Signature%3DSIG1",
      "X-Amz-Security-Token=SIG1", '{"x-amz-signature": "SIG1"}',
    }) do
      assert.not_matches("SIG1", errors.scrub(s), 1, true)
    end
    assert.equal("see https://…@host.example/p and http://…@h:8080/?…",
      errors.scrub("see https://user:pa%40ss@host.example/p and http://tok@h:8080/?q=1"))
    assert.equal("ftp://host/p and mailto:a@b.c stay", errors.scrub("ftp://host/p and mailto:a@b.c stay"))
  end)

  it("leaves prose whole: 'bearer token' is words, the value after it a credential", function()
    for _, prose in ipairs({
      "plain http:// would send the bearer token in clear to a host that is not loopback",
      "sent as a Bearer token.", "two bearer tokens, one each",
    }) do
      assert.equal(prose, errors.scrub(prose))
    end
    assert.equal("Bearer …", errors.scrub("Bearer sekrit"))
    assert.equal("Authorization: Bearer …", errors.scrub("Authorization: Bearer token123"))
    assert.equal("Bearer …", errors.scrub("Bearer token.abc"))
    assert.equal("the bearer token: … was refused", errors.scrub("the bearer token: s3cr3t was refused"))
    assert.equal('bearer token="…"', errors.scrub('bearer token="s3cr3t"'))
  end)

  it("keeps upload.new's own words whole: a field's name is no credential", function()
    local _, err = require("ion.upload").new({ endpoint = "https://ion.test/graphql", client_id = "a",
      client_secret = "", auth_url = "https://ion.test/token" })
    assert.equal("client_secret: expected a non-empty string", err.message)
    _, err = require("ion.upload").new({ endpoint = "https://ion.test/graphql", token = "t",
      client_secret = "x", [" client_secret: s3cr3t"] = 1 })
    assert.not_matches("s3cr3t", err.message, 1, true) -- a key the caller made up is scrubbed
  end)

  it("turns the core's own codes into ours: a local limit is bad_input, its hint and code kept", function()
    local e = errors.from_core({ code = "watch_limit", message = "./a: more than 1 folders", hint = "raise it" }, "w: ")
    assert.is_true(errors.is(e))
    assert.equal("bad_input", e.code)
    assert.equal("watch_limit", e.core_code)
    assert.equal("raise it", e.hint)
    assert.equal("w: ./a: more than 1 folders", e.message)
    assert.is_false(e.retryable)
    e = errors.from_core({ code = "network", message = "reset" })
    assert.equal(errors.hints.network, e.hint)
    assert.is_true(e.retryable)
  end)

  it("keeps the words around what it removes", function()
    assert.equal("Bearer … failed; access_token=…&x=1 eyJ alone; client_secret",
      errors.scrub("Bearer abc.def failed; access_token=t0k&x=1 eyJ alone; client_secret"))
  end)

  it("reads a long message from a bounded prefix, never ending in part of a secret", function()
    local token = string.rep("T", 300)
    local m = string.rep("w ", 1950) .. token .. " tail " .. string.rep("x", 10000)
    local e = errors.new("http", m)
    assert.not_matches("TTTT", e.message, 1, true)
    assert.matches("… (" .. #m .. " bytes)", e.message, 1, true)
    assert.is_true(#e.message <= errors.max_message + 40)
    local cut_secret = errors.scrubbed(errors.new("http", string.rep("w ", 1990) .. token), { token })
    assert.not_matches("TTTT", cut_secret.message, 1, true)
  end)

  it("scrubs every string of an error, the server's errors[] and data deep (bounded)", function()
    local url = "https://s3.test/b/k?X-Amz-Signature=abcdef"
    local deep = {}
    local node = deep
    for _ = 1, 50 do node.next = { url = url } node = node.next end
    local e = errors.new("graphql", "refused", {
      s3_code = "Bearer sekrit",
      errors = { { message = "token opaque-tok rejected", path = { "f1" }, extensions = { downloadUrl = url } } },
      data = { f1 = { fileAttachment = { downloadUrl = url, id = 4 } }, ["opaque-tok"] = true, deep = deep },
    })
    errors.scrubbed(e, { "opaque-tok" })
    local seen = {}
    local function walk(v, depth)
      assert.is_true(depth < 20, "bounded depth")
      if type(v) == "string" then seen[#seen + 1] = v end
      if type(v) == "table" then
        for k, x in pairs(v) do walk(k, depth + 1) walk(x, depth + 1) end
      end
    end
    walk(e, 0)
    local all = table.concat(seen, "\n")
    assert.not_matches("abcdef", all, 1, true)
    assert.not_matches("opaque-tok", all, 1, true)
    assert.not_matches("sekrit", all, 1, true)
    assert.equal(4, e.data.f1.fileAttachment.id)
    assert.equal("f1", e.errors[1].path[1])
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
