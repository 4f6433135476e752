-- integration: README's quick start as a person runs it. The sandbox of
-- `make sandbox` (server.js --print) prints lines to paste into a second
-- terminal; they go into sh as printed (the cd to the checkout, the two
-- exports, the three bin/ion-upload commands), with no LUA_PATH or LUA_CPATH:
-- bin/ion-upload finds the checkout's lua/ and build/ itself. Each command
-- must succeed and do what it says. (sandbox/test/quickstart.test.js checks
-- the ids and the exports alone.)
local sandbox = require("support.sandbox")
local run = require("support.cli_run")
local interpreter = require("support.interpreter")
local files = require("support.files")

-- The lines between "paste:" and the targets line, without their indent.
local function paste_block(out)
  local block = out:match("In a second terminal, paste:\n(.-)\nTargets here:")
  local lines = {}
  for line in (block or ""):gmatch("[^\n]+") do
    if line:sub(1, 2) == "  " then lines[#lines + 1] = line:sub(3) end
  end
  return lines
end

describe("integration: the quick start make sandbox prints", function()
  local sb

  setup(function() sb = sandbox.spawn({ "--print" }) end)
  teardown(function() if sb then sb:stop() end end)

  it("pasted into a shell, uploads to the run step and the part it names, and plans the folder", function()
    -- bin/ion-upload loads build/<version>/ (5.4: build/) of the checkout, as a person's run does
    local v = (type(jit) == "table" and "jit") or _VERSION:match("%d+%.%d+")
    local so = sandbox.root .. "/build/" .. (v == "5.4" and "" or v .. "/") .. "ion/upload/core.so"
    if not io.open(so, "rb") then
      pending("the quick start runs the core of the checkout's build/ (make build), which this run did not build: "
        .. so)
      return
    end
    local out
    local deadline = os.time() + 20
    repeat
      out = run.read(sb.dir .. "/sandbox.log")
      assert(os.time() < deadline, "the sandbox printed no quick start:\n" .. out)
    until out:find("GraphQL by hand:", 1, true)
    local lines = paste_block(out)
    assert.equal(6, #lines, out)

    -- as printed; under another Lua than the shebang's lua5.4, that Lua runs the same script
    local script = {}
    for _, line in ipairs(lines) do
      if line:find("^bin/ion%-upload ") and interpreter ~= "lua5.4" then line = interpreter .. " " .. line end
      script[#script + 1] = line
      if line:find("bin/ion-upload", 1, true) then script[#script + 1] = "echo \"exit=$?\"" end
    end
    -- no ION_* or proxy variable from this process: only what the block exports
    local p = io.popen("cd / && " .. run.env_prefix({ ION_API_URL = false, ION_TOKEN = false }) .. " sh -c "
      .. run.quote(table.concat(script, "\n")) .. " 2>&1")
    local got = p:read("*a")
    p:close()

    local _, ok = got:gsub("exit=0\n", "")
    assert.equal(3, ok, got)
    local ds = sb:admin("GET", "/dataset")
    assert.matches("ok    examples/files/measurements%.csv %-> attachment %d+ on entity " .. ds.runStep["1"], got)
    assert.matches('{"path":"examples/files/report.pdf","ok":true,"id":%d+,"entityId":"' .. ds.part["3"] .. '"', got)
    assert.matches("plan  examples/files/report.pdf -> run 7 (entity " .. ds.run["7"] .. ")", got, 1, true)
    assert.is_nil(got:find("generate.py", 1, true), got)
    -- the two uploads, and nothing from the dry run
    local atts = sb:admin("GET", "/attachments")
    assert.equal(2, #atts, got)
    assert.same({ "measurements.csv", ds.runStep["1"] }, { atts[1].filename, atts[1].entityId })
    assert.same({ "report.pdf", ds.part["3"] }, { atts[2].filename, atts[2].entityId })
  end)

  it("from a checkout whose core is not built yet, says to run make build (not require's list of paths)", function()
    local dir = files.tmpdir()
    finally(function() files.rmdir(dir) end)
    local root = assert(require("ion.upload.core").realpath(sandbox.root))
    os.execute("mkdir -p " .. run.quote(dir .. "/bin") .. " && cp " .. run.quote(root .. "/bin/ion-upload")
      .. " " .. run.quote(dir .. "/bin/") .. " && ln -s " .. run.quote(root .. "/lua") .. " " .. run.quote(dir))
    local p = io.popen("cd / && env -u LUA_CPATH " .. interpreter .. " " .. run.quote(dir .. "/bin/ion-upload")
      .. " --version 2>&1; echo \"exit=$?\"")
    local out = p:read("*a")
    p:close()
    assert.matches("exit=2\n$", out)
    assert.matches("ion-upload: cannot load the C core: module 'ion.upload.core' not found:\n", out, 1, true)
    assert.matches("`make build` builds it", out, 1, true)
    assert.is_nil(out:find("no file", 1, true), out)
  end)
end)
