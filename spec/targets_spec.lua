-- unit spec: the table of target kinds, target validation, and entity
-- resolution through client:entity_id (core stubbed)
local targets = require("ion.upload.targets")
local stub = require("support.stub_core")
local cjson = require("cjson")

describe("ion.upload.targets", function()
  it("holds each kind once, with its flag, manifest word, id type and lookup field", function()
    assert.equal(7, #targets.list)
    for _, t in ipairs(targets.list) do
      assert.equal(t, targets.by_key[t.key])
      assert.equal("--" .. t.key:gsub("_", "-"), t.flag)
      assert.equal(t.key, t.word)
      assert.equal(t.key == "entity_id" and "string" or "integer", t.id)
      assert.equal(t.key ~= "entity_id", t.field ~= nil)
    end
    assert.equal("run_step=5", targets.cache_key("run_step", 5))
  end)

  describe("parse", function()
    it("accepts exactly one known kind", function()
      assert.same({ "run_step", 123 }, { targets.parse({ run_step = 123 }) })
      assert.same({ "run_step_field", 7 }, { targets.parse({ run_step_field = "7" }) })
      assert.same({ "entity_id", "9876" }, { targets.parse({ entity_id = 9876 }) })
      assert.same({ "entity_id", "ab-12" }, { targets.parse({ entity_id = "ab-12" }) })
      for _, k in ipairs({ "run", "procedure", "step", "part" }) do
        assert.equal(k, (targets.parse({ [k] = 1 })))
      end
    end)

    it("refuses zero kinds, two kinds, an unknown kind or a bad id as bad_input", function()
      for _, t in ipairs({ {}, { run = 1, part = 2 }, { runStep = 1 }, { run_step = 0 }, { run_step = 1.5 },
        { run_step = "abc" }, { entity_id = "" }, { entity_id = true } }) do
        local k, err = targets.parse(t)
        assert.is_nil(k)
        assert.equal("bad_input", err.code)
        assert.equal("target", err.field)
      end
    end)

    it("raises when the target is not a table", function()
      assert.has_error(function() targets.parse(123) end)
    end)
  end)

  describe("resolve", function()
    it("asks for entity { id }, caches it per client, and uses entity_id as is", function()
      local client, core = stub.client(stub.router(stub.happy()))
      assert.equal("1123", client:entity_id("run_step", 123))
      assert.equal("1123", client:entity_id("run_step", 123))
      assert.equal(1, stub.count(core, "runStep"))
      local _, vars = stub.decode(core.calls[1].req)
      assert.same({ id = 123 }, vars)
      assert.equal("55", client:entity_id("entity_id", "55"))
      assert.equal(1, #core.calls)
      -- another client has its own cache
      local other, core2 = stub.client(stub.router(stub.happy()))
      assert.equal("1123", other:entity_id("run_step", 123))
      assert.equal(1, #core2.calls)
    end)

    it("makes a null object not_found, and does not cache it", function()
      local client, core = stub.client(stub.router(stub.happy({
        part = function() return { part = cjson.null } end,
      })))
      local eid, err = client:entity_id("part", 9999)
      assert.is_nil(eid)
      assert.equal("not_found", err.code)
      assert.matches("part 9999", err.message, 1, true)
      client:entity_id("part", 9999)
      assert.equal(2, #core.calls)
    end)

    it("makes a lookup without entity { id } a protocol error", function()
      local client = stub.client(stub.router(stub.happy({
        run = function(v) return { run = { id = v.id } } end,
      })))
      local _, err = client:entity_id("run", 1)
      assert.equal("protocol", err.code)
    end)

    it("via client:entity_id, the public call", function()
      local client = stub.client(stub.router(stub.happy()))
      assert.equal("2007", client:entity_id("run", 7))
      assert.equal("42", client:entity_id("entity_id", "42"))
      local r, err = client:entity_id("runStep", 1)
      assert.is_nil(r)
      assert.equal("bad_input", err.code)
      assert.has_error(function() client:entity_id(nil, 1) end)
    end)
  end)
end)
