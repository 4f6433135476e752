-- integration: `ion-upload --profile` against the sandbox (child process,
-- XDG_CONFIG_HOME pointing at a temporary config): the profile's endpoint and
-- token win over the environment, flags win over the profile, token_command
-- runs without a shell, and no secret reaches the output.
local cjson = require("cjson")
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")

describe("integration: ion-upload --profile", function()
  local dir, photo, s, cfg

  local function config(text)
    assert(os.execute("mkdir -p " .. files.quote(dir .. "/xdg/ion-upload")))
    cfg = files.write(dir .. "/xdg/ion-upload", "config.lua", text)
  end

  -- The environment has a wrong endpoint and token: only the profile's work.
  local function env(extra)
    local e = { XDG_CONFIG_HOME = dir .. "/xdg", ION_API_URL = "http://127.0.0.1:9/graphql",
      ION_TOKEN = "wrong-env-token" }
    for k, v in pairs(extra or {}) do e[k] = v end
    return e
  end

  setup(function()
    s = sandbox.get()
    dir = files.tmpdir()
    photo = files.write(dir, "photo.jpg", string.rep("p", 1000))
    files.write(dir, "rw.token", s.tokens.rw .. "\n")
    assert(os.execute("chmod 600 " .. files.quote(dir .. "/rw.token")))
    config(string.format([[return { profiles = {
      sandbox = { endpoint = %q, token_file = %q },
      cmd = { endpoint = %q, token_command = { "printf", "%%s\n", %q } },
      broken = { endpoint = %q, token_command = { "sh", "-c", "echo no >&2; exit 4" } },
      elsewhere = { endpoint = "http://127.0.0.1:9/graphql", token_file = %q },
    } }]], s.graphql, dir .. "/rw.token", s.graphql, s.tokens.rw, s.graphql, dir .. "/rw.token"))
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  it("uploads with the profile's endpoint and token file, over the environment's", function()
    local r = run.cli({ "--profile", "sandbox", "--part", "50", "--json", photo }, env())
    assert.equal(0, r.code, r.stderr)
    assert.is_true(cjson.decode(r.stdout:match("^[^\n]*")).ok) -- the file's line; the summary follows
    assert.equal(1, #sandbox.attachments())
    assert.not_matches(s.tokens.rw, r.stdout .. r.stderr, 1, true)
  end)

  it("ION_PROFILE picks the profile; --profile wins over it", function()
    local r = run.cli({ "--part", "50", photo }, env({ ION_PROFILE = "sandbox" }))
    assert.equal(0, r.code, r.stderr)
    r = run.cli({ "--profile", "cmd", "--part", "50", photo }, env({ ION_PROFILE = "elsewhere" }))
    assert.equal(0, r.code, r.stderr)
    assert.equal(2, #sandbox.attachments())
  end)

  it("takes the token a token_command prints", function()
    local r = run.cli({ "--profile", "cmd", "--part", "50", photo }, env())
    assert.equal(0, r.code, r.stderr)
    assert.equal(1, #sandbox.attachments())
    assert.not_matches(s.tokens.rw, r.stdout .. r.stderr, 1, true)
  end)

  it("--endpoint wins over the profile's endpoint", function()
    local r = run.cli({ "--profile", "elsewhere", "--endpoint", s.graphql, "--part", "50", photo }, env())
    assert.equal(0, r.code, r.stderr)
    assert.equal(1, #sandbox.attachments())
  end)

  it("a failing token_command is a usage error: exit 2, nothing sent", function()
    local r = run.cli({ "--profile", "broken", "--part", "50", photo }, env())
    assert.equal(2, r.code)
    assert.equal("ion-upload: token_command of profile 'broken' (sh) exited with status 4\n",
      r.stderr:gsub("^no\n", ""))
    assert.equal(0, sandbox.counters().graphql.requests)
  end)

  it("a missing profile is a usage error naming the config file", function()
    local r = run.cli({ "--profile", "prod", "--part", "50", photo }, env())
    assert.equal(2, r.code)
    assert.equal("ion-upload: no profile 'prod' in " .. cfg .. " (profiles: broken, cmd, elsewhere, sandbox)\n",
      r.stderr)
    assert.equal(0, #sandbox.attachments())
  end)
end)
