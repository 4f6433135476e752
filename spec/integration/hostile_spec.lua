-- integration: the sandbox's hostile answers (POST /admin/hostile, one at a
-- time): the client answers nil, err with a fitting code, never raises, never
-- follows a non-http URL or a redirect, and never waits forever.
local sandbox = require("support.sandbox")
local files = require("support.files")

describe("integration: hostile answers", function()
  local dir, photo

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    photo = files.write(dir, "photo.jpg", string.rep("h", 200000))
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  local function upload_under(mode, cfg)
    sandbox.admin("POST", "/hostile", { mode = mode, count = 1 })
    local c = sandbox.client(cfg or { stall_timeout = 2, timeout = 5 })
    local ok, att, err = pcall(c.upload, c, photo, { run = 1 })
    assert.is_true(ok, "raised: " .. tostring(att))
    return att, err
  end

  for mode, code in pairs({
    malformed_json = "protocol", html_200 = "protocol", huge_body = "protocol", huge_body_chunked = "protocol",
    data_null = "protocol", upload_url_file = "protocol", upload_url_ftp = "protocol",
    content_type_crlf = "protocol", redirect_put = "http",
  }) do
    it(mode .. " -> " .. code .. ", nothing attached", function()
      local att, err = upload_under(mode)
      assert.is_nil(att)
      assert.equal(code, err.code, tostring(err))
      assert.is_true(#tostring(err) < 1500)
      assert.equal(0, #sandbox.attachments())
    end)
  end

  it("upload_many checks its upload URLs the same way: a CR/LF contentType or a file:// URL is protocol", function()
    for _, mode in ipairs({ "content_type_crlf", "upload_url_file" }) do
      sandbox.reset()
      sandbox.admin("POST", "/hostile", { mode = mode, count = 1 })
      local results = sandbox.client({ retries = 0 }):upload_many({ { path = photo, target = { run = 1 } } },
        { window = 1 })
      assert.is_false(results[1].ok, mode)
      assert.equal("protocol", results[1].err.code, mode .. ": " .. tostring(results[1].err))
      assert.equal(0, #sandbox.attachments())
    end
  end)

  it("upload_url_file and upload_url_ftp: nothing is sent anywhere but http(s)", function()
    upload_under("upload_url_file")
    upload_under("upload_url_ftp")
    assert.equal(0, sandbox.counters().storage.requests)
  end)

  it("redirect_put: the redirect is not followed", function()
    upload_under("redirect_put")
    local s = sandbox.counters().storage
    assert.equal(1, s.puts)
    assert.equal(0, s.redirects_followed or 0)
  end)

  it("etag_huge -> etag_mismatch with a short message", function()
    local att, err = upload_under("etag_huge")
    assert.is_nil(att)
    assert.truthy(err.code == "etag_mismatch" or err.code == "protocol", tostring(err))
    assert.is_true(#tostring(err) < 1500)
  end)

  for _, mode in ipairs({ "truncated_body", "missing_field" }) do
    it(mode .. " on a lookup: retried or refused, never a Lua error", function()
      local att, err = upload_under(mode)
      if not att then assert.truthy(err.code == "network" or err.code == "protocol", tostring(err)) end
    end)
  end

  for _, mode in ipairs({ "stall_body", "slowloris" }) do
    it(mode .. ": the PUT times out after stall_timeout, a fresh URL gets it through", function()
      local t0 = require("ion.upload.core").now()
      local att, err = upload_under(mode)
      assert.truthy(att, tostring(err))
      assert.is_true(require("ion.upload.core").now() - t0 < 15)
      assert.equal(2, sandbox.counters().storage.puts)
    end)
  end

  it("stall_body with no retries -> timeout", function()
    local att, err = upload_under("stall_body", { stall_timeout = 1, retries = 0 })
    assert.is_nil(att)
    assert.equal("timeout", err.code)
    assert.is_true(err.retryable)
  end)
end)
