-- Unit spec: the bandwidth cap's inputs. --limit-rate's curl syntax
-- (ion.upload.cli.rate and cli_args), upload.new's limit_rate, and the core
-- session's own check. No network: the cap itself is measured against the
-- sandbox in spec/integration/limit_rate_spec.lua.
local rate = require("ion.upload.cli.rate_value")
local cli_args = require("ion.upload.cli.args")
local upload = require("ion.upload")
local core = require("ion.upload.core")

local KiB, MiB, GiB = 1024, 1024 * 1024, 1024 * 1024 * 1024

describe("--limit-rate RATE", function()
  it("reads curl's forms: bytes, or K, M, G in powers of 1024, either case", function()
    local cases = {
      { "65536", 65536 }, { "1", 1 }, { "500K", 500 * KiB }, { "500k", 500 * KiB }, { "2M", 2 * MiB },
      { "2m", 2 * MiB }, { "1G", GiB }, { "3g", 3 * GiB }, { "100B", 100 }, { "100b", 100 },
    }
    for _, c in ipairs(cases) do
      local v, err = rate.parse(c[1], "--limit-rate")
      assert.is_nil(err, c[1])
      assert.equal(c[2], v, c[1])
      assert.equal(math.floor(v), v, c[1]) -- a whole number for upload.new
    end
  end)

  it("refuses what is not a rate, naming the flag and the accepted forms", function()
    for _, bad in ipairs({ "2X", "0", "0K", "-1", "1.5.2", "1.5M", "", "M", "2MB", " 2M", "2M ", "2 M", "0x10",
      "1e3", "99999999999999999999", "2T" }) do
      local v, err = rate.parse(bad, "--limit-rate")
      assert.is_nil(v, bad)
      assert.matches("--limit-rate '", err, 1, true)
      assert.matches("500K, 2M, 1G", err, 1, true)
    end
    assert.matches("at least 1 byte per second", select(2, rate.parse("0", "--limit-rate")), 1, true)
    assert.matches("over the ceiling", select(2, rate.parse("999999999G", "--limit-rate")), 1, true)
    -- a control character in argv is not echoed as is
    assert.not_matches("\27", select(2, rate.parse("2\27[31m", "--limit-rate")), 1, true)
  end)

  it("is a flag of the command line that reaches upload.new's configuration", function()
    local a = assert(cli_args.parse({ "--run", "1", "--limit-rate", "2M", "f" }))
    assert.equal(2 * MiB, a.limit_rate)
    local env = { ION_API_URL = "http://127.0.0.1:1/graphql", ION_TOKEN = "t" }
    local cfg = assert(cli_args.client_config(a, function(k) return env[k] end))
    assert.equal(2 * MiB, cfg.limit_rate)
    assert(upload.new(cfg)):close()
    local none = assert(cli_args.parse({ "--run", "1", "f" }))
    assert.is_nil(assert(cli_args.client_config(none, function(k) return env[k] end)).limit_rate)
  end)

  it("makes a bad rate a usage error that names the flag", function()
    for _, bad in ipairs({ "2X", "0", "-1", "1.5.2" }) do
      local a, msg = cli_args.parse({ "--run", "1", "--limit-rate", bad, "f" })
      assert.is_nil(a, bad)
      assert.matches("--limit-rate", msg, 1, true)
    end
    -- after "--" the words are files, even one spelled like the flag
    local a = assert(cli_args.parse({ "--run", "1", "--", "--limit-rate", "-1" }))
    assert.same({ "--limit-rate", "-1" }, a.files)
    assert.is_nil(a.limit_rate)
  end)
end)

describe("limit_rate in a CLI profile", function()
  local profiles = require("ion.upload.cli.profiles")
  local files = require("support.files")
  local dir

  setup(function() dir = files.tmpdir() end)
  teardown(function() files.rmdir(dir) end)

  local function load(value)
    local path = files.write(dir, "config.lua", "return { profiles = { lab = { endpoint = "
      .. "'http://127.0.0.1:1/graphql', limit_rate = " .. value .. " } } }")
    return profiles.load(path, core)
  end

  it("reads curl's syntax, and a flag wins over it", function()
    local config = assert(load("'2M'"))
    local p = assert(profiles.resolve(config, "lab", { core = core, getenv = function() end }))
    assert.equal(2 * MiB, p.limit_rate)
    local env = { ION_TOKEN = "t" }
    local getenv = function(k) return env[k] end
    local a = assert(cli_args.parse({ "--run", "1", "f" }))
    assert.equal(2 * MiB, assert(cli_args.client_config(a, getenv, p)).limit_rate)
    a = assert(cli_args.parse({ "--run", "1", "--limit-rate", "500K", "f" }))
    assert.equal(500 * KiB, assert(cli_args.client_config(a, getenv, p)).limit_rate)
  end)

  it("refuses a bad rate when the file is read, naming the profile and the forms", function()
    for _, bad in ipairs({ "'2X'", "'0'", "2097152" }) do
      local config, err = load(bad)
      assert.is_nil(config, bad)
      assert.matches("profile 'lab'", err, 1, true)
      assert.matches("limit_rate", err, 1, true)
    end
    assert.matches("500K, 2M, 1G", select(2, load("'2X'")), 1, true)
  end)
end)

describe("upload.new{ limit_rate }", function()
  local base = { endpoint = "http://127.0.0.1:1/graphql", token = "t" }
  local function new(v)
    local cfg = { limit_rate = v }
    for k, x in pairs(base) do cfg[k] = x end
    return upload.new(cfg)
  end

  it("takes a whole number of bytes per second", function()
    for _, v in ipairs({ 1, 1000, 2 * MiB, 1e12 }) do
      local c, err = new(v)
      assert.is_nil(err)
      c:close()
    end
  end)

  it("refuses anything else as bad_input naming the field, with a hint", function()
    for _, v in ipairs({ 0, -1, 1.5, 0 / 0, math.huge, -math.huge, 2e15, "2M", true, {} }) do
      local c, err = new(v)
      assert.is_nil(c, tostring(v))
      assert.equal("bad_input", err.code)
      assert.equal("limit_rate", err.field)
      assert.matches("limit_rate", err.message, 1, true)
      assert.matches("bytes per second", err.hint, 1, true)
    end
  end)
end)

describe("core.session{ limit_rate }", function()
  it("takes bytes per second from 1 up", function()
    local s = assert(core.session({ limit_rate = 1 }))
    s:close()
    s = assert(core.session({ limit_rate = 2 * MiB }))
    assert.is_nil(s:timeout()) -- nothing in flight: no timer, and none from the cap
    s:close()
  end)

  it("refuses a rate below 1, NaN or infinite as bad_input; a string is misuse", function()
    for _, v in ipairs({ 0, -5, 0.5, 0 / 0, math.huge, 1e16 }) do
      local s, err = core.session({ limit_rate = v })
      assert.is_nil(s, tostring(v))
      assert.equal("bad_input", err.code)
      assert.matches("limit_rate", err.message, 1, true)
    end
    assert.has_error(function() core.session({ limit_rate = "2M" }) end)
  end)
end)
