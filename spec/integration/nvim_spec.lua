-- integration: Neovim as the host (issue 15). examples/nvim's :IonUpload runs
-- an upload through ion.upload.luv on Neovim's own loop, headless
-- (spec/support/nvim_driver.lua drives the editor). While 256 MiB go to the
-- sandbox a Neovim timer fires every 10 ms and asks the editor for an eval:
-- the editor keeps answering. Neovim embeds LuaJIT, so the core it loads is
-- the LuaJIT build (build/jit/, as scripts/test-matrix.sh makes it).
local sandbox = require("support.sandbox")
local files = require("support.files")
local slowdown = require("support.slowdown")
local cjson = require("cjson")

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local why_not
if not sh("command -v nvim >/dev/null 2>&1") then
  why_not = "nvim is not installed (scripts/deps.sh installs neovim)"
elseif not sh("pkg-config --exists luajit") then
  why_not = "no LuaJIT headers (luajit.pc) to build the core Neovim loads"
end
if why_not then
  print("nvim_spec: skipped: " .. why_not)
  describe("integration: Neovim :IonUpload", function()
    it("needs nvim", function() pending(why_not) end)
  end)
  return
end

local BIG = 256 * 1024 * 1024
local root = os.getenv("PWD") or "."

describe("integration: Neovim :IonUpload", function()
  local dir, big, srv

  setup(function()
    -- the LuaJIT build of the core (no-op when it is up to date)
    assert(sh("make --no-print-directory BUILD=build/jit LUA_PC=luajit build >/dev/null"),
      "could not build the core for LuaJIT in build/jit")
    srv = sandbox.spawn()
    os.execute("renice -n 10 -p " .. srv.pid .. " >/dev/null 2>&1") -- as examples/run_all.sh
    dir = files.tmpdir()
    big = dir .. "/big.bin"
    assert(sh("truncate -s " .. BIG .. " " .. files.quote(big)))
  end)
  teardown(function()
    srv:stop()
    files.rmdir(dir)
  end)
  before_each(function() srv:admin("POST", "/reset") end)

  -- Runs headless Neovim on these Ex commands; returns what the driver saw.
  local function nvim(commands, env)
    local out = dir .. "/nvim.json"
    os.remove(out)
    local vars = {
      ION_NVIM_ROOT = root, ION_NVIM_CPATH = root .. "/build/jit/?.so", ION_NVIM_OUT = out,
      ION_NVIM_COMMANDS = cjson.encode(commands),
      ION_API_URL = srv.state.graphql, ION_TOKEN = srv.state.tokens.rw,
    }
    for k, v in pairs(env or {}) do vars[k] = v end
    local prefix = {}
    for k, v in pairs(vars) do prefix[#prefix + 1] = k .. "=" .. files.quote(v) end
    local cmd = ("cd %s && env -u LD_PRELOAD %s timeout %d nvim --headless --clean -u NONE -c %s </dev/null 2>&1")
      :format(
      files.quote(root), table.concat(prefix, " "), math.floor(180 * slowdown),
      files.quote("luafile spec/support/nvim_driver.lua"))
    local p = io.popen(cmd)
    local log = p:read("*a")
    p:close()
    local text = files.read(out)
    assert.truthy(text, "nvim wrote no result; its output:\n" .. log)
    return cjson.decode(text), log
  end

  it("uploads 256 MiB in the background while the editor answers every 10 ms", function()
    local seen = nvim({ "IonUpload " .. big .. " run_step 12" })
    local last = seen.outcomes[1]
    assert.is_table(last, "no outcome")
    assert.is_string(last.id, cjson.encode(seen))
    local found
    for _, a in ipairs(srv:admin("GET", "/attachments")) do
      if tostring(math.floor(tonumber(a.id))) == last.id then found = a end
    end
    assert.truthy(found, "attachment " .. last.id .. " is not in the sandbox")
    assert.equal(BIG, found.size)
    assert.matches("attached as #" .. last.id, seen.notes[#seen.notes].msg, 1, true)
    -- the status line showed the progress on the way
    assert.is_true(#seen.statuses >= 2, cjson.encode(seen.statuses))
    assert.matches("^ion: big%.bin %d+%%$", seen.statuses[#seen.statuses])

    local what = ("%d firings, %d evals answered, worst lateness %.1f ms (%.1f ms not spent waiting for a core)")
      :format(seen.fired, seen.evals, seen.max_late, seen.max_own)
    print("nvim_spec: the Neovim 10 ms timer: " .. what)
    assert.is_true(seen.fired > 10 and seen.evals == seen.fired, what)
    assert.is_true(seen.max_own <= 50 * slowdown, what)
  end)

  it("reports an error with its hint, and a usage error", function()
    local seen = nvim({
      "IonUpload " .. dir .. "/no-such-file.pdf run_step 12",
      "IonUpload " .. big .. " run_step 999999",
      "IonUpload " .. big .. " spaceship 1",
    })
    assert.equal("bad_input", seen.outcomes[1].code)
    assert.is_string(seen.outcomes[1].hint)
    assert.matches("IonUpload: bad_input:", seen.notes[1].msg, 1, true)
    assert.equal("not_found", seen.outcomes[2].code)
    assert.matches("%(.+%)$", seen.notes[2].msg) -- tostring(err) ends with the hint
    assert.matches("usage: :IonUpload", seen.notes[3].msg, 1, true)
    for _, n in ipairs(seen.notes) do
      assert.not_matches(srv.state.tokens.rw, n.msg, 1, true)
    end
  end)
end)
