-- Unit spec: the flags ion-upload, `watch` and `verify` share
-- (lua/ion/upload/cli/flags.lua). Each is read to the same value and refused
-- with the same message by every command that takes it, and reaches the
-- client (upload.new's checked configuration and the requests it builds);
-- a profile sets the same settings and the flags win. Clients are made,
-- never used: no network (the real CLI: spec/integration/watch_flags_spec.lua).
local cli_args = require("ion.upload.cli.args")
local watch_cli = require("ion.upload.cli.watch")
local verify_cli = require("ion.upload.cli.verify")
local profiles = require("ion.upload.cli.profiles")
local storage = require("ion.upload.storage")
local transport = require("ion.upload.transport")
local core = require("ion.upload.core")
local files = require("support.files")

local function getenv_of(t) return function(k) return t[k] end end
local ENV = getenv_of({ ION_API_URL = "https://ion.example/graphql", ION_TOKEN = "t" })

local function join(...)
  local out = {}
  for _, list in ipairs({ ... }) do
    for _, v in ipairs(list) do out[#out + 1] = v end
  end
  return out
end

-- Each command's parse, the flags under test put among its own words.
local PARSE = {
  upload = function(extra) return cli_args.parse(join({ "--run", "1", "-r" }, extra, { "f" })) end,
  watch = function(extra) return watch_cli.parse(join({ "dir", "--run", "1" }, extra)) end,
  verify = function(extra) return verify_cli.parse(join({ "7" }, extra)) end,
}
local CONNECTION = { "upload", "watch", "verify" } -- commands with the connection flags
local UPLOADING = { "upload", "watch" }           -- and with the upload flags

describe("cli/flags.lua: the shared flags", function()
  local dir, ca
  setup(function()
    dir = files.tmpdir()
    ca = files.write(dir, "ca.pem", "-----BEGIN CERTIFICATE-----\n")
  end)
  teardown(function() files.rmdir(dir) end)

  it("--ca-file, --timeout, --stall-timeout, --retries and -v reach the client and its requests in every command",
    function()
      for _, name in ipairs(CONNECTION) do
        local args = assert(PARSE[name]({ "--ca-file", ca, "--timeout", "5", "--stall-timeout", "7.5",
          "--retries", "0", "-v" }))
        local said = {}
        local client = assert(cli_args.new_client(args, ENV, core, function(line) said[#said + 1] = line end))
        local cfg = client.cfg
        assert.same({ ca, 5, 7.5, 0 }, { cfg.ca_file, cfg.timeout, cfg.stall_timeout, cfg.retries }, name)
        local req = transport.with_options(cfg, {}) -- a GraphQL or token request
        assert.same({ 5, ca }, { req.timeout, req.ca_file })
        local put = storage.put_request(client._ctx, "https://s/k", "f", "text/plain")
        assert.same({ 7.5, ca }, { put.stall_timeout, put.ca_file })
        cfg.on_request({ method = "PUT", host = "bucket.s3.example", status = 200, seconds = 1.4249, kind = "put" })
        cfg.on_request({ method = "POST", host = "ion.example", seconds = 30, kind = "graphql", error = "timeout" })
        assert.same({ "PUT bucket.s3.example 200 1.425 s (put)",
          "POST ion.example failed: timeout 30.000 s (graphql)" }, said, name)
        client:close()
        -- without -v nobody is told
        local quiet = assert(cli_args.new_client(assert(PARSE[name]({})), ENV, core, error))
        assert.is_nil(quiet.cfg.on_request)
        assert.same({ 30, 60, 4 }, { quiet.cfg.timeout, quiet.cfg.stall_timeout, quiet.cfg.retries })
      end
    end)

  it("read the same in ion-upload and watch", function()
    local cases = {
      { { "--concurrency", "8" }, "concurrency", 8 }, { { "--window", "3" }, "window", 3 },
      { { "--journal", "j" }, "journal", "j" }, { { "--receipts", "r" }, "receipts", "r" },
      { { "--limit-rate", "2M" }, "limit_rate", 2 * 1024 * 1024 }, { { "--no-validate" }, "validate", false },
      { { "--no-verify-md5" }, "verify_md5", false }, { { "--profile", "lab" }, "profile", "lab" },
      { { "--endpoint", "https://e/graphql" }, "endpoint", "https://e/graphql" },
      { { "--environment", "staging" }, "environment", "staging" }, { { "--proxy", "" }, "proxy", "" },
      { { "--include", "*.pdf", "--include", "*.csv" }, "include", { "*.pdf", "*.csv" } },
      { { "--exclude", "drafts/" }, "exclude", { "drafts/" } }, { { "--hidden" }, "hidden", true },
      { { "--json" }, "json", true }, { { "--quiet" }, "quiet", true }, { { "--verbose" }, "verbose", true },
      { { "--timeout", "0.5" }, "timeout", 0.5 }, { { "--retries", "9" }, "retries", 9 },
    }
    for _, c in ipairs(cases) do
      for _, name in ipairs(UPLOADING) do
        local args, err = PARSE[name](c[1])
        assert(args, name .. " " .. c[1][1] .. ": " .. tostring(err))
        assert.same(c[3], args[c[2]], name .. " " .. c[1][1])
      end
    end
  end)

  it("refuse a bad value with the same message in every command that takes the flag", function()
    local cases = {
      { { "--timeout", "0" }, "--timeout expects a positive number of seconds, at most 1000000, got '0'" },
      { { "--timeout", "2e6" }, "--timeout expects a positive number of seconds" },
      { { "--stall-timeout", "-1" }, "--stall-timeout expects a positive number of seconds" },
      { { "--retries", "-1" }, "--retries expects a whole number from 0 to 1000, got '-1'" },
      { { "--retries", "1.5" }, "--retries expects a whole number from 0 to 1000" },
      { { "--ca-file", "/no/such/ca.pem" }, "--ca-file: cannot read /no/such/ca.pem" },
      { { "--environment", "mars" }, "unknown --environment 'mars'" },
      { { "--endpoint", "https://e/graphql", "--environment", "staging" }, "give one" },
      { { "--concurrency", "1001" }, "--concurrency expects a whole number from 1 to 1000, got '1001'", true },
      { { "--concurrency", "0x10" }, "--concurrency expects a whole number from 1 to 1000", true },
      { { "--window", "0" }, "--window expects a whole number from 1 to 1000, got '0'", true },
      { { "--limit-rate", "2X" }, "--limit-rate '2X' is not a rate", true },
    }
    for _, c in ipairs(cases) do
      local said
      for _, name in ipairs(c[3] and UPLOADING or CONNECTION) do
        local args, err = PARSE[name](c[1])
        assert.is_nil(args, name .. " " .. c[1][1])
        assert.matches(c[2], err, 1, true)
        assert.equal(said or err, err) -- word for word the same
        said = err
      end
    end
  end)

  it("check a target id as the library does (1 to 2^31-1) in ion-upload and watch", function()
    for _, name in ipairs(UPLOADING) do
      local parse = function(extra)
        if name == "upload" then return cli_args.parse(join(extra, { "f" })) end
        return watch_cli.parse(join({ "dir" }, extra))
      end
      assert.same({ run = 2147483647 }, assert(parse({ "--run", "2147483647" })).target)
      assert.same({ entity_id = "abc-9" }, assert(parse({ "--entity-id", "abc-9" })).target)
      for _, bad in ipairs({ "2147483648", "0", "1.5", "-3" }) do
        local args, err = parse({ "--part", bad })
        assert.is_nil(args, name .. " " .. bad)
        assert.matches("--part expects a positive whole number, got '" .. bad .. "'", err, 1, true)
      end
      -- text that is no number and no field=value filters: both forms are named
      local _, xerr = parse({ "--part", "x" })
      assert.matches("--part expects a part id (a positive whole number) or field=value filters", xerr, 1, true)
      local _, err = parse({ "--entity-id", "a b" })
      assert.matches("--entity-id expects an entity id", err, 1, true)
    end
  end)

  it("watch: --help needs no DIR", function()
    local a = assert(watch_cli.parse({ "--help" }))
    assert.is_true(a.help)
    assert.matches("--take-temporary GLOB", a.parser:get_help(), 1, true)
  end)

  it("watch: --exclude-from adds its globs to --exclude; a bad one is named by its file and line", function()
    local list = files.write(dir, "ignore", "# drafts\ndrafts/\n\n*.bak\n")
    local a = assert(watch_cli.parse({ "d", "--run", "1", "--exclude", "*.log", "--exclude-from", list,
      "--take-temporary", "*.part", "--hidden" }))
    assert.same({ "*.log", "drafts/", "*.bak" }, a.exclude)
    assert.same({ "*.part" }, a.take_temporary)
    assert.is_true(a.hidden)
    local bad = files.write(dir, "bad", "ok\n[x\n")
    local none, err = watch_cli.parse({ "d", "--run", "1", "--exclude-from", bad })
    assert.is_nil(none)
    assert.matches(bad .. ":2: ", err, 1, true)
    none, err = watch_cli.parse({ "d", "--run", "1", "--exclude-from", dir .. "/missing" })
    assert.is_nil(none)
    assert.matches("--exclude-from: cannot read", err, 1, true)
  end)

  -- A config file with one profile, lab, holding these settings.
  local function lab(settings)
    return profiles.load(files.write(dir, "config.lua", "return { profiles = { lab = { endpoint = "
      .. "'https://lab.example/graphql', " .. settings .. " } } }"), core)
  end

  it("a profile's ca_file, timeout, stall_timeout and retries reach the client (ca_file relative to the config "
    .. "file's folder); the flags win", function()
    files.write(dir, "lab-ca.pem", "pem")
    local config = assert(lab("ca_file = 'lab-ca.pem', timeout = 12, stall_timeout = 90, retries = 1"))
    local p = assert(profiles.resolve(config, "lab", { core = core, getenv = getenv_of({}) }))
    local cfg = assert(cli_args.client_config(assert(cli_args.parse({ "--run", "1", "f" })), ENV, p))
    assert.same({ dir .. "/lab-ca.pem", 12, 90, 1 }, { cfg.ca_file, cfg.timeout, cfg.stall_timeout, cfg.retries })
    local other = files.write(dir, "other.pem", "pem")
    local args = assert(cli_args.parse({ "--run", "1", "--ca-file", other, "--timeout", "3", "--stall-timeout", "4",
      "--retries", "0", "f" }))
    cfg = assert(cli_args.client_config(args, ENV, p))
    assert.same({ other, 3, 4, 0 }, { cfg.ca_file, cfg.timeout, cfg.stall_timeout, cfg.retries })
  end)

  it("a profile's settings are checked as upload.new checks them, naming the profile", function()
    for _, bad in ipairs({ "timeout = 0", "stall_timeout = 1e9", "retries = -1", "retries = 2.5", "timeout = '5'",
      "ca_file = 3" }) do
      local config, err = lab(bad)
      assert.is_nil(config, bad)
      assert.matches("profile 'lab'", err, 1, true)
      assert.matches(bad:match("^%w+"), err, 1, true)
    end
    local config = assert(lab("ca_file = 'missing.pem'"))
    local p, err = profiles.resolve(config, "lab", { core = core, getenv = getenv_of({}) })
    assert.is_nil(p)
    assert.matches("profile 'lab': ca_file: cannot read " .. dir .. "/missing.pem", err, 1, true)
  end)
end)
