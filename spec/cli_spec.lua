-- Unit spec: the CLI's flags, configuration, output lines and progress
-- display (no network, no child process; the real CLI runs in
-- spec/integration/cli_spec.lua).
local cjson = require("cjson")
local cli_args = require("ion.upload.cli.args")
local output = require("ion.upload.cli.output")
local progress = require("ion.upload.cli.progress_bars")
local errors = require("ion.upload.errors")
local hints = require("ion.upload.cli.hints")

local unpack = unpack or table.unpack -- luacheck: ignore 143
local function env(t) return function(name) return t[name] end end

describe("ion.upload.cli.args", function()
  it("takes one target and files", function()
    local a = assert(cli_args.parse({ "--run-step", "12", "--concurrency", "8", "--window", "1", "a", "b" }, "0.1.0"))
    assert.same({ run_step = 12 }, a.target)
    assert.same({ "a", "b" }, a.files)
    assert.equal(8, a.concurrency)
    assert.equal(1, a.window)
    assert.is_true(a.validate and a.verify_md5)
    local e = assert(cli_args.parse({ "--entity-id", "abc-9", "--no-validate", "--no-verify-md5", "x" }))
    assert.same({ entity_id = "abc-9" }, e.target)
    assert.is_false(e.validate or e.verify_md5)
  end)

  it("says what to fix on bad usage", function()
    local cases = {
      { {}, "no target" },
      { { "f" }, "no target" },
      { { "--run", "1", "--step", "2", "f" }, "two targets (--run and --step)" },
      { { "--part", "3.5", "f" }, "--part expects a positive whole number" },
      { { "--part", "3" }, "no files" },
      { { "--manifest", "m.csv", "f" }, "drop the FILE arguments" },
      { { "--run", "1", "--concurrency", "x", "f" }, "--concurrency expects" },
      { { "--run", "1", "--endpoint", "http://a/graphql", "--environment", "staging", "f" }, "give one" },
      { { "--run", "1", "--environment", "mars", "f" }, "unknown --environment 'mars'" },
      { { "--frobnicate" }, "unknown option '--frobnicate'" },
    }
    for _, c in ipairs(cases) do
      local a, msg = cli_args.parse(c[1])
      assert.is_nil(a)
      assert.matches(c[2], msg, 1, true)
    end
  end)

  it("reads the endpoint and credentials from the environment; flags win", function()
    local a = assert(cli_args.parse({ "--run", "1", "f" }))
    local cfg = assert(cli_args.client_config(a, env({ ION_API_URL = "https://x/graphql", ION_TOKEN = "t" })))
    assert.same({ endpoint = "https://x/graphql", token = "t" }, { endpoint = cfg.endpoint, token = cfg.token })
    local b = assert(cli_args.parse({ "--run", "1", "--environment", "staging", "f" }))
    cfg = assert(cli_args.client_config(b, env({ ION_API_URL = "https://x/graphql", ION_CLIENT_ID = "id",
      ION_CLIENT_SECRET = "s" })))
    assert.equal("staging", cfg.environment)
    assert.is_nil(cfg.endpoint)
    assert.same({ "id", "s" }, { cfg.client_id, cfg.client_secret })
    local _, msg = cli_args.client_config(a, env({ ION_API_URL = "https://x/graphql" }))
    assert.matches("no credentials", msg)
    _, msg = cli_args.client_config(a, env({ ION_TOKEN = "t" }))
    assert.matches("no endpoint", msg)
    _, msg = cli_args.client_config(a, env({ ION_API_URL = "https://x/graphql", ION_CLIENT_ID = "id" }))
    assert.matches("ION_CLIENT_SECRET", msg)
  end)

  describe("proxy", function()
    local base = { ION_TOKEN = "t" }
    local function cfg_for(argv, vars)
      local t = {}
      for k, v in pairs(base) do t[k] = v end
      for k, v in pairs(vars) do t[k] = v end
      return assert(cli_args.client_config(assert(cli_args.parse(argv)), env(t)))
    end
    local https = { "--run", "1", "--endpoint", "https://ion.example/graphql", "f" }
    local http = { "--run", "1", "--endpoint", "http://127.0.0.1:9/graphql", "f" }

    it("--proxy wins over the environment; a bare host:port means http://", function()
      local cfg = cfg_for({ "--proxy", "http://flag:1", unpack(https) }, { https_proxy = "http://env:2" })
      assert.equal("http://flag:1", cfg.proxy)
      cfg = cfg_for({ "--proxy", "flag:1", unpack(https) }, {})
      assert.equal("http://flag:1", cfg.proxy)
    end)

    it("--proxy '' uses no proxy whatever the environment says", function()
      local cfg = cfg_for({ "--proxy", "", unpack(https) }, { https_proxy = "http://env:2", all_proxy = "http://a:3" })
      assert.is_nil(cfg.proxy)
    end)

    it("without --proxy, reads the variable curl reads for the endpoint's scheme", function()
      assert.equal("http://s:1", cfg_for(https, { https_proxy = "http://s:1", HTTPS_PROXY = "http://S:2" }).proxy)
      assert.equal("http://S:2", cfg_for(https, { HTTPS_PROXY = "http://S:2", http_proxy = "http://h:3" }).proxy)
      assert.equal("http://h:3", cfg_for(http, { http_proxy = "h:3", https_proxy = "http://s:1" }).proxy)
      -- curl ignores HTTP_PROXY (a CGI program gets it from a request's Proxy header)
      assert.is_nil(cfg_for(http, { HTTP_PROXY = "http://H:4" }).proxy)
      assert.equal("http://a:5", cfg_for(http, { HTTP_PROXY = "http://H:4", all_proxy = "http://a:5" }).proxy)
      assert.equal("http://A:6", cfg_for(https, { ALL_PROXY = "http://A:6" }).proxy)
      assert.equal("https://p:7", cfg_for({ "--run", "1", "--environment", "staging", "f" },
        { https_proxy = "https://p:7" }).proxy)
      assert.is_nil(cfg_for(https, { https_proxy = "" }).proxy)
      assert.is_nil(cfg_for(https, {}).proxy)
    end)

    it("reads no_proxy, then NO_PROXY", function()
      assert.equal("a,b", cfg_for(https, { no_proxy = "a,b", NO_PROXY = "c" }).no_proxy)
      assert.equal("c", cfg_for(https, { NO_PROXY = "c" }).no_proxy)
      assert.equal(".lan", cfg_for({ "--proxy", "p:1", unpack(https) }, { no_proxy = ".lan" }).no_proxy)
      assert.is_nil(cfg_for(https, {}).no_proxy)
    end)
  end)
end)

describe("ion.upload.cli.output", function()
  it("writes the JSON line docs/api.md gives (\"--json\"), keys in order, plain slashes", function()
    local line = output.json_line("/d/a.jpg", { ok = true, skipped = true, attachment = {
      id = 4242, entityId = "9876", filename = "a.jpg", size = 5, md5 = "abc", downloadUrl = "https://s/x?sig" } })
    assert.equal('{"path":"/d/a.jpg","ok":true,"id":4242,"entityId":"9876","filename":"a.jpg","size":5,'
      .. '"md5":"abc","skipped":true}', line)
    local err = errors.new("not_found", "run_step 9 not found")
    local f = cjson.decode(output.json_line("b", { ok = false, err = err }))
    -- the hint in the CLI's words (cli/hints.lua): its flags, not the Lua API's keys
    assert.same({ path = "b", ok = false, error = { code = "not_found", message = "run_step 9 not found",
      hint = hints.codes.not_found } }, f)
  end)

  it("marks a file registered again after an earlier run's registration was in doubt", function()
    local line = output.json_line("a", { ok = true, was_in_doubt = true, attachment = { id = 1 } })
    assert.matches(',"was_in_doubt":true}$', line)
    assert.not_matches("was_in_doubt", output.json_line("a", { ok = true, attachment = { id = 1 } }), 1, true)
  end)

  it("writes sizes and rates, a rate under 1 KiB/s too (a small file on a terminal)", function()
    assert.same({ "0 B", "119 B", "1023 B", "1.0 KiB", "1.5 MiB" },
      { output.size(nil), output.size(6 / 0.0503), output.size(1023.9), output.size(1024), output.size(1.5 * 2 ^ 20) })
  end)

  it("keeps one file to one plain line: control characters in names are escaped", function()
    local line = output.plain_line("evil\r\nok    forged.jpg\27[2J", { ok = false,
      err = errors.new("bad_input", "cannot read evil\nname") })
    assert.not_matches("[\r\n\27]", line)
    assert.matches("evil\\013\\010ok", line)
    assert.matches("\\027%[2J", line)
  end)

  it("escapes what a server gave too: the attachment's id and entityId, C1 controls (U+009B)", function()
    local att = { id = "1\27[2J\r\nok    forged.jpg", entityId = "7\194\155" .. "31m\7", size = 3 }
    local line = output.plain_line("a.jpg", { ok = true, attachment = att })
    assert.not_matches("[\r\n\27\7]", line)
    assert.not_matches("\194\155", line, 1, true)
    assert.matches("attachment 1\\027[2J\\013\\010ok", line, 1, true)
    assert.matches("on entity 7\\194\\15531m\\007", line, 1, true)
    local skip = output.plain_line("a.jpg", { ok = true, skipped = true, attachment = att })
    assert.not_matches("[\r\n\27]", skip)
    assert.equal("caf\195\169", output.printable("caf\195\169")) -- other UTF-8 stays as it is
  end)
end)

describe("ion.upload.cli.progress_bars", function()
  it("shows bytes, files, rate and ETA, and the files moving", function()
    local t = 0
    local sink = { text = {} }
    function sink.write(_, ...) for _, s in ipairs({ ... }) do sink.text[#sink.text + 1] = s end end
    function sink.flush() end
    local d = progress.new({ out = sink, width = 80, now = function() return t end, files = 2, bytes = 2048 })
    d:set_size(1, 1024)
    d:set_size(2, 1024)
    d:event({ type = "start", index = 1, path = "a.bin", total = 1024 })
    t = 1
    d:event({ type = "progress", index = 1, path = "a.bin", bytes = 512, total = 1024 })
    local lines = d:lines()
    assert.matches("^%[=+> +%]  25%%  0/2 files  512 B/2.0 KiB  512 B/s  ETA 0:03$", lines[1])
    assert.matches("a.bin  50%% of 1.0 KiB", lines[2])
    assert.is_true(#lines[1] <= 80)
    d:event({ type = "done", index = 1, path = "a.bin" })
    d:event({ type = "error", index = 2, path = "b.bin" })
    lines = d:lines()
    assert.matches("100%%  2/2 files", lines[1])
    assert.equal(1, #lines)
    d:message("FAIL b.bin")
    local all = table.concat(sink.text)
    assert.matches("\27%[%d+A\27%[J", all)
    assert.matches("FAIL b.bin\n", all, 1, true)
  end)
end)
