-- unit spec: ion.upload.watch_rules, the rules file of a watched folder
-- (real rules files in a temp folder; no network, no stubs).
local rules = require("ion.upload.watch.rules")
local errors = require("ion.upload.errors")
local literal = require("ion.upload.graphql.literal")
local files = require("support.files")

local dir

local function write_rules(src, name)
  return files.write(dir, name or "rules.lua", src)
end

-- The error of loading src as a rules file (it must fail).
local function load_error(src)
  local set, err = rules.load(write_rules(src))
  assert.is_nil(set)
  assert.is_true(errors.is(err))
  assert.equal("bad_input", err.code)
  assert.equal("rules", err.field)
  return err
end

local function compile_error(list)
  local set, err = rules.compile(list, "test.lua")
  assert.is_nil(set)
  assert.is_true(errors.is(err))
  assert.equal("bad_input", err.code)
  return err
end

-- The error of matching path with a one-rule set (it must fail).
local function match_error(rule, path)
  local set = assert(rules.compile({ rule }, "test.lua"))
  local m, err = rules.match(set, path or "RS5/x.csv", { size = 1 })
  assert.is_nil(m)
  assert.is_true(errors.is(err))
  assert.equal("bad_input", err.code)
  assert.equal(1, err.rule)
  return err
end

