-- integration: every script in examples/ runs against the sandbox as a user
-- would run it (environment variables, exit status 0).
local sandbox = require("support.sandbox")
local files = require("support.files")

local lua = require("support.interpreter")
local q = files.quote

local function run(script, env, args)
  local root = sandbox.root
  local parts = {
    "cd " .. q(root) .. " &&",
    -- the same modules as this run (build/ or build-asan/ under make sanitize)
    "LUA_PATH=" .. q(package.path),
    "LUA_CPATH=" .. q(package.cpath),
  }
  for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. q(v) end
  parts[#parts + 1] = lua .. " " .. q(script)
  for _, a in ipairs(args or {}) do parts[#parts + 1] = q(a) end
  local p = io.popen(table.concat(parts, " ") .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("*a")
  p:close()
  return tonumber(out:match("exit=(%d+)%s*$")), out
end

describe("integration: examples/", function()
  local state, env

  setup(function()
    state = sandbox.get()
    env = { ION_API_URL = state.graphql, ION_TOKEN = state.tokens.rw }
  end)
  before_each(function() sandbox.reset() end)

  it("upload_demo.lua uploads the three files and reads them back", function()
    local code, out = run("examples/upload_demo.lua", env)
    assert.equal(0, code, out)
    local _, matches = out:gsub("matches", "")
    assert.equal(3, matches, out)
    assert.equal(3, #sandbox.attachments())
  end)

  it("station_by_serial.lua finds the run by its title and the step by its own, and attaches there", function()
    local code, out = run("examples/station_by_serial.lua", env,
      { "examples/files/measurements.csv", "SN004517", "Final test" })
    assert.equal(0, code, out)
    local list = sandbox.attachments()
    assert.equal(1, #list)
    assert.equal(sandbox.dataset().runStep["28"], list[1].entityId) -- run 7's step 28, "Final test"
    code, out = run("examples/station_by_serial.lua", env, { "examples/files/measurements.csv", "SN009999" })
    assert.equal(1, code, out)
    assert.matches("no run matches title = SN009999 final test", out, 1, true)
  end)

  it("one_file.lua", function()
    local code, out = run("examples/one_file.lua", env, { "examples/files/report.pdf", "12" })
    assert.equal(0, code, out)
    assert.matches("attached report.pdf", out, 1, true)
  end)

  it("folder_of_photos.lua", function()
    local code, out = run("examples/folder_of_photos.lua", env, { "examples/files", "3" })
    assert.equal(0, code, out)
    local list = sandbox.attachments()
    assert.equal(1, #list)
    assert.equal("station-7-inspection-photo.jpg", list[1].filename)
  end)

  it("client_credentials.lua", function()
    local code, out = run("examples/client_credentials.lua", {
      ION_API_URL = state.graphql, ION_CLIENT_ID = state.oauth.client_id,
      ION_CLIENT_SECRET = state.oauth.client_secret, ION_AUTH_URL = state.oauth.token_url,
    })
    assert.equal(0, code, out)
    assert.equal(1, sandbox.counters().token.requests)
  end)

  it("nonblocking.lua steps two uploads from its own loop", function()
    local code, out = run("examples/nonblocking.lua", env,
      { "2", "examples/files/report.pdf", "examples/files/measurements.csv" })
    assert.equal(0, code, out)
    assert.matches("2 attached, 0 failed", out, 1, true)
    assert.equal(2, #sandbox.attachments())
  end)

  it("coroutines.lua uploads from two coroutines", function()
    local code, out = run("examples/coroutines.lua", env,
      { "4", "examples/files/inspection-photo.jpg", "examples/files/report.pdf" })
    assert.equal(0, code, out)
    assert.equal(2, #sandbox.attachments())
  end)

  it("a script without credentials says which field is missing", function()
    local code, out = run("examples/upload_demo.lua", { ION_API_URL = state.graphql })
    assert.equal(2, code, out)
    assert.matches("bad_input: token", out, 1, true)
  end)
end)
