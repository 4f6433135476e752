-- integration: client:plan against the sandbox (real core, through libcurl).
-- The sandbox's counters prove what a plan sends: lookups only, batched, and
-- no upload URL, no PUT, no mutation. Its data set gives the entity ids to
-- expect, independently of the client.
local sandbox = require("support.sandbox")
local files = require("support.files")

describe("integration: client:plan", function()
  local dir, dataset, client
  local paths = {}

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    for i = 1, 30 do
      paths[i] = files.write(dir, string.format("plan-%02d.txt", i), string.rep("p", 100 + i))
    end
    dataset = sandbox.dataset()
  end)
  teardown(function() files.rmdir(dir) end)

  before_each(function()
    sandbox.reset()
    client = sandbox.client() -- a fresh entity cache each time
  end)
  after_each(function() client:close() end)

  local targets = { { run_step = 12 }, { part = 50 }, { run = 7 } }
  local function thirty()
    local items = {}
    for i = 1, 30 do items[i] = { path = paths[i], target = targets[(i - 1) % 3 + 1] } end
    return items
  end

  it("plans 30 files over 3 targets with one lookup document; no URL, no PUT, no mutation", function()
    local p = assert(client:plan(thirty()))
    local want = { dataset.runStep["12"], dataset.part["50"], dataset.run["7"] }
    local bytes = 0
    for i, e in ipairs(p.items) do
      assert.is_true(e.ok, tostring(e.err))
      assert.equal("upload", e.action)
      assert.equal(paths[i], e.path)
      assert.equal(want[(i - 1) % 3 + 1], e.entity_id)
      assert.equal(100 + i, e.size)
      assert.equal(string.format("plan-%02d.txt", i), e.filename)
      bytes = bytes + e.size
    end
    assert.same({ files = 30, bytes = bytes, targets = 3, failing = 0, upload = 30, register = 0, skip = 0,
      requests = 1 }, p.totals)

    local c = sandbox.counters()
    assert.equal(1, c.graphql.requests) -- 30 files, 3 targets, 1 request
    assert.same({ runStep = 1, part = 1, run = 1 }, c.graphql.fields)
    assert.is_nil(c.graphql.fields.requestFileUploadUrl)
    assert.is_nil(c.graphql.fields.createFileAttachment)
    assert.equal(0, c.storage.requests)
    assert.equal(0, c.storage.puts)
    assert.equal(0, #sandbox.attachments())
  end)

  it("names a missing target and a missing file with their codes; the rest still plans", function()
    local p = assert(client:plan({
      { path = paths[1], target = { run_step = 12 } },
      { path = paths[2], target = { part = 999 } },
      { path = dir .. "/gone.txt", target = { run = 7 } },
      { path = paths[3], target = { entity_id = dataset.run["8"] } },
    }))
    assert.is_true(p.items[1].ok)
    assert.equal("not_found", p.items[2].err.code)
    assert.matches("part 999 not found", p.items[2].err.message, 1, true)
    assert.is_truthy(p.items[2].err.hint)
    assert.equal("bad_input", p.items[3].err.code)
    assert.matches("gone.txt", p.items[3].err.message, 1, true)
    assert.equal(dataset.run["8"], p.items[4].entity_id)
    assert.equal(2, p.totals.failing)
    local c = sandbox.counters()
    assert.equal(1, c.graphql.requests)
    assert.same({ runStep = 1, part = 1 }, c.graphql.fields) -- the missing file's target is never asked
    assert.equal(0, c.storage.requests)
  end)

  it("agrees with the upload that follows it, and sees what the journal shows attached", function()
    local jpath = dir .. "/plan.journal"
    finally(function() os.remove(jpath) end)
    local items = thirty()
    local first = { items[1], items[2] }
    local results = client:upload_many(first, { journal = jpath })
    assert.is_true(results[1].ok and results[2].ok)
    local journal_before = files.read(jpath)
    sandbox.reset()

    local fresh = sandbox.client()
    finally(function() fresh:close() end)
    local p = assert(fresh:plan(items, { journal = jpath }))
    assert.equal("skip", p.items[1].action)
    assert.equal(results[1].attachment.id, p.items[1].attachment_id)
    assert.equal(28, p.totals.upload)
    assert.equal(2, p.totals.skip)
    assert.equal(journal_before, files.read(jpath)) -- read, not written
    assert.equal(0, sandbox.counters().storage.requests)

    -- the upload attaches every file where the plan said
    local all = fresh:upload_many(items, { journal = jpath })
    local by_name = {}
    for _, a in ipairs(sandbox.attachments()) do by_name[a.filename] = a.entityId end
    for i, e in ipairs(p.items) do
      assert.is_true(all[i].ok, tostring(all[i].err))
      if e.action == "upload" then assert.equal(e.entity_id, by_name[e.filename]) end
    end
  end)
end)
