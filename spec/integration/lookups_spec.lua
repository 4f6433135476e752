-- integration: targets found by what a station knows (a run by its title, a
-- part by number and revision, a run step by title or position, a field by
-- name), through libcurl and the sandbox. The entity ids to expect come
-- from the sandbox's data set (GET /admin/dataset), never from the client.
local sandbox = require("support.sandbox")
local files = require("support.files")
local slowdown = require("support.slowdown")
local upload = require("ion.upload")

local function title(t) return { where = { title = { eq = t } } } end

describe("integration: targets found by name", function()
  local dir, photo, ds, client

  setup(function()
    sandbox.get()
    ds, dir = sandbox.dataset(), files.tmpdir()
    photo = files.write(dir, "photo.jpg", string.rep("n", 3000))
  end)
  teardown(function() files.rmdir(dir) end)
  -- a fresh sandbox and a fresh entity cache for each test
  before_each(function() sandbox.reset() client = sandbox.client() end)
  after_each(function() client:close() end)

  -- The one object of list whose `field` is `value` (the data set's own facts).
  local function only(list, field, value)
    local found
    for _, x in ipairs(list) do
      if x[field] == value then
        assert.is_nil(found, "the data set has two " .. field .. " = " .. tostring(value))
        found = x
      end
    end
    return assert(found, "no " .. field .. " = " .. tostring(value))
  end

  it("attaches each form to the entity the data set says", function()
    local run7 = ds.runs[7]
    assert.equal("SN004517 final test", run7.title)
    local proc = ds.procedures[5]
    local step_of_proc = ds.steps[23] -- unique titles are looked for below, not assumed
    local n_title = 0
    for _, s in ipairs(ds.steps) do if s.title == step_of_proc.title then n_title = n_title + 1 end end
    local step_where = n_title == 1 and title(step_of_proc.title)
      or { where = { title = { eq = step_of_proc.title }, procedureId = { eq = step_of_proc.procedureId } } }
    local f25 = only(run7.steps, "position", 1)
    local cases = {
      { { run = title("SN004517 final test") }, "193" },
      { { part = { where = { partNumber = { eq = "PN-77" }, revision = { eq = "B" } } } }, ds.parts[8].entityId },
      { { procedure = title(proc.title) }, only(ds.procedures, "title", proc.title).entityId },
      { { step = step_where }, step_of_proc.entityId },
      { { run_step = { run = 7, title = "Final test" } }, only(run7.steps, "title", "Final test").entityId },
      { { run_step = { run = title("SN004517 final test"), position = 3 } }, only(run7.steps, "position", 3).entityId },
      { { run_step_field = { run_step = { run = 7, position = 1 }, name = "Notes" } },
        only(f25.fields, "name", "Notes").entityId },
      { { run_step_field = { run_step = f25.id, name = "Photo" } }, only(f25.fields, "name", "Photo").entityId },
      { { run = { where = { title = { eq = "SN004512 final test" }, status = { eq = upload.enum("IN_PROGRESS") } } } },
        ds.runs[18].entityId },
    }
    assert.equal("514", ds.parts[8].entityId)
    for i, c in ipairs(cases) do
      local att, err = client:upload(photo, c[1])
      assert.is_nil(err, "case " .. i .. ": " .. tostring(err))
      assert.equal(c[2], tostring(att.entityId), "case " .. i)
    end
    assert.equal(#cases, #sandbox.attachments())
  end)

  it("says not_found and ambiguous, naming the kind and the filter; never takes the first of many", function()
    local _, err = client:upload(photo, { run = title("SN999999 final test") })
    assert.equal("not_found", err.code)
    assert.matches("no run matches title = SN999999 final test", err.message, 1, true)
    _, err = client:upload(photo, { run = title("SN004512 final test") })
    assert.equal("bad_input", err.code)
    assert.matches("ambiguous: 2 or more runs match title = SN004512 final test", err.message, 1, true)
    _, err = client:upload(photo, { part = { where = { partNumber = { eq = "PN-77" } } } })
    assert.equal("bad_input", err.code)
    assert.matches("ambiguous: 2 or more parts match partNumber = PN-77", err.message, 1, true)
    _, err = client:upload(photo, { run_step = { run = 2, title = "Final test" } }) -- steps 6 and 8
    assert.equal("bad_input", err.code)
    assert.matches("ambiguous: 2 or more run steps of run 2 are titled 'Final test'", err.message, 1, true)
    _, err = client:upload(photo, { run_step = { run = title("SN004517 final test"), position = 9 } })
    assert.equal("not_found", err.code)
    assert.matches("run 7 (title = SN004517 final test) has no run step at position 9", err.message, 1, true)
    _, err = client:upload(photo, { run_step = { run = title("SN999999 final test"), title = "Final test" } })
    assert.equal("not_found", err.code)
    assert.matches("no run matches title = SN999999 final test", err.message, 1, true)
    assert.equal(0, #sandbox.attachments())
  end)

  it("a filter ION refuses (a field it does not have) fails its own file, not its window's others", function()
    local results = assert(client:upload_many({
      { path = photo, target = { run = { where = { titel = { eq = "SN004517 final test" } } } } },
      { path = photo, target = { run = title("SN004518 final test") } },
      { path = photo, target = { run = 9 } },
    }))
    assert.is_false(results[1].ok)
    assert.equal("graphql", results[1].err.code, tostring(results[1].err))
    assert.matches("titel", results[1].err.message, 1, true)
    assert.is_true(results[2].ok, tostring(results[2].err))
    assert.equal(ds.runs[8].entityId, tostring(results[2].attachment.entityId))
    assert.is_true(results[3].ok, tostring(results[3].err))
    assert.equal(2, #sandbox.attachments())
  end)

  it("matches the injection title exactly, and runs nothing but the query", function()
    local tricky = ds.runs[19].title
    assert.truthy(tricky:find("createFileAttachment", 1, true))
    assert.truthy(tricky:find("\n", 1, true))
    local att = assert(client:upload(photo, { run = title(tricky) }))
    assert.equal(ds.runs[19].entityId, tostring(att.entityId))
    local c = sandbox.counters()
    assert.equal(1, c.graphql.fields.createFileAttachment) -- the file's own, nothing injected
    assert.equal(1, #sandbox.attachments())
    -- run 20 is the first line alone, run 21 the title unescaped: each found alone
    for _, r in ipairs({ 20, 21 }) do
      att = assert(client:upload(photo, { run = title(ds.runs[r].title) }))
      assert.equal(ds.runs[r].entityId, tostring(att.entityId))
    end
  end)

  for _, mode in ipairs({ "list_10000_edges", "nodes_without_entity" }) do
    it(mode .. " -> protocol, in bounded time, nothing attached", function()
      sandbox.admin("POST", "/hostile", { mode = mode, count = 1 })
      local t0 = os.clock()
      local _, err = client:upload(photo, { run = title("SN004517 final test") })
      assert.equal("protocol", err.code, tostring(err))
      assert.is_true(os.clock() - t0 < 2 * slowdown, "took " .. (os.clock() - t0) .. " s of CPU")
      assert.equal(0, #sandbox.attachments())
    end)
  end

  it("nodes_without_entity in a run's steps -> protocol", function()
    sandbox.admin("POST", "/hostile", { mode = "nodes_without_entity", count = 1 })
    local _, err = client:upload(photo, { run_step = { run = 7, title = "Final test" } })
    assert.equal("protocol", err.code, tostring(err))
  end)

  it("refuses bad forms before any traffic, naming the key", function()
    local bad = {
      { { run_step = { run = 88, titel = "x" } }, "titel" },
      { { run_step = { title = "x" } }, "needs run" },
      { { run_step = { run = 88, title = "x", position = 1 } }, "exactly one of title and position" },
      { { run_step = { run = 88 } }, "exactly one of title and position" },
      { { run_step = { run = 88, position = 0 } }, "position must be a positive whole number" },
      { { run_step = { run = 88, title = "" } }, "title must be a non-empty string" },
      { { run_step = { run = 88, title = string.rep("x", 1001) } }, "at most 1000" },
      { { run = { where = {} } }, "empty" },
      { { run = { where = { ["title }"] = { eq = "x" } } } }, "not a GraphQL name" },
      { { run = { where = { title = { eq = print } } } }, "function" },
      { { run = { where = { title = { eq = string.rep("x", 1001) } } } }, "at most 1000" },
      { { run = { wher = {} } }, "wher" },
      { { run_step_field = { run_step = 5 } }, "name must be a non-empty string" },
      { { entity_id = { where = { id = { eq = 1 } } } }, "by its id only" },
    }
    for i, b in ipairs(bad) do
      local _, err = client:upload(photo, b[1])
      assert.equal("bad_input", err and err.code, "case " .. i)
      assert.matches(b[2], err.message, 1, true)
    end
    assert.equal(0, sandbox.counters().graphql.requests)
  end)

  it("batches: 50 files over 10 runs found by title, into run steps found by title, in two lookup windows", function()
    local items = {}
    for i = 1, 50 do
      local r = 3 + (i - 1) % 10 -- runs 3..12 (run 2's title is ambiguous)
      local steps = ds.runs[r].steps
      local s = steps[1 + 2 * (math.floor((i - 1) / 10) % 2)] -- positions 1 and 3: unique titles in every run
      items[i] = { path = photo, filename = "f" .. i .. ".jpg",
        target = { run_step = { run = title(ds.runs[r].title), title = s.title } }, want = s.entityId }
    end
    local want = {}
    for i, it_ in ipairs(items) do want[i], it_.want = it_.want, nil end
    local results = assert(client:upload_many(items))
    for i, r in ipairs(results) do
      assert.is_true(r.ok, tostring(r.err))
      assert.equal(want[i], tostring(r.attachment.entityId))
    end
    local c = sandbox.counters()
    assert.equal(10, c.graphql.fields.runs) -- each run asked once, in one document
    assert.equal(10, c.graphql.fields.run) -- each run's steps asked once (20 run steps)
    -- 2 lookup documents + 1 of URLs + the registrations (a window of 50: 1, or a few when PUTs end apart)
    assert.is_true(c.graphql.requests <= 6, "GraphQL requests: " .. c.graphql.requests)
    print(string.format("\nlookups_spec: 50 files, %d GraphQL requests (%.2f a file)", c.graphql.requests,
      c.graphql.requests / 50))
  end)

  it("caches a where target per client: a second upload makes no lookup request", function()
    local target = { run_step = { run = title("SN004517 final test"), title = "Final test" } }
    assert(client:upload(photo, target))
    local before = sandbox.counters().graphql.fields
    assert(client:upload(photo, target))
    local after = sandbox.counters().graphql.fields
    assert.equal(before.runs, after.runs)
    assert.equal(before.run, after.run)
    assert.equal(2, after.createFileAttachment)
  end)

  it("does not cache a lookup that found nothing: the run created later is found by the same client", function()
    local target = { run = title("SN777777 final test") }
    local _, err = client:upload(photo, target)
    assert.equal("not_found", err.code)
    local created = sandbox.admin("POST", "/runs", { title = "SN777777 final test" })
    local att = assert(client:upload(photo, target))
    assert.equal(created.entityId, tostring(att.entityId))
  end)

  it("a journal rerun uploads nothing again, but looks the name up again (it may have moved)", function()
    local jpath = dir .. "/lookups.journal"
    os.remove(jpath)
    local step7 = { run_step = { run = title("SN004517 final test"), title = "Final test" } }
    local run8 = { run = title("SN004518 final test") }
    local items = { { path = photo, target = step7 }, { path = photo, target = run8 } }
    local res = assert(client:upload_many(items, { journal = jpath }))
    assert.is_true(res[1].ok and res[2].ok)
    local c1 = sandbox.counters()
    local again = sandbox.client() -- a rerun is a new process: a new client, an empty cache
    local res2, sum2 = assert(again:upload_many(items, { journal = jpath }))
    local c2 = sandbox.counters()
    assert.equal(2, sum2.skipped, "skipped")
    assert.equal(res[1].attachment.id, res2[1].attachment.id)
    assert.equal(c1.graphql.fields.createFileAttachment, c2.graphql.fields.createFileAttachment)
    assert.equal(c1.storage.puts, c2.storage.puts)
    assert.equal(c1.graphql.fields.runs + 2, c2.graphql.fields.runs) -- looked up again
    -- the title moves to another run: the same file goes there (a new key)
    sandbox.admin("POST", "/runs/update", { id = 8, title = "SN004518 old" })
    sandbox.admin("POST", "/runs/update", { id = 9, title = "SN004518 final test" })
    local third = sandbox.client()
    local res3 = assert(third:upload_many(items, { journal = jpath }))
    assert.equal(res[1].attachment.id, res3[1].attachment.id) -- run 7's step: still skipped
    assert.equal(ds.runs[9].entityId, tostring(res3[2].attachment.entityId))
    again:close()
    third:close()
    os.remove(jpath)
  end)

  it("client:plan says what each lookup found, and for a failure the filter and the count", function()
    local p = assert(client:plan({
      { path = photo, target = { run_step = { run = title("SN004517 final test"), title = "Final test" } } },
      { path = photo, target = { run = title("SN004512 final test") } },
      { path = photo, target = { run = title("SN999999 final test") } },
    }))
    local e1, e2, e3 = p.items[1], p.items[2], p.items[3]
    assert.equal("run_step 'Final test' of run title = SN004517 final test", e1.lookup)
    assert.equal(only(ds.runs[7].steps, "title", "Final test").id, e1.target_id)
    assert.equal(only(ds.runs[7].steps, "title", "Final test").entityId, e1.entity_id)
    assert.is_false(e2.ok)
    assert.equal("run title = SN004512 final test", e2.lookup)
    assert.equal(2, e2.lookup_count)
    assert.equal(0, e3.lookup_count)
    assert.equal("not_found", e3.err.code)
    assert.equal(0, sandbox.counters().graphql.fields.createFileAttachment or 0)
  end)

  it("works when the server refuses introspection: upload_many attaches every file", function()
    sandbox.faults({ introspection = false })
    local items = {}
    for i = 1, 6 do items[i] = { path = photo, filename = "i" .. i .. ".jpg", target = { run = i } } end
    local results = assert(client:upload_many(items, { window = 3 }))
    for i, r in ipairs(results) do
      assert.is_true(r.ok, tostring(r.err))
      assert.equal(ds.runs[i].entityId, tostring(r.attachment.entityId))
    end
    assert.equal(6, #sandbox.attachments())
  end)
end)
