-- Unit spec: targets found by name as the command line writes them: the
-- field=value syntax (cli/filters.lua), the manifest's RUN/TITLE and the
-- target flags (cli/target_text.lua, cli/flags.lua through cli_args and
-- watch's parsers). Pure functions: no client, no network (the real CLI
-- against the sandbox: spec/integration/cli_lookups_spec.lua).
local filters = require("ion.upload.cli.filters")
local target_text = require("ion.upload.cli.target_text")
local cli_args = require("ion.upload.cli.args")
local watch_cli = require("ion.upload.cli.watch")
local literal = require("ion.upload.graphql.literal")
local slowdown = require("support.slowdown")

local SN = { where = { title = { eq = "SN004512 final test" } } }

describe("cli/filters.lua: field=value[,field=value...]", function()
  it("reads pairs in the order written, values as written (spaces kept)", function()
    assert.same({ { "partNumber", "PN-77" }, { "revision", "B" } }, filters.pairs("partNumber=PN-77,revision=B"))
    assert.same({ { "title", " SN1 final test " } }, filters.pairs("title= SN1 final test "))
    assert.same({ title = { eq = "SN004512 final test" } }, filters.where("title=SN004512 final test"))
    assert.same({ { "title", "a/b #1" } }, filters.pairs("title=a/b #1")) -- / and # need no escape here
  end)

  it("reads \\, \\= \\\\ \\/ \\# as the character, and escape() round-trips any value", function()
    assert.same({ { "title", "a,b=c\\d/e#f" } }, filters.pairs("title=a\\,b\\=c\\\\d\\/e\\#f"))
    local values = { "plain", "a,b", "x=y", "back\\slash", "end\\", "\\,\\=", ",,,", "a/b", "===", "ü ñ 漢" }
    for _, v in ipairs(values) do
      local text = "serial=" .. filters.escape(v) .. ",title=" .. filters.escape(v .. "2")
      assert.same({ { "serial", v }, { "title", v .. "2" } }, filters.pairs(text), text)
      assert.equal(text, filters.text(filters.where(text)))
    end
  end)

  it("refuses bad input with the rule broken", function()
    local cases = {
      { "", "is empty" },
      { "title", "'title' is no field=value pair" },
      { "title=a,b", "'b' is no field=value pair" },
      { "title=a,,b=c", "empty pair" },
      { "title=a,", "empty pair" },
      { "=a", "no field name before its '='" },
      { "title =a", "'title ' is not a GraphQL name" },
      { "part-number=a", "'part-number' is not a GraphQL name" },
      { "1x=a", "is not a GraphQL name" },
      { "title=", "title has no value" },
      { "title=a,title=b", "names title twice" },
      { "title=a=b", "holds an '=' (write \\= for one" },
      { "title=a\\n", "\\n, which is no escape" },
      { "title=a\\", "ends in a lone \\" },
      { "title=" .. ("x"):rep(1001), "the value of title is 1001 characters long; at most 1000" },
    }
    for _, c in ipairs(cases) do
      local v, err = filters.pairs(c[1])
      assert.is_nil(v, c[1])
      assert.matches(c[2], err, 1, true)
    end
    assert.truthy(filters.pairs("title=" .. ("x"):rep(1000)))
    local many = {}
    for i = 1, filters.max_pairs + 1 do many[i] = "f" .. i .. "=v" end
    assert.matches("more than 20 pairs", select(2, filters.pairs(table.concat(many, ","))), 1, true)
    assert.matches("longer than", select(2, filters.pairs(("a"):rep(filters.max_text + 1))), 1, true)
  end)

  it("is linear: 30,000 characters of escapes and commas in well under a second", function()
    -- a hang guard, not a benchmark: natively about 0.2 s; valgrind's
    -- simulated CPU and ASan's allocator scale it (spec/support/slowdown.lua)
    local ceiling = 1 * slowdown
    local t0 = os.clock()
    for _ = 1, 20 do
      filters.pairs("title=" .. ("\\,"):rep(15000))
      filters.split(("\\/"):rep(15000) .. "/x")
      filters.unescape(("\\\\"):rep(15000))
    end
    local took = os.clock() - t0
    assert.is_true(took < ceiling, "took " .. took .. " s, ceiling " .. ceiling .. " s")
  end)

  it("splits at the slashes no backslash escapes, keeping the escapes", function()
    assert.same({ "title=a\\/b", "Final test" }, filters.split("title=a\\/b/Final test"))
    assert.same({ "88", "", "x" }, filters.split("88//x"))
    assert.same({ "a\\\\", "b" }, filters.split("a\\\\/b")) -- an escaped backslash, then a real slash
    assert.is_nil(filters.split("a\\qb"))
    assert.equal("a/b#", filters.unescape("a\\/b\\#"))
  end)

  it("text() gives nil for a filter that is not only equalities", function()
    assert.is_nil(filters.text({ status = { ["in"] = { "A" } } }))
    assert.is_nil(filters.text({ title = { eq = "a", neq = "b" } }))
    assert.is_nil(filters.text({}))
  end)
end)

