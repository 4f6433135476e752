-- Unit spec: the CLI's own words (cli/hints.lua, cli/help.lua, the plain
-- line of cli_output): no hint of the library that names a Lua option
-- reaches a CLI user, a file's line names its path once, and -h/--help is
-- found before a parser would miss a required argument. No network.
local upload = require("ion.upload")
local errors = require("ion.upload.errors")
local output = require("ion.upload.cli.output")
local hints = require("ion.upload.cli.hints")
local help = require("ion.upload.cli.help")

-- Words of the Lua API a CLI user can do nothing with.
local LUA_WORDS = { "upload.new", "allow_http", "verify_md5", "stall_timeout", "run_step", "entity_id", "entity {",
  "the table", "filename option", " = " }

local function no_lua_words(hint, what)
  assert.is_string(hint, what)
  for _, w in ipairs(LUA_WORDS) do
    assert.not_matches(w, hint, 1, true, what .. ": " .. hint)
  end
end

describe("ion.upload.cli.hints", function()
  it("says every bad field of upload.new in the CLI's words", function()
    local https = "https://ion.test/graphql"
    local cases = {
      { endpoint = "http://10.255.255.1/graphql", token = "t" },
      { endpoint = "ion.test", token = "t" },
      { environment = "moon", token = "t" },
      { endpoint = https },
      { endpoint = https, token = "" },
      { endpoint = https, client_id = "", client_secret = "s", auth_url = "https://ion.test/token" },
      { endpoint = https, client_id = "c", client_secret = "", auth_url = "https://ion.test/token" },
      { endpoint = https, client_id = "c", client_secret = "s", auth_url = "http://10.0.0.1/token" },
      { endpoint = https, client_id = "c", client_secret = "s" },
      { endpoint = https, token = "t", proxy = "ftp://proxy" },
      { endpoint = https, token = "t", no_proxy = 42 },
      { endpoint = https, token = "t", limit_rate = 0 },
      { endpoint = https, token = "t", concurrency = 0 },
    }
    for i, cfg in ipairs(cases) do
      local c, err = upload.new(cfg)
      assert.is_nil(c)
      assert.equal("bad_input", err.code)
      no_lua_words(hints.of(err), "case " .. i .. " (" .. tostring(err.field) .. ")")
      assert.matches(hints.of(err), hints.text(err), 1, true)
    end
    local _, err = upload.new({ endpoint = "http://10.255.255.1/graphql", token = "t" })
    assert.matches("the CLI has no flag for plain http", hints.of(err), 1, true)
  end)

  it("says the library's default hints in the CLI's words where they name a Lua option", function()
    for code in pairs(errors.codes) do
      no_lua_words(hints.of(errors.new(code, "x")), code)
    end
    -- and the phrases of longer hints
    no_lua_words(hints.of(errors.new("etag_mismatch", "x", { hint = errors.hints.etag_mismatch
      .. "; if the bucket uses SSE-KMS the ETag is no MD5: set verify_md5 = false" })), "etag_mismatch")
    assert.matches("--no-verify-md5", hints.of(errors.new("etag_mismatch", "x", { hint = "set verify_md5 = false" })),
      1, true)
  end)

  it("keeps a hint that names no Lua option", function()
    local e = errors.new("bad_input", "cannot write journal j", { hint = "Free some disk space" })
    assert.equal("Free some disk space", hints.of(e))
    assert.equal("bad_input: cannot write journal j (Free some disk space)", hints.text(e))
  end)
end)

describe("ion.upload.cli.cli_output plain lines", function()
  it("names the file once: the message's leading path is left out, the library's name for it too", function()
    local e = errors.new("not_found", "/d/log.txt: run_step 9 not found")
    assert.equal("FAIL  /d/log.txt: not_found: run_step 9 not found (" .. hints.codes.not_found .. ")",
      output.plain_line("/d/log.txt", { ok = false, err = e }))
    -- the watch names a file by its path relative to the folder, the library by its whole path
    assert.equal("FAIL  log.txt: not_found: run_step 9 not found (" .. hints.codes.not_found .. ")",
      output.plain_line("log.txt", { ok = false, err = e }, "/d/log.txt"))
    -- a message that does not start with the path stays whole
    e = errors.new("http", "PUT to storage: answered 500 for /d/log.txt")
    assert.matches(": http: PUT to storage: answered 500 for /d/log.txt (",
      output.plain_line("/d/log.txt", { ok = false, err = e }), 1, true)
  end)

  it("leaves out a file's line when its failure is the run's reason to stop (said once), not when in doubt", function()
    local why = errors.new("auth", "GraphQL endpoint answered 401 Unauthorized")
    assert.is_true(output.same_failure(errors.copy(why), why))
    assert.is_true(output.same_failure(errors.new("auth", "/d/a: GraphQL endpoint answered 401 Unauthorized"), why))
    assert.is_false(output.same_failure(errors.new("bad_input", "GraphQL endpoint answered 401 Unauthorized"), why))
    assert.is_false(output.same_failure(errors.in_doubt("auth", "GraphQL endpoint answered 401 Unauthorized"), why))
    assert.is_false(output.same_failure(errors.new("auth", "token function returned no token"), why))
    assert.is_false(output.same_failure(errors.copy(why), nil))
  end)
end)

describe("ion.upload.cli.help", function()
  it("finds -h or --help anywhere before --", function()
    assert.is_true(help.wanted({ "--help" }))
    assert.is_true(help.wanted({ "dir", "--run-step", "1", "-h" }))
    assert.is_false(help.wanted({ "dir", "--", "--help" }))
    assert.is_false(help.wanted({ "--helpful" }))
    assert.is_false(help.wanted({}))
  end)
end)
