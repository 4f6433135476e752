-- Unit spec: client:plan and the shaping of a plan, core stubbed
-- (spec/support/batch_stub.lua: a session whose transfers a small GraphQL
-- server answers; targets resolve to id + 1000, ids above 900 are unknown).
-- No network: spec/integration/plan_spec.lua proves the same against the
-- sandbox through its counters.
local stub = require("support.batch_stub")
local journal = require("ion.upload.journal.file")
local plan_mod = require("ion.upload.plan")

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function size_of(path)
  return #read(path)
end

describe("client:plan (unit, core stubbed)", function()
  local dir, paths
  before_each(function() dir, paths = stub.files(12) end)
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  local function over_three_targets()
    local items, kinds = {}, { { run_step = 1 }, { part = 2 }, { run = 3 } }
    for i, p in ipairs(paths) do items[i] = { path = p, target = kinds[(i - 1) % 3 + 1] } end
    return items
  end

  it("checks every item and resolves its target in one lookup document; nothing else is sent", function()
    local srv = stub.server()
    local client, core = stub.client(srv)
    local p = assert(client:plan(over_three_targets()))
    assert.equal(12, #p.items)
    local expect_entity = { "1001", "1002", "1003" }
    local expect_kind = { "run_step", "part", "run" }
    local bytes = 0
    for i, e in ipairs(p.items) do
      local k = (i - 1) % 3 + 1
      assert.same({ path = paths[i], target_kind = expect_kind[k], target_id = k, entity_id = expect_entity[k],
        filename = paths[i]:match("[^/]+$"), size = size_of(paths[i]), ok = true, action = "upload" }, e)
      bytes = bytes + e.size
    end
    assert.same({ files = 12, bytes = bytes, targets = 3, failing = 0, upload = 12, register = 0, skip = 0,
      requests = 1 }, p.totals)
    -- one document, three fields: the distinct targets, nothing more
    assert.equal(1, #srv.docs)
    for _, root in ipairs({ "runStep", "part", "run" }) do assert.same({ 1, 1 }, { srv.count(root) }) end
    assert.matches("^%s*query ResolveTargets", srv.docs[1].query)
    assert.equal(0, select(2, srv.count("requestFileUploadUrl")))
    assert.equal(0, select(2, srv.count("createFileAttachment")))
    assert.equal(0, #srv.puts)
    for _, c in ipairs(core.calls) do assert.equal("request", c.kind) end
  end)

  it("sends as many lookup documents as the window makes, and caches what it found", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local items = {}
    for i = 1, 5 do items[i] = { path = paths[i], target = { step = 10 + i } } end
    local p = assert(client:plan(items, { window = 2 }))
    assert.equal(3, p.totals.requests)
    assert.equal(3, #srv.docs)
    assert.equal(5, p.totals.targets)
    -- an upload_many after it asks for no lookup again: the client's entity cache
    local results = client:upload_many(items, { window = 2 })
    for _, r in ipairs(results) do assert.is_true(r.ok) end
    assert.equal(3, select(1, srv.count("step")))
  end)

  it("names each failing file with its code and hint, in input order, and counts only what would move", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local p = assert(client:plan({
      { path = paths[1], target = { run_step = 1 } },
      { path = dir .. "/missing.txt", target = { run_step = 1 } },
      { path = paths[2], target = { part = 999 } },
      { path = paths[3], target = { entity_id = "E77" }, filename = "shown.txt" },
      { path = paths[4], target = { run_step = 1 }, filename = "bad\255name" },
      { path = paths[5], target = { nope = 1 } },
      { path = dir, target = { run = 3 } },
    }))
    local codes = {}
    for i, e in ipairs(p.items) do codes[i] = e.ok and e.action or e.err.code end
    assert.same({ "upload", "bad_input", "not_found", "upload", "bad_input", "bad_input", "bad_input" }, codes)
    assert.matches("missing.txt", p.items[2].err.message, 1, true)
    assert.matches("part 999 not found", p.items[3].err.message, 1, true)
    assert.matches("Check the id", p.items[3].err.hint, 1, true)
    assert.equal("part", p.items[3].target_kind)
    assert.is_nil(p.items[3].entity_id)
    assert.is_truthy(p.items[2].err.hint)
    assert.equal("E77", p.items[4].entity_id) -- used as is, never looked up
    assert.equal("shown.txt", p.items[4].filename)
    assert.matches("UTF%-8", p.items[5].err.message)
    assert.matches("is a directory", p.items[7].err.message)
    assert.equal(7, p.totals.files)
    assert.equal(5, p.totals.failing)
    assert.equal(2, p.totals.targets)
    assert.equal(size_of(paths[1]) + size_of(paths[3]), p.totals.bytes)
    assert.equal(0, #srv.puts)
  end)

  it("marks what the journal shows attached as skip, in storage as register, and writes nothing", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local jpath = dir .. "/uploads.journal"
    local first = { { path = paths[1], target = { run_step = 1 } }, { path = paths[2], target = { run_step = 1 } } }
    local results = client:upload_many(first, { journal = jpath })
    assert.is_true(results[1].ok and results[2].ok)
    -- paths[3]: PUT in an earlier run, never registered (a crash), per a record made by hand
    local key = journal.key(paths[3], { size = size_of(paths[3]), mtime = 1.5 }, "run_step=1")
    local j = assert(io.open(jpath, "ab"))
    j:write('{"v":1,"k":"', key, '","e":"put","s3Key":"uploads/k9/x","etag":"e","md5":"e"}\n')
    j:write('{"v":1,"k":"', key, '","e":"registering"}\n')
    j:close()
    local before, docs_before = read(jpath), #srv.docs

    local fresh = stub.client(srv) -- no entity cache
    local p = assert(fresh:plan({ first[1], first[2], { path = paths[3], target = { run_step = 1 } },
      { path = paths[4], target = { run_step = 1 } } }, { journal = jpath }))
    local actions = {}
    for i, e in ipairs(p.items) do actions[i] = e.action end
    assert.same({ "skip", "skip", "register", "upload" }, actions)
    assert.equal(results[1].attachment.id, p.items[1].attachment_id)
    assert.equal("1001", p.items[1].entity_id)
    assert.is_true(p.items[3].in_doubt)
    assert.same({ files = 4, bytes = size_of(paths[4]), targets = 1, failing = 0, upload = 1, register = 1, skip = 2,
      requests = 1 }, p.totals)
    assert.equal(before, read(jpath))
    assert.equal(docs_before + 1, #srv.docs)
  end)

  it("does not create an absent journal, and refuses one it cannot read", function()
    local client = stub.client(stub.server())
    local jpath = dir .. "/not-yet.journal"
    local p = assert(client:plan({ { path = paths[1], target = { run = 1 } } }, { journal = jpath }))
    assert.equal("upload", p.items[1].action)
    assert.is_nil(read(jpath))
    local none, err = client:plan({ { path = paths[1], target = { run = 1 } } }, { journal = dir })
    assert.is_nil(none)
    assert.equal("bad_input", err.code)
    assert.matches("cannot read journal", err.message, 1, true)
    none, err = client:plan({}, { journal = dir .. "/no/such/folder/j" })
    assert.is_nil(none)
    assert.matches("its folder does not exist", err.message, 1, true)
  end)

  it("fails every file with the lookup's error when the token is refused", function()
    local srv = stub.server()
    srv.fault = function() return { res = stub.json(401, { errors = { { message = "Unauthorized: bad token" } } }) } end
    local client = stub.client(srv)
    local p = assert(client:plan(over_three_targets()))
    assert.equal(12, p.totals.failing)
    for _, e in ipairs(p.items) do assert.equal("auth", e.err.code) end
  end)

  it("checks its options as upload_many does, and raises for a misuse", function()
    local client = stub.client(stub.server())
    local none, err = client:plan({}, { window = 0 })
    assert.is_nil(none)
    assert.equal("bad_input", err.code)
    assert.equal("window", err.field)
    assert.has_error(function() client:plan("a.txt") end, "bad argument #1 to 'plan' (table expected, got string)")
    local p = assert(client:plan({}))
    assert.same({ files = 0, bytes = 0, targets = 0, failing = 0, upload = 0, register = 0, skip = 0, requests = 0 },
      p.totals)
  end)
end)

describe("ion.upload.plan.totals", function()
  it("partitions the files and counts distinct targets of the files that would be attached", function()
    local t = plan_mod.totals({
      { ok = true, action = "upload", size = 10, target_kind = "run", target_id = 1 },
      { ok = true, action = "upload", size = 5, target_kind = "run", target_id = 1 },
      { ok = true, action = "register", size = 7, target_kind = "part", target_id = 1 },
      { ok = true, action = "skip", size = 3, target_kind = "step", target_id = 9 },
      { ok = false, err = {}, size = 100, target_kind = "step", target_id = 8 },
    })
    assert.same({ files = 5, bytes = 15, targets = 2, failing = 1, upload = 2, register = 1, skip = 1 }, t)
  end)
end)
