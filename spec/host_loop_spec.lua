-- A host loop that sleeps on a session's fds() and timeout() (issue 11, item
-- 7): examples/host/sleeping_host.c waits in poll() with no tick of its own.
-- A PUT paused for its reader thread must wake it (the session's wake pipe
-- in fds()), so it moves a file about as fast as a loop spinning on step(0).
-- Against the loopback fixture (spec/support/http_fixture.js).
local core = require("ion.upload.core")
local fixture = require("support.fixture")

local interpreter = require("support.interpreter")

-- The host is built against the Lua running this spec, beside the core it
-- loads (build/ for 5.4, build/<v>/ for the others, build-asan/, ...).
local build = package.cpath:match("^([^;]*)/%?%.so") or "build"
local host = build .. "/examples/sleeping_host"
local lua_pc = interpreter == "luajit" and "luajit" or interpreter

-- The cpath of this run, absolute, for the host's own Lua state.
local function cpath()
  local pwd = os.getenv("PWD") or "."
  return (package.cpath:gsub("^([^/])", pwd .. "/%1"):gsub(";([^/;])", ";" .. pwd .. "/%1"))
end

-- Runs the host on one PUT; returns its wall seconds and its output.
local function run(mode, url, path)
  local h = assert(io.popen(string.format(
    "LUA_CPATH='%s' timeout 60 %s %s examples/host/sleeping_host.lua '%s' '%s' 2>&1", cpath(), host, mode, url, path)))
  local out = h:read("*a")
  h:close()
  local wall = tonumber(out:match("([%d.]+) s wall"))
  return wall, out
end

describe("a host loop sleeping on fds() and timeout()", function()
  local srv
  setup(function()
    local ok = os.execute(string.format("make --no-print-directory BUILD='%s' LUA_PC='%s' sleeping-host >/dev/null",
      build, lua_pc))
    assert(ok == true or ok == 0, "could not build " .. host)
    srv = fixture.start()
  end)
  teardown(function()
    srv.stop()
    fixture.cleanup()
  end)

  it("gets a readable wake descriptor besides libcurl's sockets", function()
    local s = core.session()
    local r, w = s:fds()
    assert.equal(1, #r) -- nothing added yet: only the wake pipe
    assert.same({}, w)
    s:close()
  end)

  it("moves 64 MiB in a time comparable with a loop spinning on step(0)", function()
    local path = fixture.file(64 * 1024 * 1024)
    local url = srv.url("/echo")
    local spin, sout = run("--spin", url, path)
    local poll, pout = run("", url, path)
    assert.truthy(spin, sout)
    assert.truthy(poll, pout)
    assert.matches("PUT 67108864 bytes, status 200, MD5 " .. fixture.md5(path), pout, 1, true)
    -- a hang guard with room for a loaded machine; before the wake pipe the
    -- sleeping loop took minutes (each pause slept until libcurl's own timer)
    assert.is_true(poll <= 3 * spin + 2, string.format("poll %.2f s, spin %.2f s", poll, spin))
  end)
end)
