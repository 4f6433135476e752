-- integration: what a new user meets in the first hour, through bin/ion-upload
-- against the sandbox: help for every command, a usage for a bare call,
-- errors that are error objects (never "table: 0x…"), messages the scrubber
-- leaves whole, a failure of the whole run said once with its exit status,
-- a path said once per line, and hints in the CLI's own words.
local cjson = require("cjson")
local errors = require("ion.upload.errors")
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")

local function lines(text)
  local out = {}
  for l in text:gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

-- How many times `plain` (no pattern) occurs in text.
local function count(text, plain)
  return select(2, text:gsub(plain:gsub("%p", "%%%0"), ""))
end

describe("integration: ion-upload, a new user's first hour", function()
  local dir, many

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    many = {}
    for i = 1, 30 do many[i] = files.write(dir, string.format("f%02d.txt", i), "file " .. i .. "\n") end
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  describe("help", function()
    for _, argv in ipairs({ { "watch", "--help" }, { "watch", "-h" }, { "profiles", "--help" },
      { "verify", "--help" }, { "--help" } }) do
      it("`ion-upload " .. table.concat(argv, " ") .. "` prints its help and exits 0", function()
        local r = run.cli(argv)
        assert.equal(0, r.code, r.stderr)
        assert.matches("^Usage: ion%-upload", r.stdout)
        assert.equal("", r.stderr)
      end)
    end

    it("--help lists the commands", function()
      local r = run.cli({ "--help" })
      assert.matches("\nCommands:\n", r.stdout, 1, true)
      for _, c in ipairs({ "watch DIR", "verify", "profiles" }) do
        assert.matches("\n   " .. c .. " ", r.stdout, 1, true)
      end
    end)

    it("a bare `ion-upload` prints the usage and where to read more, exit 2", function()
      local r = run.cli({})
      assert.equal(2, r.code)
      assert.equal("", r.stdout)
      assert.matches("^Usage: ion%-upload", r.stderr)
      assert.matches("ion-upload watch DIR", r.stderr, 1, true)
      assert.matches("see ion-upload --help", r.stderr, 1, true)
      assert.not_matches("no target", r.stderr, 1, true)
    end)
  end)

  it("a watch of a missing folder: an error object in Lua, a readable line from the CLI", function()
    local client = sandbox.client()
    local w, err = client:watch(dir .. "/nodir", { target = { run_step = 1 } })
    client:close()
    assert.is_nil(w)
    assert.is_true(errors.is(err), "an ion.upload error")
    assert.equal("bad_input", err.code)
    assert.equal("dir", err.field)
    assert.is_string(err.hint)
    assert.is_false(err.retryable)
    assert.matches("^bad_input: watch: .*nodir: No such file", tostring(err))
    local r = run.cli({ "watch", dir .. "/nodir", "--run-step", "1" })
    assert.equal(2, r.code)
    assert.not_matches("table: 0x", r.stderr, 1, true)
    assert.matches("^ion%-upload: bad_input: watch: .*nodir: No such file or directory %(", r.stderr)
  end)

  it("says 'the bearer token' whole: the scrubber removes credentials, not the word", function()
    local r = run.cli({ "--endpoint", "http://10.255.255.1/graphql", "--run-step", "1", "f" })
    assert.equal(2, r.code)
    assert.matches("plain http:// would send the bearer token in clear", r.stderr, 1, true)
  end)

  describe("a failure of the whole run is said once", function()
    it("a rejected token over 30 files: one line, the summary, exit 2", function()
      local args = { "--run-step", "1" }
      for _, f in ipairs(many) do args[#args + 1] = f end
      local r = run.cli(args, { ION_TOKEN = "sbx_bogus_token_123" })
      assert.equal(2, r.code, r.stderr)
      local err = lines(r.stderr)
      assert.equal(2, #err, r.stderr)
      assert.matches("^ion%-upload: stopped: auth: GraphQL endpoint answered 401", err[1])
      assert.matches("ION_TOKEN", err[1], 1, true) -- the CLI's hint
      assert.matches("^ion%-upload: 0 attached, 0 skipped, 30 failed; 0 B in %d", err[2])
      assert.not_matches("sbx_bogus_token_123", r.stdout .. r.stderr, 1, true)
    end)

    it("with --json every file still gets its line, in input order, with the same code", function()
      local args = { "--run-step", "1", "--json" }
      for _, f in ipairs(many) do args[#args + 1] = f end
      local r = run.cli(args, { ION_TOKEN = "sbx_bogus_token_123" })
      assert.equal(2, r.code, r.stderr)
      local out = lines(r.stdout)
      assert.equal(30, #out)
      for i, l in ipairs(out) do
        local rec = cjson.decode(l)
        assert.equal(many[i], rec.path)
        assert.is_false(rec.ok)
        assert.equal("auth", rec.error.code)
      end
      assert.equal(1, count(r.stderr, "stopped: auth"))
      assert.equal(0, count(r.stderr, "FAIL"))
    end)

    it("a dry run with a rejected token: one line and the totals, exit 2 (--json: every file's line)", function()
      local args = { "--run-step", "1", "--dry-run" }
      for _, f in ipairs(many) do args[#args + 1] = f end
      local r = run.cli(args, { ION_TOKEN = "sbx_bogus_token_123" })
      assert.equal(2, r.code, r.stderr)
      assert.equal("", r.stdout)
      local err = lines(r.stderr)
      assert.equal(2, #err, r.stderr)
      assert.matches("^ion%-upload: stopped: auth: ", err[1])
      assert.matches("^ion%-upload: dry run: 30 files", err[2])
      args[#args + 1] = "--json"
      r = run.cli(args, { ION_TOKEN = "sbx_bogus_token_123" })
      assert.equal(2, r.code, r.stderr)
      assert.equal(31, #lines(r.stdout)) -- 30 files and the totals
      assert.equal(1, count(r.stderr, "stopped: auth"))
      assert.not_matches("sbx_bogus_token_123", r.stdout .. r.stderr, 1, true)
    end)

    it("an endpoint that is not ION (a 404, an HTML page): one line, exit 2", function()
      local s = sandbox.get()
      local not_ion = s.graphql:gsub("/graphql$", "/nothing")
      local r = run.cli({ "--run-step", "1", many[1], many[2], many[3] }, { ION_API_URL = not_ion })
      assert.equal(2, r.code, r.stderr)
      assert.equal(2, #lines(r.stderr), r.stderr)
      assert.matches("^ion%-upload: stopped: protocol: GraphQL endpoint answered HTTP 404", r.stderr)
      sandbox.admin("POST", "/hostile", { mode = "html_200", count = 100 })
      r = run.cli({ "--run-step", "1", many[1], many[2], many[3] })
      assert.equal(2, r.code, r.stderr)
      assert.equal(2, #lines(r.stderr), r.stderr)
      assert.matches("^ion%-upload: stopped: protocol: GraphQL endpoint answered HTTP 200 with an HTML page", r.stderr)
    end)

    it("`ion-upload watch` with a rejected token stops by itself: one line, exit 2", function()
      local inbox = dir .. "/inbox"
      assert(os.execute("mkdir -p '" .. inbox .. "'"))
      for i = 1, 3 do files.write(inbox, "w" .. i .. ".txt", "w" .. i) end
      for _, once in ipairs({ true, false }) do
        local args = { "watch", inbox, "--run-step", "1", "--settle", "0" }
        if once then args[#args + 1] = "--once" end
        local pid, _, err, code = run.background(args, { ION_TOKEN = "sbx_bogus_token_123" })
        assert.is_true(run.wait_exit(pid, 30), "the watch ended by itself")
        assert.equal(2, code())
        local text = run.read(err)
        os.remove(err)
        assert.equal(1, count(text, "ion-upload: stopped: auth: GraphQL endpoint answered 401"), text)
        assert.equal(0, count(text, "FAIL"), text)
      end
    end)
  end)

  it("names the file once in its line; the --json message keeps it", function()
    local r = run.cli({ "--run-step", "99999", many[1] })
    assert.equal(1, r.code)
    assert.equal(1, count(r.stderr, many[1]), r.stderr)
    assert.matches("FAIL  " .. many[1] .. ": not_found: run_step 99999 not found (", r.stderr, 1, true)
    r = run.cli({ "--run-step", "99999", "--json", many[1] })
    assert.equal(many[1] .. ": run_step 99999 not found", cjson.decode(r.stdout).error.message)
  end)

  it("gives hints in the CLI's words: its flags, or that it has none", function()
    for _, case in ipairs({
      { { "--endpoint", "http://10.255.255.1/graphql", "--run-step", "1", "f" }, "the CLI has no flag for plain http" },
      { { "--proxy", "ftp://proxy:21", "--run-step", "1", "f" }, "Give --proxy a URL" },
    }) do
      local r = run.cli(case[1])
      assert.equal(2, r.code)
      assert.matches(case[2], r.stderr, 1, true)
      for _, lua_word in ipairs({ "upload.new", "allow_http", "the field" }) do
        assert.not_matches(lua_word, r.stderr, 1, true)
      end
    end
  end)
end)
