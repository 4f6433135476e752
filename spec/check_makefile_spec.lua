-- unit spec: scripts/check-makefile.sh (CI, before deps) passes on this
-- Makefile and fails when a target that installs its dependencies builds
-- in the make that ran deps (flags computed before deps installed them).
local function run(makefile)
  local p = io.popen("bash scripts/check-makefile.sh " .. makefile .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("*a")
  p:close()
  return tonumber(out:match("exit=(%d+)%s*$")), out
end

-- A copy of the Makefile, changed by edit(text).
local function copy_makefile(edit)
  local f = assert(io.open("Makefile", "rb"))
  local text = edit(f:read("*a"))
  f:close()
  -- beside the original, so its relative paths (csrc/, scripts/) still resolve
  local path = "Makefile.check-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e6))
  f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

describe("scripts/check-makefile.sh", function()
  it("passes on the Makefile: every such target runs deps, then a sub-make", function()
    local code, out = run("Makefile")
    assert.equal(0, code, out)
    for _, t in ipairs({ "demo", "test", "test-all", "examples", "host", "valgrind", "bench", "soak", "check-rock",
      "sanitize", "sandbox" }) do
      assert.matches("ok   " .. t:gsub("%-", "%%-") .. ": deps, then make", out)
    end
  end)

  it("fails when demo builds the core in the make that ran deps", function()
    local path = copy_makefile(function(text) return text .. "\ndemo: build\n" end)
    finally(function() os.remove(path) end)
    local code, out = run(path)
    assert.equal(1, code, out)
    assert.matches("FAIL demo: runs commands in the make that ran deps", out, 1, true)
    assert.matches("guard%-cc [^\n]*%-D_FILE_OFFSET_BITS=64", out)
    assert.matches("%^ %d+ compile/link commands with flags computed before deps ran", out)
    assert.matches("ok   test:", out, 1, true)
  end)

  it("fails when a target that must install its dependencies no longer does", function()
    local path = copy_makefile(function(text)
      local changed, n = text:gsub("(WITH_DEPS%s*:=[^\n]-) host ", "%1 ")
      assert.equal(1, n)
      return changed .. "\nhost: _host\n"
    end)
    finally(function() os.remove(path) end)
    local code, out = run(path)
    assert.equal(1, code, out)
    assert.matches("FAIL host: does not depend on deps", out, 1, true)
  end)
end)
