-- unit: the lookup forms (ion.upload.targets.by_name) and the reading of their
-- answers (ion.upload.graphql.lookups), on answers written here: no server.
local cjson = require("cjson.safe")
local documents = require("ion.upload.graphql.documents")
local answer = require("ion.upload.graphql.lookups")
local targets = require("ion.upload.targets")
local upload = require("ion.upload")

local function form(t)
  local _, f = targets.parse(t)
  return f
end

local function run_where(t) return { run = { where = { title = { eq = t } } } } end

describe("lookup forms", function()
  it("normalise to one canonical key whatever the order of the keys", function()
    local a = form({ part = { where = { partNumber = { eq = "PN-77" }, revision = { eq = "B" } } } })
    local b = form({ part = { where = { revision = { eq = "B" }, partNumber = { eq = "PN-77" } } } })
    assert.equal(a.key, b.key)
    assert.equal("part partNumber = PN-77, revision = B", a.text)
    assert.equal(targets.cache_key("part", a), a.key)
  end)

  it("name a run step of a run found by filter, and a field of it", function()
    local by_title = run_where("SN1").run
    local f = form({ run_step_field = { run_step = { run = by_title, position = 3 }, name = "Torque log" } })
    assert.equal("run_step_field 'Torque log' of run_step #3 of run title = SN1", f.text)
    assert.equal("run", f.run_step.run.kind)
  end)

  it("refuse what is no form, naming the key", function()
    local cases = {
      { { run_step = { run = 88, titel = "x" } }, "unknown key titel" },
      { { run_step = { run = { where = { title = { eq = "x" } }, id = 3 }, title = "x" } }, "unknown key id" },
      { { run_step = { run = 0, title = "x" } }, "run_step.run must be an id" },
      { { run_step = { run = 88, position = 2.5 } }, "position must be a positive whole number" },
      { { run_step_field = { run_step = { run = 88, title = "x" }, name = 7 } }, "name must be a non-empty string" },
      { { run_step_field = { name = "x" } }, "needs run_step" },
      { { run = { where = { title = { eq = io.stdout } } } }, "userdata" },
      { { part = { where = 5 } }, "must be a table" },
    }
    for i, c in ipairs(cases) do
      local kind, err = targets.parse(c[1])
      assert.is_nil(kind, "case " .. i)
      assert.equal("bad_input", err.code)
      assert.matches(c[2], err.message, 1, true)
    end
  end)

  it("is what upload.enum writes bare, and a string quoted", function()
    local f = form({ run = { where = { status = { eq = upload.enum("IN_PROGRESS") }, title = { eq = 'a"b' } } } })
    assert.equal('{status: {eq: IN_PROGRESS}, title: {eq: "a\\"b"}}', f.literal)
  end)
end)

describe("lookup answers", function()
  local run = form(run_where("SN004517 final test"))
  local function edges(n, node)
    local list = {}
    for i = 1, n do list[i] = { node = node or { id = i, entity = { id = tostring(100 + i) } } } end
    return { edges = list }
  end

  it("one edge: its id and entity; none: not_found; two: ambiguous; more than asked: protocol", function()
    local id, eid = answer.one(run, edges(1))
    assert.same({ 1, "101" }, { id, eid })
    local _, err = answer.one(run, edges(0))
    assert.equal("not_found", err.code)
    assert.equal("no run matches title = SN004517 final test", err.message)
    _, err = answer.one(run, edges(2))
    assert.equal("bad_input", err.code)
    assert.equal("ambiguous: 2 or more runs match title = SN004517 final test", err.message)
    _, err = answer.one(run, edges(10000))
    assert.equal("protocol", err.code)
    assert.matches("10000 edges", err.message, 1, true)
  end)

  it("a node without entity, an answer without edges: protocol", function()
    for _, v in ipairs({ edges(1, { id = 7 }), edges(1, { id = 7, entity = cjson.null }), { }, cjson.null, "x",
      edges(1, { id = 7, entity = { id = "7\27[2J" } }) }) do
      local _, err = answer.one(run, v)
      assert.equal("protocol", err.code)
    end
  end)

  it("a run's steps: by title exactly once, by position; a field by name", function()
    local steps = { id = 2, steps = {
      { id = 5, title = "Receiving inspection", position = 1, entity = { id = "60" },
        fields = { { id = 3, name = "Photo", entity = { id = "61" } } } },
      { id = 6, title = "Final test", position = 2, entity = { id = "62" }, fields = {} },
      { id = 8, title = "Final test", position = 4, entity = { id = "64" }, fields = {} } } }
    local f = form({ run_step = { run = 2, title = "Final test" } })
    local _, err = answer.from_run(f, "run 2", steps)
    assert.equal("ambiguous: 2 or more run steps of run 2 are titled 'Final test'", err.message)
    f = form({ run_step = { run = 2, position = 4 } })
    assert.same({ 8, "64" }, { answer.from_run(f, "run 2", steps) })
    f = form({ run_step_field = { run_step = { run = 2, position = 1 }, name = "Photo" } })
    assert.same({ 3, "61" }, { answer.from_run(f, "run 2", steps) })
    f = form({ run_step_field = { run_step = { run = 2, position = 2 }, name = "Photo" } })
    _, err = answer.from_run(f, "run 2", steps)
    assert.equal("run step 6 has no field named 'Photo'", err.message)
    _, err = answer.from_run(f, "run 2", cjson.null)
    assert.equal("not_found", err.code)
    _, err = answer.from_run(f, "run 2", { steps = { "x" } })
    assert.equal("protocol", err.code)
  end)

  it("a window of mixed lookups is one document; filters are literals, ids variables", function()
    local pn77 = { part = { where = { partNumber = { eq = "PN-77" }, revision = { eq = "B" } } } }
    local e1 = answer.list_entry(form(pn77))
    local e2 = answer.list_entry(run)
    local e3 = answer.run_entry(88)
    local e4 = answer.run_step_entry(25)
    local doc = documents.build("query", "ResolveTargets", { e1, e2, e3, e4, { field = targets.by_key.run.field,
      value = 7 } })
    assert.equal([[query ResolveTargets($v3: Int!, $v4: Int!, $v5: Int!) {
  f1: parts(filters: {partNumber: {eq: "PN-77"}, revision: {eq: "B"}}, first: 2) { edges { node { id entity { id } } } }
  f2: runs(filters: {title: {eq: "SN004517 final test"}}, first: 2) { edges { node { id entity { id } } } }
  f3: run(id: $v3) { id steps { id title position entity { id } fields { id name entity { id } } } }
  f4: runStep(id: $v4) { id fields { id name entity { id } } }
  f5: run(id: $v5) { id entity { id } }
}]], doc.query)
    assert.same({ v3 = 88, v4 = 25, v5 = 7 }, doc.variables)
  end)
end)
