-- unit spec: CLI profiles (lua/ion/upload/cli/profiles.lua) over temporary
-- config folders, with the real core (stat, run_capture); the environment is
-- a table given as getenv, and the last cases run bin/ion-upload as a child
-- with XDG_CONFIG_HOME set (no network: `profiles` and usage errors only).
local core = require("ion.upload.core")
local profiles = require("ion.upload.cli.profiles")
local files = require("support.files")
local interpreter = require("support.interpreter")

local q = files.quote

local function getenv_of(t) return function(k) return t[k] end end

local function write(path, text, mode)
  local dir = path:match("^(.*)/[^/]*$")
  assert(os.execute("mkdir -p " .. q(dir)))
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  assert(os.execute("chmod " .. (mode or "600") .. " " .. q(path)))
  return path
end

describe("cli profiles", function()
  local dir, home, cfg_path

  local function config(text, mode)
    return write(cfg_path, text, mode or "644")
  end

  local function load()
    return profiles.load(cfg_path, core)
  end

  local function resolve(name, env)
    local c = assert(load())
    return profiles.resolve(c, name, { core = core, getenv = getenv_of(env or { HOME = home }) })
  end

  setup(function()
    dir = files.tmpdir()
    home = dir .. "/home"
    cfg_path = dir .. "/xdg/ion-upload/config.lua"
  end)
  teardown(function() files.rmdir(dir) end)

  describe("config_path", function()
    it("is $XDG_CONFIG_HOME/ion-upload/config.lua, else ~/.config/ion-upload/config.lua", function()
      assert.equal("/x/ion-upload/config.lua",
        profiles.config_path(getenv_of({ XDG_CONFIG_HOME = "/x/", HOME = "/h" })))
      assert.equal("/h/.config/ion-upload/config.lua", profiles.config_path(getenv_of({ HOME = "/h" })))
      -- a relative XDG_CONFIG_HOME is ignored, as the XDG spec says
      assert.equal("/h/.config/ion-upload/config.lua",
        profiles.config_path(getenv_of({ XDG_CONFIG_HOME = "rel", HOME = "/h" })))
      local p, err = profiles.config_path(getenv_of({}))
      assert.is_nil(p)
      assert.matches("XDG_CONFIG_HOME or HOME", err)
    end)
  end)

  describe("load", function()
    it("reads the profiles of a config file", function()
      config([[return { profiles = {
        prod = { endpoint = "https://api.example.com/graphql", token_file = "prod.token" },
        stage = { environment = "staging", client_id = "abc", client_secret_file = "/s" },
        cmd = { token_command = { "pass", "show", "ion/prod" }, token_command_timeout = 5 },
        bare = {},
      } }]])
      local c = assert(load())
      assert.same({ "bare", "cmd", "prod", "stage" }, profiles.names(c))
      assert.equal(cfg_path, c.path)
    end)

    it("refuses a missing file, bad Lua, a wrong shape, naming the file", function()
      local c, err = profiles.load(dir .. "/none.lua", core)
      assert.is_nil(c)
      assert.matches("no config file " .. dir:gsub("%p", "%%%0") .. "/none.lua", err)
      local cases = {
        { "return {", "bad config file .*config.lua.*expected" },
        { "return ({}).x.y", "bad config file .*attempt to index" },
        { "return 42", "it must return { profiles" },
        { "return { profiles = 1 }", "it must return { profiles" },
        { "return { profiles = { p = 1 } }", "profile 'p' must be a table" },
        { "return { profiles = { [1] = {} } }", "profile names must be strings" },
        { "return { profiles = { p = { tokenfile = 'x' } } }", "profile 'p' has an unknown key 'tokenfile'" },
        { "return { profiles = { p = { endpoint = 1 } } }", "endpoint must be a string" },
        { "return { profiles = { p = { endpoint = 'x', environment = 'staging' } } }", "both endpoint and environ" },
        { "return { profiles = { p = { environment = 'mars' } } }", "unknown environment 'mars'" },
        { "return { profiles = { p = { token_file = 'a', token_command = { 'b' } } } }", "one kind of credential" },
        { "return { profiles = { p = { client_id = 'a' } } }", "needs both client_id and client_secret_file" },
        { "return { profiles = { p = { client_secret_file = 'a' } } }", "needs both client_id" },
        { "return { profiles = { p = { token_command = {} } } }", "token_command must be a list" },
        { "return { profiles = { p = { token_command = 'pass show x' } } }", "token_command must be a table" },
        { "return { profiles = { p = { token_command = { 'a', 2 } } } }", "token_command%[2%] must be a string" },
        { "return { profiles = { p = { token_command = { 'a' }, token_command_timeout = -1 } } }", "timeout must" },
      }
      for _, case in ipairs(cases) do
        config(case[1])
        c, err = load()
        assert.is_nil(c, case[1])
        assert.matches(case[2], err, 1, false, case[1])
      end
    end)

    it("runs the file with no globals at all", function()
      config("return { profiles = { p = { endpoint = os.getenv('HOME') } } }")
      local c, err = load()
      assert.is_nil(c)
      assert.matches("bad config file .*'os'", err)
      config("x = 1; return { profiles = { p = { endpoint = tostring(print) } } }")
      c, err = load()
      assert.is_nil(c)
      assert.matches("tostring", err)
    end)

    it("refuses precompiled Lua", function()
      config(string.dump(function() return {} end))
      local c, err = load()
      assert.is_nil(c)
      assert.matches("precompiled", err)
    end)

    it("refuses a config file group or others may change (it names a program to run)", function()
      for _, mode in ipairs({ "664", "646", "666" }) do
        config("return { profiles = {} }", mode)
        local c, err = load()
        assert.is_nil(c, mode)
        assert.matches("may be changed by group or others.*chmod go%-w " .. cfg_path:gsub("%p", "%%%0"), err)
      end
      config("return { profiles = {} }", "644")
      assert.is_table((load()))
    end)
  end)

  describe("resolve", function()
    it("names the profiles there are when the one asked for is missing", function()
      config("return { profiles = { b = {}, a = {} } }")
      local p, err = resolve("prod")
      assert.is_nil(p)
      assert.equal("no profile 'prod' in " .. cfg_path .. " (profiles: a, b)", err)
    end)

    it("reads a token file (relative to the config folder, or ~/), trimming the newline", function()
      write(dir .. "/xdg/ion-upload/prod.token", "tok-123\n")
      write(home .. "/secret/t", "tok-home\r\n")
      config([[return { profiles = {
        prod = { endpoint = "https://e/graphql", token_file = "prod.token" },
        h = { environment = "staging", token_file = "~/secret/t" },
      } }]])
      local p = assert(resolve("prod"))
      assert.equal("tok-123", p.token)
      assert.equal("https://e/graphql", p.endpoint)
      p = assert(resolve("h"))
      assert.equal("tok-home", p.token)
      assert.equal("staging", p.environment)
    end)

    it("refuses a secret file group or others can read, with chmod 600 as the hint", function()
      local tf = write(dir .. "/open.token", "sekrit-token-value\n", "644")
      local sf = write(dir .. "/open.secret", "sekrit-secret-value\n", "640")
      config("return { profiles = { t = { token_file = " .. string.format("%q", tf) .. " },"
        .. " c = { client_id = 'id', client_secret_file = " .. string.format("%q", sf) .. " } } }")
      local p, err = resolve("t")
      assert.is_nil(p)
      assert.equal("token file " .. tf .. " is readable by group or others (mode 644): run chmod 600 " .. tf, err)
      p, err = resolve("c")
      assert.is_nil(p)
      assert.equal("client secret file " .. sf .. " is readable by group or others (mode 640): run chmod 600 " .. sf,
        err)
      assert.not_matches("sekrit", err)
      assert(os.execute("chmod 600 " .. q(sf)))
      p = assert(resolve("c"))
      assert.equal("id", p.client_id)
      assert.equal("sekrit-secret-value", p.client_secret)
    end)

    it("refuses a missing or empty secret file", function()
      write(dir .. "/empty.token", "\n")
      config("return { profiles = { m = { token_file = 'nope.token' }, e = { token_file = '"
        .. dir .. "/empty.token' } } }")
      local p, err = resolve("m")
      assert.is_nil(p)
      assert.matches("cannot read token file .*nope.token: No such file", err)
      p, err = resolve("e")
      assert.is_nil(p)
      assert.matches("token file .*empty.token is empty", err)
    end)

    it("runs token_command without a shell and takes its one line", function()
      config([[return { profiles = {
        ok = { token_command = { "printf", "%s\n", "tok-from-cmd" } },
        shellish = { token_command = { "printf", "%s\n", "$(echo);`id`|$HOME" } },
        fails = { token_command = { "sh", "-c", "echo sekrit-partial; exit 3" } },
        killed = { token_command = { "sh", "-c", "kill -9 $$" } },
        slow = { token_command = { "sleep", "30" }, token_command_timeout = 0.3 },
        missing = { token_command = { "no-such-program-ion-upload" } },
        empty = { token_command = { "true" } },
        lines = { token_command = { "printf", "a\nb\n" } },
      } }]])
      assert.equal("tok-from-cmd", assert(resolve("ok")).token)
      assert.equal("$(echo);`id`|$HOME", assert(resolve("shellish")).token)
      local p, err = resolve("fails")
      assert.is_nil(p)
      assert.equal("token_command of profile 'fails' (sh) exited with status 3", err)
      p, err = resolve("killed")
      assert.is_nil(p)
      assert.equal("token_command of profile 'killed' (sh) was killed by signal 9", err)
      local t0 = core.now()
      p, err = resolve("slow")
      assert.is_nil(p)
      assert.equal("token_command of profile 'slow' (sleep) did not finish within 0.3 s "
        .. "(token_command_timeout sets the limit)", err)
      assert.is_true(core.now() - t0 < 5)
      p, err = resolve("missing")
      assert.is_nil(p)
      -- (exit status 127 under valgrind: see core_spawn_spec)
      if not err:find("status 127", 1, true) then
        assert.matches("token_command of profile 'missing' %(no%-such%-program%-ion%-upload%) failed: .*No such file",
          err)
      end
      p, err = resolve("empty")
      assert.is_nil(p)
      assert.matches("printed no token", err)
      p, err = resolve("lines")
      assert.is_nil(p)
      assert.matches("more than one line", err)
    end)
  end)

  it("describes every profile without any secret", function()
    local tf = write(dir .. "/d.token", "sekrit-d\n")
    config([[return { profiles = {
      prod = { endpoint = "https://user:pw@api.example.com/graphql", token_file = ]] .. string.format("%q", tf) .. [[ },
      stage = { environment = "staging", client_id = "client-7", client_secret_file = "~/s" },
      cmd = { token_command = { "pass", "show", "ion/sekrit-path" } },
      bare = {},
    } }]])
    local lines = profiles.describe(assert(load()), getenv_of({ HOME = "/h" }))
    assert.same({
      "bare  endpoint from ION_API_URL; credentials from the environment",
      "cmd  endpoint from ION_API_URL; token from program pass",
      "prod  endpoint https://…@api.example.com/graphql; token from file " .. tf,
      "stage  environment staging; client client-7, secret from file /h/s",
    }, lines)
  end)

  describe("precedence (cli_args.client_config): flags, then the profile, then the environment", function()
    local cli_args = require("ion.upload.cli.args")
    local env = getenv_of({ ION_API_URL = "https://env.example/graphql", ION_TOKEN = "env-token",
      ION_CLIENT_ID = "env-id", ION_CLIENT_SECRET = "env-secret", ION_AUTH_URL = "https://env.example/token" })

    it("the profile wins over the environment", function()
      local cfg = assert(cli_args.client_config({}, env, { endpoint = "https://p.example/graphql", token = "p-tok" }))
      assert.equal("https://p.example/graphql", cfg.endpoint)
      assert.equal("p-tok", cfg.token)
      assert.is_nil(cfg.client_id)
      cfg = assert(cli_args.client_config({}, env, { environment = "staging", client_id = "p-id",
        client_secret = "p-secret" }))
      assert.equal("staging", cfg.environment)
      assert.is_nil(cfg.endpoint)
      assert.is_nil(cfg.token)
      assert.equal("p-id", cfg.client_id)
      assert.equal("p-secret", cfg.client_secret)
    end)

    it("flags win over the profile", function()
      local cfg = assert(cli_args.client_config({ endpoint = "https://flag.example/graphql" }, env,
        { environment = "staging", token = "p-tok" }))
      assert.equal("https://flag.example/graphql", cfg.endpoint)
      assert.is_nil(cfg.environment)
      cfg = assert(cli_args.client_config({ environment = "production" }, env,
        { endpoint = "https://p.example/graphql", token = "p-tok" }))
      assert.equal("production", cfg.environment)
      assert.is_nil(cfg.endpoint)
    end)

    it("what the profile leaves out comes from the environment", function()
      local cfg = assert(cli_args.client_config({}, env, { token = "p-tok" }))
      assert.equal("https://env.example/graphql", cfg.endpoint)
      assert.equal("p-tok", cfg.token)
      cfg = assert(cli_args.client_config({}, env, { endpoint = "https://p.example/graphql" }))
      assert.equal("env-token", cfg.token)
      cfg = assert(cli_args.client_config({}, env, nil))
      assert.equal("https://env.example/graphql", cfg.endpoint)
      assert.equal("env-token", cfg.token)
    end)
  end)

  describe("bin/ion-upload as a child with XDG_CONFIG_HOME", function()
    local root = (debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]*$") or ".")

    local function cli(args, env)
      local out, err = os.tmpname(), os.tmpname()
      local words = {}
      for _, a in ipairs(args) do words[#words + 1] = q(a) end
      local vars = {}
      for k, v in pairs(env) do vars[#vars + 1] = k .. "=" .. q(v) end
      -- kept through env -i: where the core is built (make sanitize: build-asan/, with its runtime preloaded)
      for _, k in ipairs({ "LUA_PATH", "LUA_CPATH", "LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS" }) do
        if os.getenv(k) then vars[#vars + 1] = k .. "=" .. q(os.getenv(k)) end
      end
      local p = io.popen(string.format("env -i PATH=\"$PATH\" %s %s %s %s >%s 2>%s; echo $?", table.concat(vars, " "),
        interpreter, q(root .. "/bin/ion-upload"), table.concat(words, " "), q(out), q(err)))
      local code = tonumber(p:read("*l"))
      p:close()
      local r = { code = code, stdout = files.read(out), stderr = files.read(err) }
      os.remove(out)
      os.remove(err)
      return r
    end

    it("`ion-upload profiles` lists the profiles of $XDG_CONFIG_HOME, no secret", function()
      local tf = write(dir .. "/xdg/ion-upload/p.token", "sekrit-listed\n")
      config("return { profiles = { p = { endpoint = 'http://127.0.0.1:9/graphql', token_file = 'p.token' } } }")
      local r = cli({ "profiles" }, { XDG_CONFIG_HOME = dir .. "/xdg", HOME = home })
      assert.equal(0, r.code, r.stderr)
      assert.equal("profiles in " .. cfg_path .. ":\n  p  endpoint http://127.0.0.1:9/graphql; token from file "
        .. tf .. "\n", r.stdout)
      assert.not_matches("sekrit", r.stdout .. r.stderr)
    end)

    it("`ion-upload profiles` writes a control character of the config as \\ddd", function()
      config("return { profiles = { ['evil\\27[2J'] = { endpoint = 'http://x/\\r\\ngraphql' } } }")
      local r = cli({ "profiles" }, { XDG_CONFIG_HOME = dir .. "/xdg", HOME = home })
      assert.equal(0, r.code, r.stderr)
      assert.not_matches("[\27\r]", r.stdout)
      assert.matches("  evil\\027[2J  endpoint http://x/\\013\\010graphql;", r.stdout, 1, true)
    end)

    it("exits 2 for a missing profile, a world-readable token file, a bad config", function()
      write(dir .. "/xdg/ion-upload/w.token", "sekrit-world\n", "604")
      config("return { profiles = { w = { endpoint = 'http://127.0.0.1:9/graphql', token_file = 'w.token' } } }")
      local env = { XDG_CONFIG_HOME = dir .. "/xdg", HOME = home }
      local r = cli({ "--profile", "nope", "--part", "1", "x" }, env)
      assert.equal(2, r.code)
      assert.equal("ion-upload: no profile 'nope' in " .. cfg_path .. " (profiles: w)\n", r.stderr)
      env.ION_PROFILE = "w"
      r = cli({ "--part", "1", "x" }, env)
      assert.equal(2, r.code)
      assert.matches("token file .*w.token is readable by group or others %(mode 604%): run chmod 600", r.stderr)
      assert.not_matches("sekrit", r.stdout .. r.stderr)
      -- a client secret file of mode 0644, through the command line
      local sf = write(dir .. "/xdg/ion-upload/c.secret", "sekrit-client\n", "644")
      config("return { profiles = { c = { endpoint = 'http://127.0.0.1:9/graphql', client_id = 'id',"
        .. " client_secret_file = 'c.secret' } } }")
      r = cli({ "--profile", "c", "--part", "1", "x" }, env)
      assert.equal(2, r.code)
      assert.equal("ion-upload: client secret file " .. sf
        .. " is readable by group or others (mode 644): run chmod 600 " .. sf .. "\n", r.stderr)
      assert.not_matches("sekrit", r.stdout .. r.stderr)
      config("return { profiles = ")
      r = cli({ "profiles" }, env)
      assert.equal(2, r.code)
      assert.matches("^ion%-upload: bad config file " .. cfg_path:gsub("%p", "%%%0"), r.stderr)
      r = cli({ "profiles", "extra" }, env)
      assert.equal(2, r.code)
      assert.matches("profiles takes no arguments", r.stderr)
    end)
  end)
end)