describe("cli/target_text.lua", function()
  it("reads a manifest's id column for each target word", function()
    local cases = {
      { "run_step", "412", 412 },
      { "run_step", "88/Final test", { run = 88, title = "Final test" } },
      { "run_step", "title=SN004512 final test/Final test", { run = SN, title = "Final test" } },
      { "run_step", "88/#3", { run = 88, position = 3 } },
      { "run_step", "88/\\#3", { run = 88, title = "#3" } },
      { "run_step", "title=a\\/b/c\\/d", { run = { where = { title = { eq = "a/b" } } }, title = "c/d" } },
      { "run", "title=SN004512 final test", SN },
      { "run", "7", 7 },
      { "part", "partNumber=PN-77,revision=B", { where = { partNumber = { eq = "PN-77" }, revision = { eq = "B" } } } },
      { "part", "partNumber=PN/77", { where = { partNumber = { eq = "PN/77" } } } },
      { "run_step_field", "31", 31 },
      { "run_step_field", "412/Torque log", { run_step = 412, name = "Torque log" } },
      { "run_step_field", "88/Final test/Torque log", { run_step = { run = 88, title = "Final test" },
        name = "Torque log" } },
      { "entity_id", "abc-9", "abc-9" },
    }
    for _, c in ipairs(cases) do
      assert.same(c[3], (target_text.manifest(c[1], c[2])), c[1] .. " " .. c[2])
    end
  end)

  it("refuses a manifest id it cannot read, saying the form", function()
    local cases = {
      { "run_step", "Final test", "is not a run_step: write RUN_STEP_ID, or RUN/TITLE" },
      { "run_step", "88/a/b", "has 2 unescaped '/'" },
      { "run_step", "88/", "the run step's title is empty" },
      { "run_step", "title=/x", "title has no value" },
      { "run_step", "x/Final test", "expects a run id" },
      { "run_step", "88/#0", "position #0 is out of range" },
      { "run_step_field", "x/Torque log", "the run step 'x' is no id: write FIELD_ID, RUN_STEP_ID/NAME" },
      { "run", "SN004512", "expects a run id (a positive whole number) or field=value filters" },
      { "run_step_field", "412/", "the field's name is empty" },
    }
    for _, c in ipairs(cases) do
      local v, err = target_text.manifest(c[1], c[2])
      assert.is_nil(v, c[2])
      assert.matches(c[3], err, 1, true)
    end
  end)

  it("describes a target in words, in the syntax the CLI reads", function()
    assert.equal("run 88", target_text.describe({ run = 88 }))
    assert.equal("run title=SN004512 final test", target_text.describe({ run = SN }))
    assert.equal("part partNumber=PN-77,revision=B",
      target_text.describe({ part = { where = { revision = { eq = "B" }, partNumber = { eq = "PN-77" } } } }))
    assert.equal("run_step 'Final test' of run title=SN004512 final test",
      target_text.describe({ run_step = { run = SN, title = "Final test" } }))
    assert.equal("run_step #3 of run 88", target_text.describe({ run_step = { run = 88, position = 3 } }))
    assert.equal("run_step_field 'Torque log' of run_step 'Final test' of run 88",
      target_text.describe({ run_step_field = { run_step = { run = 88, title = "Final test" }, name = "Torque log" } }))
    assert.equal("run {status: {eq: IN_PROGRESS}}",
      target_text.describe({ run = { where = { status = { eq = literal.enum("IN_PROGRESS") } } } }))
    assert.is_true(target_text.is_lookup({ run = SN }))
    assert.is_false(target_text.is_lookup({ run = 88 }))
  end)
end)

