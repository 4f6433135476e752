-- unit spec: retry policy (core stubbed: sleeps only advance a fake clock)
local retry = require("ion.upload.retry")
local stub = require("support.stub_core")

describe("ion.upload.retry", function()
  it("backs off exponentially with jitter, capped", function()
    local lo, hi = function() return 0 end, function() return 1 end
    assert.equal(0.125, retry.delay(1, lo))
    assert.equal(0.25, retry.delay(1, hi))
    assert.equal(0.5, retry.delay(3, lo))
    assert.equal(1, retry.delay(3, hi))
    assert.equal(retry.cap, retry.delay(20, hi))
  end)

  it("takes a longer cap as a parameter (the watch's retry_cap), the same steps below it", function()
    local lo, hi = function() return 0 end, function() return 1 end
    assert.equal(retry.delay(3, hi), retry.delay(3, hi, nil, 60))
    assert.equal(32, retry.delay(8, hi, nil, 60))
    assert.equal(60, retry.delay(20, hi, nil, 60))
    assert.equal(30, retry.delay(20, lo, nil, 60))
  end)

  it("waits at least Retry-After, within reason", function()
    assert.equal(3, retry.delay(1, function() return 0 end, 3))
    assert.equal(retry.max_retry_after, retry.delay(1, nil, 3600))
    assert.equal(2, retry.parse_retry_after("2"))
    assert.is_nil(retry.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"))
    assert.equal(2, retry.parse_retry_after(" 2\t"))
    assert.equal(1.5, retry.parse_retry_after("1.5"))
    assert.is_nil(retry.parse_retry_after("2 x"))
    assert.is_nil(retry.parse_retry_after("-1"))
    assert.is_nil(retry.parse_retry_after("1e9"))
    assert.is_nil(retry.parse_retry_after(string.rep(" ", 64) .. "2")) -- no header value is that long
  end)

  it("has a per-client PRNG: seeded, deterministic, in [0, 1)", function()
    local a, b = retry.prng(42), retry.prng(42)
    for _ = 1, 100 do
      local x = a()
      assert.equal(x, b())
      assert.is_true(x >= 0 and x < 1)
    end
    assert.not_equal(retry.prng(1)(), retry.prng(2)())
  end)

  it("resends a registration only when it cannot have taken effect", function()
    local e = function(t) t.retryable = true return t end
    assert.is_true(retry.may_resend(e({ code = "rate_limited", status = 429 }), false))
    assert.is_false(retry.may_resend(e({ code = "http", status = 503 }), false)) -- a proxy's 503 may follow the work
    assert.is_true(retry.may_resend(e({ code = "http", status = 503 }), true))
    assert.is_true(retry.may_resend(e({ code = "network", curl_code = 7 }), false))
    assert.is_false(retry.may_resend(e({ code = "http", status = 500 }), false))
    assert.is_false(retry.may_resend(e({ code = "http", status = 502 }), false))
    assert.is_false(retry.may_resend(e({ code = "http", status = 504 }), false))
    assert.is_false(retry.may_resend(e({ code = "network", curl_code = 52 }), false))
    assert.is_false(retry.may_resend(e({ code = "timeout", curl_code = 28 }), false))
    assert.is_true(retry.may_resend(e({ code = "http", status = 502 }), true))
  end)

  describe("in the client", function()
    local function flaky(statuses, field)
      local i = 0
      return stub.happy({
        [field] = function(v, req)
          i = i + 1
          local s = statuses[i]
          if s == "drop" then return nil, { code = "network", message = "Empty reply from server", curl_code = 52 } end
          if s == "refused" then return nil, { code = "network", message = "Couldn't connect", curl_code = 7 } end
          if s then
            return { status = s, headers = { ["retry-after"] = s == 429 and "2" or nil,
              ["content-type"] = "application/json" }, body = '{"errors":[{"message":"x"}]}' }
          end
          return stub.happy()[field](v, req)
        end,
      })
    end

    it("retries a query through 5xx and 429, honouring Retry-After", function()
      local client, core = stub.client(stub.router(flaky({ 502, 429, 500 }, "runStep")))
      assert.equal("1001", client:entity_id("run_step", 1))
      assert.equal(4, stub.count(core, "runStep"))
      assert.equal(3, #core.sleeps)
      assert.is_true(core.sleeps[2] >= 2)
    end)

    it("gives up after `retries`", function()
      local client, core = stub.client(stub.router(flaky({ 500, 500, 500 }, "runStep")), { retries = 2 })
      local r, err = client:entity_id("run_step", 1)
      assert.is_nil(r)
      assert.equal("http", err.code)
      assert.equal(500, err.status)
      assert.equal(3, stub.count(core, "runStep"))
    end)

    it("reports rate_limited after the retries", function()
      local client = stub.client(stub.router(flaky({ 429, 429 }, "runStep")), { retries = 1 })
      local _, err = client:entity_id("run_step", 1)
      assert.equal("rate_limited", err.code)
      assert.equal(429, err.status)
    end)

    for _, s in ipairs({ 500, 502, 503, 504, "drop" }) do
      it("never resends createFileAttachment after " .. s .. ": in doubt, not retryable", function()
        local client, core = stub.client(stub.router(flaky({ s }, "createFileAttachment"), stub.put_ok))
        local att, err = client:register({ filename = "a.jpg", s3Key = "k", s3Etag = "e", entityId = "1" })
        assert.is_nil(att)
        assert.equal(1, stub.count(core, "createFileAttachment"))
        assert.is_false(err.retryable)
        assert.is_true(err.in_doubt)
        assert.matches("may have been recorded", tostring(err), 1, true)
      end)
    end

    for _, s in ipairs({ 429, "refused" }) do
      it("resends createFileAttachment after " .. s .. " (not processed)", function()
        local client, core = stub.client(stub.router(flaky({ s }, "createFileAttachment"), stub.put_ok))
        local att = assert(client:register({ filename = "a.jpg", s3Key = "k", s3Etag = "e", entityId = "1" }))
        assert.equal(4242, att.id)
        assert.equal(2, stub.count(core, "createFileAttachment"))
      end)
    end

    it("treats a mutation passed to client:graphql the same way", function()
      local client, core = stub.client(stub.router(flaky({ 500 }, "createFileAttachment")))
      local _, err = client:graphql("mutation M($input: CreateFileAttachmentInput!) "
        .. "{ createFileAttachment(input: $input) { fileAttachment { id } } }", { input = {} })
      assert.is_true(err.in_doubt)
      assert.equal(1, stub.count(core, "createFileAttachment"))
    end)

    for _, lead in ipairs({ "fragment A on Query { createFileAttachment }\n", "\239\187\191", "# a note\n", ", " }) do
      it("treats a mutation after " .. lead:gsub("\n", "\\n") .. " passed to client:graphql the same way", function()
        local client, core = stub.client(stub.router(flaky({ 500 }, "createFileAttachment")))
        local _, err = client:graphql(lead .. "mutation M($input: CreateFileAttachmentInput!) "
          .. "{ createFileAttachment(input: $input) { fileAttachment { id } } }", { input = {} })
        assert.is_true(err.in_doubt)
        assert.equal(1, stub.count(core, "createFileAttachment"))
      end)
    end
  end)
end)