describe("watch_rules", function()
  setup(function() dir = files.tmpdir() end)
  teardown(function() files.rmdir(dir) end)

  describe("load", function()
    it("loads the issue's example and matches with captures", function()
      local set = assert(rules.load(write_rules([[
        return {
          { match = "^station7/RS(%d+)_.*%.csv$", target = { run_step = "%1" } },
          { match = "^photos/(%d+)/", target = function(cap, path, info) return { part = tonumber(cap[1]) } end,
            filename = function(cap, path) return "inspection-" .. path:match("[^/]+$") end },
        }
      ]])))
      assert.same({ target = { run_step = 12 }, rule = 1 }, rules.match(set, "station7/RS12_torque.csv"))
      assert.same({ target = { part = 7 }, filename = "inspection-a.jpg", rule = 2 },
        rules.match(set, "photos/7/a.jpg", { size = 3 }))
      local m, err = rules.match(set, "station8/RS12_torque.csv")
      assert.is_nil(m)
      assert.is_nil(err)
    end)

    it("gives the file only a few pure globals (no io, os, require, load)", function()
      local set = assert(rules.load(write_rules([[
        local seen = { io = io, os = os, require = require, load = load, loadstring = loadstring,
                       dofile = dofile, setmetatable = setmetatable }
        string.rep = nil -- a copy: the caller's string library keeps its rep
        local found = next(seen)
        return { { match = "^.*$", target = function()
          if found then error("saw " .. found) end
          return { run = math.floor(tonumber("1.5") + 0.5) }
        end } }
      ]])))
      assert.same({ run = 2 }, rules.match(set, "x").target)
      assert.equal("aa", string.rep("a", 2))
    end)

    it("names the file when it cannot be read, does not parse, raises, or returns no list", function()
      local set, err = rules.load(dir .. "/missing.lua")
      assert.is_nil(set)
      assert.matches("missing%.lua: cannot read", err.message)
      assert.matches("rules%.lua: does not load: .*rules%.lua:1:", load_error("return {").message)
      assert.matches("failed while running: .*rules%.lua:1: boom", load_error("error('boom')").message)
      assert.matches("failed while running: .*nil value", load_error("return os.getenv('HOME')").message)
      assert.matches("must return a list of rules, got string", load_error("return 'x'").message)
      assert.matches("must return a list of rules, got nil", load_error("local x = 1").message)
      assert.matches("has no rules", load_error("return {}").message)
      assert.matches("key name is not a rule's position", load_error("return { name = 1 }").message)
    end)

    it("refuses precompiled bytecode and oversized files", function()
      local chunk = string.dump(function() return {} end)
      assert.matches("bytecode", load_error(chunk).message)
      local was = rules.max_file_size
      rules.max_file_size = 10
      local err = load_error("return { { match = 'x', target = { run = 1 } } }")
      rules.max_file_size = was
      assert.matches("larger than 10 bytes", err.message)
    end)

    it("reload: the new rules, or the old ones kept with the reason", function()
      local path = write_rules("return { { match = '^a', target = { run = 1 } } }", "live.lua")
      local set = assert(rules.load(path))
      write_rules("return { { match = '^a', target = { run = 2 } } }", "live.lua")
      local fresh, err = rules.reload(set)
      assert.is_nil(err)
      assert.same({ run = 2 }, rules.match(fresh, "a").target)
      write_rules("return { { match = '^a', target = { rum = 3 } } }", "live.lua")
      local kept
      kept, err = rules.reload(fresh)
      assert.equal(fresh, kept)
      assert.matches("rule 1: target: unknown kind rum", err.message)
      assert.same({ run = 2 }, rules.match(kept, "a").target)
    end)
  end)

  describe("the shape of each rule", function()
    local good = { match = "^(%d+)", target = { run = "%1" } }

    it("names the rule by its index and says what is wrong", function()
      local cases = {
        { "x", "rule 2: must be a table { match = ..., target = ... }, got string" },
        { { match = "a", target = { run = 1 }, tagret = 1 }, "rule 2: unknown key tagret" },
        { { target = { run = 1 } }, "rule 2: match must be a Lua pattern %(a non%-empty string%), got nil" },
        { { match = "", target = { run = 1 } }, "rule 2: match must be a Lua pattern" },
        { { match = 5, target = { run = 1 } }, "rule 2: match must be a Lua pattern .*got number" },
        { { match = "a%", target = { run = 1 } }, "rule 2: match is not a valid Lua pattern: .*ends with '%%'" },
        { { match = "x[a", target = { run = 1 } }, "rule 2: match is not a valid Lua pattern: .*missing ']'" },
        { { match = "(a", target = { run = 1 } }, "rule 2: match is not a valid Lua pattern: unfinished capture" },
        { { match = "a)", target = { run = 1 } }, "rule 2: match is not a valid Lua pattern" },
        { { match = "%b(", target = { run = 1 } }, "rule 2: match is not a valid Lua pattern: missing arguments" },
        { { match = "%fa", target = { run = 1 } }, "rule 2: match is not a valid Lua pattern: missing '%['" },
        { { match = "a" }, "rule 2: target must be a table such as .* or a function, got nil" },
        { { match = "a", target = "run_step=1" }, "rule 2: target must be a table .*got string" },
        { { match = "a", target = {} }, "rule 2: target must name exactly one of run_step, .* %(it names 0%)" },
        { { match = "a", target = { run = 1, part = 2 } }, "rule 2: target must name exactly one .*%(it names 2%)" },
        { { match = "a", target = { runstep = 1 } }, "rule 2: target: unknown kind runstep %(one of run_step" },
        { { match = "a", target = { run = 0 } }, "rule 2: target run: run must be a positive whole number, got 0" },
        { { match = "a", target = { run = 1.5 } }, "rule 2: target run: .*positive whole number" },
        { { match = "a", target = { run = "12a" } }, "rule 2: target run: .*got 12a, or \"%%1\"" },
        { { match = "a", target = { run = true } }, "rule 2: target run: .*got true" },
        { { match = "a", target = { entity_id = "" } }, "rule 2: target entity_id: entity_id must be" },
        { { match = "a", target = { run = 1 }, filename = 3 }, "rule 2: filename must be a function or a string" },
      }
      for _, case in ipairs(cases) do
        local err = compile_error({ good, case[1] })
        assert.matches("^rules test%.lua: " .. case[2], err.message)
        assert.equal(2, err.rule)
        assert.matches("match = ", err.hint)
      end
    end)

    it("takes numbers, strings of digits, any GraphQL ID for entity_id, captures and functions", function()
      local set = assert(rules.compile({
        { match = "^n/", target = { run = 3 } },
        { match = "^s/", target = { procedure = "44" } },
        { match = "^e/", target = { entity_id = "ent-9" } },
        { match = "^t/(%d+)", target = { step = "1%1" } },
        { match = "^f/(%d+)", target = { part = function(cap) return cap[1] * 2 end } },
        { match = "^w/", target = { run_step_field = "%0" } },
      }))
      assert.same({ run = 3 }, rules.match(set, "n/a").target)
      assert.same({ procedure = 44 }, rules.match(set, "s/a").target)
      assert.same({ entity_id = "ent-9" }, rules.match(set, "e/a").target)
      assert.same({ step = 15 }, rules.match(set, "t/5/a").target)
      assert.same({ part = 14 }, rules.match(set, "f/7/a").target)
      local _, err = rules.match(set, "w/a") -- "%0" is the whole match "w/": not an id
      assert.matches("rule 6: target run_step_field must be a positive whole number, got w/", err.message)
    end)
  end)

  describe("match", function()
    it("takes the first rule that matches", function()
      local set = assert(rules.compile({
        { match = "%.csv$", target = { run = 1 } },
        { match = "^st7/", target = { run = 2 } },
        { match = ".", target = { run = 3 } },
      }))
      assert.equal(1, rules.match(set, "st7/a.csv").rule)
      assert.equal(2, rules.match(set, "st7/a.txt").rule)
      assert.equal(3, rules.match(set, "b.txt").rule)
    end)

    it("substitutes %1..%9 in targets and filenames, and hands captures, path and info to functions", function()
      local seen
      local set = assert(rules.compile({
        { match = "^(%a+)/(%d+)/(%d+)/(%d+)/(%d+)/(%d+)/(%d+)/(%d+)/(%d+)%.(%a+)$",
          target = { run = "%9" }, filename = "%1-%2.%10" },
        { match = "^(%w+)/(.-)%.(%a+)$",
          target = function(cap, path, info)
            seen = { cap = cap, path = path, info = info }
            return { entity_id = cap[1] }
          end },
      }))
      local m = rules.match(set, "cmm/1/2/3/4/5/6/7/88.pdf")
      assert.same({ run = 88 }, m.target)
      assert.equal("cmm-1.cmm0", m.filename) -- %10 is %1 then "0": only %0..%9 exist
      local info = { size = 10, mtime = 5 }
      m = rules.match(set, "E77/some/report.txt", info)
      assert.same({ entity_id = "E77" }, m.target)
      assert.same({ "E77", "some/report", "txt" }, seen.cap)
      assert.equal("E77/some/report.txt", seen.path)
      assert.equal(info, seen.info)
    end)

    it("substitutes %N in every string of a target that finds its object by name, at any depth", function()
      local target = { run_step = { run = { where = { title = { eq = "%1 final test" },
        status = { eq = literal.enum("IN_PROGRESS") } } }, title = "%2" } }
      local set = assert(rules.compile({
        { match = "^(SN%d+)_(.-)%.csv$", target = target },
        { match = "^(PN%-%d+)_(%u)/", target = function(cap)
          return { part = { where = { partNumber = { eq = "%1" }, revision = { eq = cap[2] } } } }
        end },
        { match = "^F_(%d+)_(.-)%.csv$", target = { run_step_field = { run_step = { run = "%1", position = 2 },
          name = function() return "never called" end, label = "%0" } } },
        { match = "^V_(%d+)",
          target = { run = function(cap) return { where = { title = { eq = "V" .. cap[1] } } } end } },
      }))
      local m = rules.match(set, "SN004512_Final test.csv")
      local where = m.target.run_step.run.where
      assert.equal("SN004512 final test", where.title.eq)
      assert.equal(target.run_step.run.where.status.eq, where.status.eq) -- the enum value, kept as it is
      assert.equal("Final test", m.target.run_step.title)
      -- the rule's own table is not changed: the next file gets its own copy
      assert.equal("%1 final test", target.run_step.run.where.title.eq)
      assert.equal("%2", rules.match(set, "SN1_x.csv") and target.run_step.title)
      assert.same({ part = { where = { partNumber = { eq = "PN-77" }, revision = { eq = "B" } } } },
        rules.match(set, "PN-77_B/scan.pdf").target)
      local f = rules.match(set, "F_88_a.csv").target.run_step_field
      assert.same({ run = "88", position = 2 }, f.run_step) -- a capture is a string: the library reads the id
      assert.equal("F_88_a.csv", f.label)
      assert.equal("function", type(f.name)) -- only strings are substituted; the library refuses the rest
      assert.same({ run = { where = { title = { eq = "V12" } } } }, rules.match(set, "V_12").target)
    end)

    it("loads a rules file with enum() for a where filter's enum value", function()
      local set = assert(rules.load(write_rules([[
        return { { match = "^(SN%d+)", target = { run = { where = { title = { eq = "%1 final test" },
          status = { eq = enum("IN_PROGRESS") } } } } } }]])))
      local where = rules.match(set, "SN7.csv").target.run.where
      assert.equal("SN7 final test", where.title.eq)
      assert.is_true(require("ion.upload.graphql.literal").is_enum(where.status.eq))
      assert.equal("IN_PROGRESS", where.status.eq.name)
      local err = load_error("return { { match = 'x', target = { run = { where = { s = { eq = enum('1x') } } } } } }")
      assert.matches("failed while running: .*enum expects a GraphQL enum name", err.message)
    end)

    it("names the place of a missing capture inside a target found by name", function()
      local err = match_error({ match = "RS(%d+)", target = { run_step = { run = 88, title = "%1 %3" } } })
      assert.matches("rule 1: target run_step.title refers to capture %%3", err.message)
      local cyclic = { eq = "x" }
      cyclic.self = cyclic
      err = match_error({ match = "RS(%d+)", target = { run = { where = cyclic } } })
      assert.matches("nests too deep", err.message)
    end)

    it("returns a default filename (nil) when the filename function returns nil", function()
      local set = assert(rules.compile({ { match = "^", target = { run = 1 }, filename = function() end } }))
      local m = rules.match(set, "a.csv")
      assert.is_nil(m.filename)
      assert.same({ run = 1 }, m.target)
    end)

    it("turns a raising or badly answering function into an error naming the rule and path, never a raise", function()
      local cases = {
        { { match = "RS(%d+)", target = function() error("lookup failed") end },
          "rule 1: target function raised: .*lookup failed %(for RS5/x%.csv%)" },
        { { match = "RS(%d+)", target = function() return "run_step=5" end },
          "rule 1: target function returned string, not a table" },
        { { match = "RS(%d+)", target = function() return { run_step = 5, run = 1 } end },
          "rule 1: target function returned a bad target: target must name exactly one" },
        { { match = "RS(%d+)", target = function() return { run_step = "five" } end },
          "rule 1: target function returned a bad target: target run_step: " },
        { { match = "RS(%d+)", target = { run_step = function() error({ code = 1 }) end } },
          "rule 1: target run_step function raised: table" },
        { { match = "RS(%d+)", target = { run_step = function() return -1 end } },
          "rule 1: target run_step must be a positive whole number, got %-1" },
        { { match = "RS(%d+)", target = { run_step = "%2" } },
          "rule 1: target run_step refers to capture %%2, but the pattern RS%(%%d%+%) captured 1" },
        { { match = "RS(%d+)", target = { run_step = "%1" }, filename = function() error("no name") end },
          "rule 1: filename function raised: .*no name" },
        { { match = "RS(%d+)", target = { run_step = "%1" }, filename = function() return "a/b.csv" end },
          "rule 1: filename must be a non%-empty name without /" },
        { { match = "RS(%d+)", target = { run_step = "%1" }, filename = function() return 5 end },
          "rule 1: filename must be a non%-empty name .*got 5" },
        { { match = "RS(%d+)", target = { run_step = "%1" }, filename = "%3.csv" },
          "rule 1: filename refers to capture %%3" },
      }
      for _, case in ipairs(cases) do
        local err = match_error(case[1])
        assert.matches("^rules test%.lua: " .. case[2], err.message)
      end
    end)
  end)

  describe("is_temporary", function()
    it("ignores hidden, ~, .tmp and .part names (any case), and nothing else", function()
      for _, name in ipairs({ ".x.csv", ".", "~lock.csv", "a.tmp", "A.TMP", "b.part", "c.csv.Part" }) do
        assert.is_true(rules.is_temporary(name), name)
      end
      for _, name in ipairs({ "a.csv", "tmp", "a.tmpx", "part.csv", "a~", "a.partial", "x.t.mp" }) do
        assert.is_false(rules.is_temporary(name), name)
      end
    end)
  end)
end)

describe("examples/rules_by_serial.lua", function()
  it("loads and maps serial-number file names to targets found by name", function()
    local set = assert(rules.load("examples/rules_by_serial.lua"))
    local sn = { where = { title = { eq = "SN004517 final test" } } }
    assert.same({ run_step = { run = sn, title = "Final test" } }, rules.match(set, "SN004517_final.csv", {}).target)
    assert.same({ run_step = { run = sn, position = 2 } }, rules.match(set, "SN004517_step2_torque.csv", {}).target)
    assert.same({ part = { where = { partNumber = { eq = "PN-77" }, revision = { eq = "B" } } } },
      rules.match(set, "PN-77_B_drawing.pdf", {}).target)
    local where = rules.match(set, "in-progress/SN004517.pdf", {}).target.run.where
    assert.equal("SN004517 final test", where.title.eq)
    assert.equal("IN_PROGRESS", where.status.eq.name)
    assert.is_nil(rules.match(set, "notes.txt", {}))
  end)
end)
