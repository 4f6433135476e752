-- unit spec: client:upload and the other methods, end to end over a stubbed
-- core (unit spec: core stubbed; integration/ runs the same against the sandbox)
local stub = require("support.stub_core")

local tmp = os.tmpname()
local f = assert(io.open(tmp, "wb"))
f:write("hello")
f:close()

local function kinds(core)
  local out = {}
  for _, c in ipairs(core.calls) do
    if c.kind == "request" then out[#out + 1] = (stub.decode(c.req)) else out[#out + 1] = c.kind end
  end
  return out
end

local function xml403(code, message)
  return { status = 403, headers = {}, body = "<Error><Code>" .. code .. "</Code><Message>" .. message
    .. "</Message></Error>" }
end

describe("client:upload (core stubbed)", function()
  teardown(function() os.remove(tmp) end)

  it("resolves, requests the URL, PUTs with exactly its contentType, registers", function()
    local client, core = stub.client(stub.router(stub.happy(), stub.put_ok))
    local att = assert(client:upload(tmp, { run_step = 5 }))
    assert.same({ "runStep", "requestFileUploadUrl", "put", "createFileAttachment" }, kinds(core))
    local put = core.calls[3].req
    assert.equal("image/jpeg", put.content_type)
    assert.equal(tmp, put.path)
    assert.matches("^https://s3.test/bucket/k1%?", put.url)
    assert.is_nil(put.headers)
    assert.equal(60, put.stall_timeout)
    assert.is_nil(put.timeout)
    local _, vars = stub.decode(core.calls[4].req)
    assert.same({ filename = tmp:match("[^/]+$"), s3Key = "uploads/k1/" .. tmp:match("[^/]+$"),
      s3Etag = "9c1185a5c5e9fc54612808977ee8f548", entityId = "1005", validateUpload = true }, vars.input)
    assert.equal(4242, att.id)
    assert.equal("1005", att.entityId)
    assert.equal(5, att.size)
    assert.equal("9c1185a5c5e9fc54612808977ee8f548", att.md5)
    assert.equal("9c1185a5c5e9fc54612808977ee8f548", att.etag)
    assert.is_string(att.downloadUrl)
    assert.is_string(att.s3Key)
  end)

  it("uses entity_id as is, a display filename, and validate = false", function()
    local client, core = stub.client(stub.router(stub.happy(), stub.put_ok))
    local att = assert(client:upload(tmp, { entity_id = "77" }, { filename = "inspection photo é.jpg",
      validate = false }))
    assert.same({ "requestFileUploadUrl", "createFileAttachment" }, { kinds(core)[1], kinds(core)[3] })
    local _, vars = stub.decode(core.calls[1].req)
    assert.equal("inspection photo é.jpg", vars.filename)
    _, vars = stub.decode(core.calls[3].req)
    assert.is_false(vars.input.validateUpload)
    assert.equal("77", vars.input.entityId)
    assert.equal("inspection photo é.jpg", att.filename)
  end)

  it("checks the file and the target before any network call", function()
    local client, core = stub.client(stub.router(stub.happy(), stub.put_ok))
    for _, case in ipairs({
      { "/nonexistent/file.jpg", { run_step = 1 } },
      { "/tmp", { run_step = 1 } },
      { tmp, {} },
      { tmp, { run_step = 1, run = 2 } },
      { tmp, { runstep = 1 } },
    }) do
      local att, err = client:upload(case[1], case[2])
      assert.is_nil(att)
      assert.equal("bad_input", err.code)
    end
    local _, err = client:upload(tmp, { run = 1 }, { filename = "" })
    assert.equal("filename", err.field)
    _, err = client:upload(tmp, { run = 1 }, { colour = "red" })
    assert.equal("bad_input", err.code)
    assert.equal(0, #core.calls)
  end)

  it("raises for a wrong argument type", function()
    local client = stub.client(stub.router(stub.happy(), stub.put_ok))
    assert.has_error(function() client:upload(nil, { run = 1 }) end)
    assert.has_error(function() client:upload(tmp, 5) end)
    assert.has_error(function() client:upload(tmp, { run = 1 }, "x") end)
    assert.has_error(function() client:put(1, tmp, "a/b") end)
    assert.has_error(function() client:register("x") end)
    assert.has_error(function() client:graphql(nil) end)
  end)

  it("asks for a fresh URL after an expired one, and PUTs again", function()
    local n = 0
    local client, core = stub.client(stub.router(stub.happy(), function(req)
      n = n + 1
      if n <= 2 then return xml403("AccessDenied", "Request has expired") end
      return stub.put_ok(req)
    end))
    assert(client:upload(tmp, { run = 1 }))
    assert.equal(3, stub.count(core, "requestFileUploadUrl"))
    assert.equal(3, stub.count(core, "put"))
    assert.not_equal(core.calls[3].req.url, core.calls[5].req.url)
  end)

  it("tries a fresh URL once after SignatureDoesNotMatch, then reports it", function()
    local client, core = stub.client(stub.router(stub.happy(), function()
      return xml403("SignatureDoesNotMatch", "The request signature we calculated does not match")
    end))
    local _, err = client:upload(tmp, { run = 1 })
    assert.equal("signature_mismatch", err.code)
    assert.equal(403, err.status)
    assert.equal(2, stub.count(core, "put"))
    assert.not_matches("SIGSECRET", tostring(err), 1, true)
  end)

  it("retries a dropped PUT with backoff, each time with a fresh URL, up to retries", function()
    local client, core = stub.client(stub.router(stub.happy(), function()
      return nil, { code = "network", message = "Send failure: Connection reset by peer", curl_code = 55 }
    end), { retries = 2 })
    local _, err = client:upload(tmp, { run = 1 })
    assert.equal("network", err.code)
    assert.equal(3, stub.count(core, "put"))
    assert.equal(2, #core.sleeps)
    assert.equal(0, stub.count(core, "createFileAttachment"))
  end)

  it("tries a PUT without ETag once more with a fresh URL, then stops", function()
    local client, core = stub.client(stub.router(stub.happy(), function()
      return { status = 200, headers = {}, body = "", md5 = "aa", size = 5 }
    end))
    local _, err = client:upload(tmp, { run = 1 })
    assert.equal("missing_etag", err.code)
    assert.equal(2, stub.count(core, "put")) -- not `retries` uploads of the whole file
    assert.equal(2, stub.count(core, "requestFileUploadUrl"))
    assert.equal(0, stub.count(core, "createFileAttachment"))

    local puts = 0
    client, core = stub.client(stub.router(stub.happy(), function(req)
      puts = puts + 1
      if puts == 1 then return { status = 200, headers = {}, body = "", md5 = "aa", size = 5 } end
      return stub.put_ok(req)
    end))
    assert(client:upload(tmp, { run = 1 }))
    assert.equal(2, stub.count(core, "put"))
    assert.equal(1, stub.count(core, "createFileAttachment"))
  end)

  it("stops at an ETag that is not the MD5", function()
    local client, _, err
    client = stub.client(stub.router(stub.happy(), function()
      return { status = 200, headers = {}, body = "", md5 = "aa", etag = "bb", size = 5 }
    end))
    _, err = client:upload(tmp, { run = 1 })
    assert.equal("etag_mismatch", err.code)
    client = stub.client(stub.router(stub.happy(), function()
      return { status = 200, headers = {}, body = "", md5 = "aa", etag = "bb", size = 5 }
    end), { verify_md5 = false })
    assert(client:upload(tmp, { run = 1 }))
  end)

  for _, case in ipairs({
    { "Upload validation failed: ETag mismatch for uploads/k1/a", "etag_mismatch" },
    { "Upload validation failed: object not found: uploads/k1/a", "etag_mismatch" },
    { "Entity not found: 999999", "not_found" },
    { "Permission denied: token may not attach files", "permission_denied" },
    { "Something else", "graphql" },
  }) do
    it("maps the registration refusal '" .. case[1] .. "' to " .. case[2], function()
      local client = stub.client(stub.router(stub.happy({
        createFileAttachment = function()
          return stub.json(200, { data = nil, errors = { { message = case[1], path = { "createFileAttachment" } } } })
        end,
      }), stub.put_ok))
      local _, err = client:upload(tmp, { run = 1 })
      assert.equal(case[2], err.code)
      assert.is_false(err.retryable)
      assert.is_nil(err.in_doubt)
    end)
  end

  it("ends on_progress with sent == total", function()
    local client = stub.client(stub.router(stub.happy(), function(req)
      req.on_progress(2, 5)
      return stub.put_ok(req)
    end))
    local calls = {}
    assert(client:upload(tmp, { run = 1 }, { on_progress = function(s, t) calls[#calls + 1] = { s, t } end }))
    assert.same({ { 2, 5 }, { 5, 5 } }, calls)
  end)

  it("attachment, download with the MD5 check, request_upload_url, put, register", function()
    local client, core = stub.client(stub.router(stub.happy(), stub.put_ok, function(req)
      -- as the core does: the expected MD5 is compared before the file takes its name
      if req.expect_md5 and req.expect_md5 ~= "9c1185a5c5e9fc54612808977ee8f548" then
        return nil, { code = "etag_mismatch", message = "GET https://s3.test/dl?…: MD5 differs" }
      end
      return { status = 200, md5 = "9c1185a5c5e9fc54612808977ee8f548", size = 5, headers = {} }
    end))
    local t = assert(client:request_upload_url("a.csv"))
    assert.same({ "string", "string", "string" }, { type(t.uploadUrl), type(t.s3Key), type(t.contentType) })
    local p = assert(client:put(t.uploadUrl, tmp, t.contentType))
    assert.same({ etag = "9c1185a5c5e9fc54612808977ee8f548", md5 = "9c1185a5c5e9fc54612808977ee8f548", size = 5 }, p)
    local att = assert(client:register({ filename = "a.csv", s3Key = t.s3Key, s3Etag = p.etag, entityId = "1001" }))
    assert.equal(4242, att.id)
    local back = assert(client:attachment(4242))
    assert.equal("https://s3.test/dl?sig=1", back.downloadUrl)
    assert.is_true(client:download(4242, tmp .. ".copy", { md5 = "9c1185a5c5e9fc54612808977ee8f548" }))
    local _, err = client:download(4242, tmp .. ".copy", { md5 = "00000000000000000000000000000000" })
    assert.equal("etag_mismatch", err.code)
    assert.matches("Download again", err.hint, 1, true)
    local dl = core.calls[#core.calls].req
    assert.equal("00000000000000000000000000000000", dl.expect_md5)
    assert.is_nil(dl.headers)
  end)

  it("download and verify: a 403 from storage earns one fresh URL, a second one fails", function()
    for _, call in ipairs({
      function(client) return client:download(4242, tmp .. ".copy") end,
      function(client) return client:verify(4242) end,
    }) do
      local refusals = 1
      local client, core = stub.client(stub.router(stub.happy(), stub.put_ok, function()
        if refusals > 0 then
          refusals = refusals - 1
          return xml403("AccessDenied", "Access Denied")
        end
        return { status = 200, md5 = "9c1185a5c5e9fc54612808977ee8f548", size = 5, headers = {} }
      end))
      assert.is_truthy(call(client))
      assert.same({ "fileAttachment", "download", "fileAttachment", "download" }, kinds(core))
      refusals = 2
      local out, err = call(client)
      assert.is_nil(out)
      assert.equal(403, err.status)
    end
  end)

  it("makes a null attachment not_found", function()
    local client = stub.client(stub.router(stub.happy({
      fileAttachment = function() return { fileAttachment = require("cjson").null } end,
    })))
    local _, err = client:attachment(99)
    assert.equal("not_found", err.code)
  end)
end)
