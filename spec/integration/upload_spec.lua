-- integration: client:upload and friends against the sandbox (real core,
-- real S3-protocol storage behind the gate).
local sandbox = require("support.sandbox")
local files = require("support.files")

local dir, photo

local function attachment_by_id(id)
  for _, a in ipairs(sandbox.attachments()) do
    if tonumber(a.id) == tonumber(id) then return a end
  end
end

describe("integration: client:upload", function()
  local client, dataset

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    photo = files.write(dir, "photo.jpg", ("\255\216\255\224JFIF" .. string.rep("x", 5000)))
    dataset = sandbox.dataset()
  end)
  teardown(function() files.rmdir(dir) end)

  before_each(function()
    sandbox.reset()
    client = sandbox.client()
  end)

  local kinds = {
    { "run_step", "runStep", 12 }, { "run", "run", 7 }, { "procedure", "procedure", 3 },
    { "step", "step", 42 }, { "part", "part", 50 }, { "run_step_field", "runStepField", 100 },
  }
  for _, k in ipairs(kinds) do
    it("attaches to a " .. k[1] .. " through its entity.id, not its id", function()
      local att, err = client:upload(photo, { [k[1]] = k[3] })
      assert.is_nil(err)
      local want = dataset[k[2]][tostring(k[3])]
      assert.equal(want, att.entityId)
      assert.not_equal(tostring(k[3]), att.entityId)
      assert.equal("photo.jpg", att.filename)
      assert.equal(files.md5(photo), att.md5)
      assert.equal(att.md5, att.etag)
      assert.equal(5008, att.size)
      assert.is_string(att.downloadUrl)
      assert.is_string(att.s3Key)
      local stored = attachment_by_id(att.id)
      assert.equal(want, tostring(stored.entityId))
      assert.equal(att.md5, stored.md5)
      assert.equal(5008, stored.size)
      assert.equal("image/jpeg", stored.contentType)
    end)
  end

  it("uses entity_id as is", function()
    local eid = dataset.part["9"]
    local att = assert(client:upload(photo, { entity_id = eid }))
    assert.equal(eid, att.entityId)
    assert.equal(0, sandbox.counters().graphql.fields.part or 0)
  end)

  it("resolves a target once per client", function()
    assert(client:upload(photo, { run_step = 3 }))
    assert(client:upload(photo, { run_step = 3 }))
    assert.equal(1, sandbox.counters().graphql.fields.runStep)
    assert.equal(dataset.runStep["3"], client:entity_id("run_step", 3))
    assert.equal(1, sandbox.counters().graphql.fields.runStep)
  end)

  it("registers a display filename different from the path", function()
    local att = assert(client:upload(photo, { run = 1 }, { filename = "inspection-photo-2026-04-26.jpg" }))
    assert.equal("inspection-photo-2026-04-26.jpg", att.filename)
    assert.equal("inspection-photo-2026-04-26.jpg", attachment_by_id(att.id).filename)
  end)

  it("handles unicode and spaces in paths and filenames", function()
    local p = files.write(dir, "mesures d’été 测量 #1.csv", "a,b\n1,2\n")
    local att = assert(client:upload(p, { run = 2 }))
    assert.equal("mesures d’été 测量 #1.csv", att.filename)
    local stored = attachment_by_id(att.id)
    assert.equal("mesures d’été 测量 #1.csv", stored.filename)
    assert.equal("text/csv", stored.contentType)
    assert.equal(files.md5(p), stored.md5)
  end)

  it("uploads a zero-byte file", function()
    local p = files.write(dir, "empty.txt", "")
    local calls = {}
    local att = assert(client:upload(p, { run = 3 }, { on_progress = function(s, t) calls[#calls + 1] = { s, t } end }))
    assert.equal(0, att.size)
    assert.equal("d41d8cd98f00b204e9800998ecf8427e", att.md5)
    assert.same({ 0, 0 }, calls[#calls])
    assert.equal(0, attachment_by_id(att.id).size)
  end)

  it("uploads a file without extension", function()
    local p = files.write(dir, "README", "plain bytes")
    local att = assert(client:upload(p, { run = 4 }))
    assert.equal("README", att.filename)
    local stored = attachment_by_id(att.id)
    assert.equal(files.md5(p), stored.md5)
    assert.equal("application/octet-stream", stored.contentType)
  end)

  it("reports progress ending with sent == total", function()
    local last
    assert(client:upload(photo, { run = 5 }, { on_progress = function(s, t) last = { s, t } end }))
    assert.same({ 5008, 5008 }, last)
  end)

  it("reads an attachment back and downloads it, checking the MD5", function()
    local att = assert(client:upload(photo, { part = 1 }))
    local back = assert(client:attachment(att.id))
    assert.equal(att.id, back.id)
    assert.equal(att.entityId, back.entityId)
    assert.equal(att.filename, back.filename)
    assert.matches("^http", back.downloadUrl)
    local out = dir .. "/copy.jpg"
    assert.is_true(client:download(att.id, out))
    assert.equal(files.md5(photo), files.md5(out))
    local _, err = client:download(att.id, out, { md5 = string.rep("0", 32) })
    assert.equal("etag_mismatch", err.code)
    -- checked before the rename: the copy downloaded before is still there
    assert.equal(files.md5(photo), files.md5(out))
    local r, nf = client:attachment(999999)
    assert.is_nil(r)
    assert.equal("not_found", nf.code)
  end)

  it("does the three steps one by one", function()
    local t = assert(client:request_upload_url("data.csv"))
    assert.equal("text/csv", t.contentType)
    local p = files.write(dir, "local-name.bin", "x,y\n1,2\n")
    local put = assert(client:put(t.uploadUrl, p, t.contentType))
    assert.equal(files.md5(p), put.md5)
    assert.equal(put.md5, put.etag)
    assert.equal(8, put.size)
    local eid = assert(client:entity_id("step", 10))
    local att = assert(client:register({ filename = "data.csv", s3Key = t.s3Key, s3Etag = put.etag, entityId = eid }))
    assert.equal(eid, att.entityId)
    assert.equal("data.csv", att.filename)
    local data = assert(client:graphql("query Q($id: Int!) { fileAttachment(id: $id) { id filename } }",
      { id = att.id }))
    assert.equal("data.csv", data.fileAttachment.filename)
  end)
end)