describe("the target flags with names (ion-upload and watch)", function()
  local PARSE = {
    upload = function(list)
      local argv = {}
      for _, v in ipairs(list) do argv[#argv + 1] = v end
      argv[#argv + 1] = "f"
      return cli_args.parse(argv)
    end,
    watch = function(list) return watch_cli.parse({ "dir", (table.unpack or unpack)(list) }) end,
  }

  it("read filters, titles in a run and positions into the library's targets", function()
    local cases = {
      { { "--run", "title=SN004512 final test" }, { run = SN } },
      { { "--part", "partNumber=PN-77,revision=B" },
        { part = { where = { partNumber = { eq = "PN-77" }, revision = { eq = "B" } } } } },
      { { "--procedure", "title=Final assembly" }, { procedure = { where = { title = { eq = "Final assembly" } } } } },
      { { "--step", "title=Torque" }, { step = { where = { title = { eq = "Torque" } } } } },
      { { "--run-step", "412" }, { run_step = 412 } },
      { { "--run-step", "Final test", "--in-run", "title=SN004512 final test" },
        { run_step = { run = SN, title = "Final test" } } },
      { { "--run-step", "Final test", "--in-run", "88" }, { run_step = { run = 88, title = "Final test" } } },
      -- with --in-run the value is a title, even one of digits; taken as written (no escapes)
      { { "--in-run", "88", "--run-step", "a\\,b" }, { run_step = { run = 88, title = "a\\,b" } } },
      { { "--run-step-position", "3", "--in-run", "88" }, { run_step = { run = 88, position = 3 } } },
      { { "--run-step-field", "Torque log", "--run-step", "412" }, { run_step_field = { run_step = 412,
        name = "Torque log" } } },
      { { "--run-step-field", "Torque log", "--run-step", "Final test", "--in-run", "88" },
        { run_step_field = { run_step = { run = 88, title = "Final test" }, name = "Torque log" } } },
      { { "--run-step-field", "31" }, { run_step_field = 31 } },
    }
    for name, parse in pairs(PARSE) do
      for _, c in ipairs(cases) do
        local args, err = parse(c[1])
        assert(args, name .. " " .. table.concat(c[1], " ") .. ": " .. tostring(err))
        assert.same(c[2], args.target, name .. " " .. table.concat(c[1], " "))
      end
    end
  end)

  it("refuse what is missing or too much, with the rule (exit 2 in the CLI)", function()
    local cases = {
      { { "--run-step", "Final test" }, "--run-step 'Final test' names a run step by its title: add --in-run RUN" },
      { { "--in-run", "88" }, "--in-run names the run of --run-step TITLE or --run-step-position N: add one" },
      { { "--run-step-position", "3" }, "--run-step-position N needs --in-run RUN" },
      { { "--run-step-position", "0", "--in-run", "8" }, "--run-step-position expects a position (1, 2, ...)" },
      { { "--run-step-position", "x", "--in-run", "8" }, "--run-step-position expects a position" },
      { { "--run-step-position", "2", "--run-step", "A", "--in-run", "8" }, "give one" },
      { { "--run-step", "A", "--in-run", "8", "--part", "3" }, "two targets (--run-step and --part)" },
      { { "--run-step", "A", "--in-run", "title=" }, "--in-run 'title=': title has no value" },
      { { "--run-step", "A", "--in-run", "SN1" }, "--in-run expects a run id (a positive whole number) or" },
      { { "--run-step", "", "--in-run", "8" }, "--run-step's title is empty" },
      { { "--run-step-field", "Torque log" }, "names a field by its name: add its run step" },
      { { "--run", "title=a,serial" }, "--run 'title=a,serial': 'serial' is no field=value pair" },
      { { "--run", "ti tle=a" }, "is not a GraphQL name" },
      { { "--run", "title=" .. ("x"):rep(1001) }, "1001 characters long; at most 1000" },
      { { "--run-step", "title=x" }, "names a run step by its title: add --in-run" },
      { { "--entity-id", "a=b c" }, "--entity-id expects an entity id" },
    }
    for name, parse in pairs(PARSE) do
      for _, c in ipairs(cases) do
        local args, err = parse(c[1])
        assert.is_nil(args, name .. " " .. table.concat(c[1], " "))
        assert.matches(c[2], err, 1, true)
      end
    end
  end)

  it("watch --target-wait S: seconds >= 0", function()
    assert.equal(120, assert(watch_cli.parse({ "d", "--run", "title=x", "--target-wait", "120" })).target_wait)
    assert.is_nil(assert(watch_cli.parse({ "d", "--run", "1" })).target_wait) -- the library's default (3600)
    local _, err = watch_cli.parse({ "d", "--run", "1", "--target-wait", "-1" })
    assert.matches("--target-wait expects a number >= 0", err, 1, true)
  end)

  it("ion-upload --manifest refuses --in-run and --run-step-position", function()
    local _, err = cli_args.parse({ "--manifest", "m.csv", "--in-run", "88" })
    assert.matches("drop --in-run", err, 1, true)
    _, err = cli_args.parse({ "--manifest", "m.csv", "--run-step-position", "2" })
    assert.matches("drop --run-step-position", err, 1, true)
  end)
end)
