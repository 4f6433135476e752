-- integration: the Lua side of receipts and verify against the sandbox:
-- sha256 = true on client:upload / upload_many (item and batch), and
-- client:verify's verdicts, with tampering through the sandbox's admin.
local sandbox = require("support.sandbox")
local files = require("support.files")

local function sha256(path)
  local p = io.popen("openssl dgst -sha256 -r < " .. files.quote(path))
  local out = p:read("*l") or ""
  p:close()
  return out:match("^(%x+)")
end

describe("integration: sha256 and client:verify", function()
  local dir, small, big, client

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    small = files.write(dir, "small.txt", "small\n")
    big = files.write(dir, "big.bin", string.rep("0123456789abcdef", 100000)) -- 1.6 MB: the reader thread
  end)
  teardown(function()
    if client then client:close() end
    files.rmdir(dir)
  end)
  before_each(function()
    sandbox.reset()
    if client then client:close() end
    client = sandbox.client()
  end)

  it("gives the SHA-256 of the bytes sent when asked, and only then", function()
    local att = assert(client:upload(big, { run_step = 1 }, { sha256 = true }))
    assert.equal(sha256(big), att.sha256)
    assert.equal(files.md5(big), att.md5)
    att = assert(client:upload(small, { run_step = 1 }))
    assert.is_nil(att.sha256)
    local results = assert(client:upload_many({
      { path = small, target = { run = 1 } },
      { path = big, target = { run = 1 }, sha256 = false },
    }, { sha256 = true }))
    assert.equal(sha256(small), results[1].attachment.sha256)
    assert.is_nil(results[2].attachment.sha256)
    local r, err = client:upload_many({ { path = small, target = { run = 1 } } }, { sha256 = "yes" })
    assert.is_nil(r)
    assert.equal("bad_input", err.code)
    r = client:upload_many({ { path = small, target = { run = 1 }, sha256 = 1 } })
    assert.equal("bad_input", r[1].err.code)
  end)

  it("verifies an attachment against its record and the local file: ok", function()
    local att = assert(client:upload(big, { run_step = 1 }, { sha256 = true }))
    local st = assert(require("ion.upload.core").stat(big))
    local r = assert(client:verify(att.id, { md5 = att.md5, sha256 = att.sha256, size = att.size,
      s3Key = att.s3Key, etag = att.etag, path = big, mtime = st.mtime }))
    assert.equal("ok", r.status)
    assert.same({}, r.reasons)
    assert.same({}, r.notes)
    assert.equal(att.md5, r.remote.md5)
    assert.equal(att.sha256, r.remote.sha256)
    assert.equal(att.size, r.remote.size)
    assert.equal(att.md5, r["local"].md5)
    assert.is_nil(r.attachment.downloadUrl)
    assert.equal(att.s3Key, r.attachment.s3Key)
  end)

  it("says mismatch for tampered bytes, and writes them with download = path", function()
    local att = assert(client:upload(small, { run_step = 1 }))
    sandbox.admin("POST", "/objects/put", { s3Key = att.s3Key, content = "tampered\n" })
    local out = dir .. "/copy.txt"
    local r = assert(client:verify(att.id, { md5 = att.md5 }, { download = out }))
    assert.equal("mismatch", r.status)
    assert.matches("MD5 of ION's bytes " .. files.md5(out) .. ", recorded " .. att.md5, r.reasons[1], 1, true)
    assert.equal("tampered\n", files.read(out))
    assert.equal(out, r.download)
    r = assert(client:verify(att.id, { s3Key = "uploads/another/key" }))
    assert.equal("mismatch", r.status)
    assert.matches("another storage key", r.reasons[1], 1, true)
  end)

  it("says missing for no attachment and for no object", function()
    local att = assert(client:upload(small, { run_step = 1 }))
    local r = assert(client:verify(999999, { md5 = att.md5 }))
    assert.equal("missing", r.status)
    sandbox.admin("POST", "/objects/delete", { s3Key = att.s3Key })
    r = assert(client:verify(att.id, { md5 = att.md5, path = small }))
    assert.equal("missing", r.status)
    assert.equal("storage has no object for this attachment", r.reasons[1])
  end)

  it("says local_changed when only the local file differs", function()
    local path = files.write(dir, "changing.txt", "before\n")
    local att = assert(client:upload(path, { run_step = 1 }))
    files.write(dir, "changing.txt", "after!\n")
    local r = assert(client:verify(att.id, { md5 = att.md5, size = att.size, path = path }))
    assert.equal("local_changed", r.status)
    assert.equal(files.md5(path), r["local"].md5)
  end)

  it("returns bad_input for a bad record or option, and raises for a misuse", function()
    local att = assert(client:upload(small, { run_step = 1 }))
    for _, case in ipairs({
      { { md5 = "xyz" } }, { { sha256 = string.rep("a", 63) } }, { { size = "1" } }, { { colour = 1 } },
      { {}, { download = "" } }, { {}, { speed = 1 } },
    }) do
      local r, err = client:verify(att.id, case[1], case[2])
      assert.is_nil(r)
      assert.equal("bad_input", err.code)
    end
    local r, err = client:verify("nope")
    assert.is_nil(r)
    assert.equal("bad_input", err.code)
    assert.has_error(function() client:verify(att.id, "md5") end)
  end)
end)
