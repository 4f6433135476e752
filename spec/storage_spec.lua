-- unit spec: S3 answers to the PUT mapped onto error codes (core stubbed)
local storage = require("ion.upload.storage")

local function xml(code, message)
  return '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' .. code .. "</Code><Message>" .. message
    .. "</Message><RequestId>1</RequestId></Error>"
end

local function res(status, body, etag, md5)
  return { status = status, body = body or "", headers = {}, etag = etag, md5 = md5 or "abc", size = 3 }
end

describe("ion.upload.storage", function()
  local cases = {
    { "expired URL", res(403, xml("AccessDenied", "Request has expired")), "url_expired", true },
    { "bad signature", res(403, xml("SignatureDoesNotMatch", "The request signature we calculated does not match")),
      "signature_mismatch", false },
    { "other 403", res(403, xml("AccessDenied", "Access Denied")), "http", false },
    { "chunked refused", res(411, xml("MissingContentLength", "You must provide the Content-Length HTTP header.")),
      "http", false },
    { "bad digest", res(400, xml("BadDigest", "The Content-MD5 you specified did not match")), "etag_mismatch", false },
    { "slow down", res(503, xml("SlowDown", "Please reduce your request rate.")), "rate_limited", true },
    { "500", res(500, xml("InternalError", "We encountered an internal error.")), "http", true },
    { "502 text", res(502, "storage backend unavailable"), "http", true },
    { "no ETag", res(200, "", nil), "missing_etag", false },
    { "ETag is not the MD5", res(200, "", "def", "abc"), "etag_mismatch", false },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. " -> " .. c[3], function()
      local ok, err = storage.map_put(c[2], true)
      assert.is_nil(ok)
      assert.equal(c[3], err.code)
      assert.equal(c[4], err.retryable)
      assert.equal(c[2].status, err.status)
    end)
  end

  it("hints at the guide's fix for 403s", function()
    local _, err = storage.map_put(res(403, xml("AccessDenied", "Request has expired")), true)
    assert.matches("Re-request the URL", tostring(err), 1, true)
    _, err = storage.map_put(res(403, xml("SignatureDoesNotMatch", "x")), true)
    assert.matches("Send exactly the contentType returned in step 1", tostring(err), 1, true)
  end)

  it("accepts a matching ETag, in any case, and skips the comparison when asked", function()
    assert.same({ etag = "ABC", md5 = "abc", size = 3, status = 200 }, storage.map_put(res(200, "", "ABC"), true))
    assert.truthy(storage.map_put(res(200, "", "def", "abc"), false))
  end)

  it("reads S3's XML Code and Message", function()
    assert.same({ "SlowDown", "Please reduce your request rate." },
      { storage.s3_error(xml("SlowDown", "Please reduce your request rate.")) })
    assert.same({ "NoSuchKey", "" }, { storage.s3_error("<Error><Code>\n  NoSuchKey \t</Code><Message></Message>") })
    assert.same({ "X" }, { storage.s3_error("<Code><Code><b>x</b></Code><Code> X </Code>") })
    assert.is_nil(storage.s3_error("<Error><Code>SlowDown"))
    assert.is_nil(storage.s3_error(string.rep(" ", 5000) .. "<Code>late</Code>")) -- past the bytes read
    assert.equal(64, #storage.s3_error("<Code>" .. string.rep("C", 100) .. "</Code>"))
  end)
end)
