-- unit spec: the glob matcher (lua/ion/upload/glob.lua), pure Lua.
local glob = require("ion.upload.glob")

local function matches(pattern, path)
  local m = assert(glob.compile(pattern))
  return m:match(path)
end

local function cpu() return os.clock() end

describe("glob", function()
  it("* matches within one folder name, never across /", function()
    assert.is_true(matches("*.txt", "a.txt"))
    assert.is_true(matches("*.txt", ".txt"))
    assert.is_false(matches("*.txt", "d/a.txt"))
    assert.is_true(matches("d/*", "d/a.txt"))
    assert.is_false(matches("d/*", "d/e/a.txt"))
    assert.is_true(matches("a*b*c", "abc"))
    assert.is_true(matches("a*b*c", "axxbyyc"))
    assert.is_false(matches("a*b*c", "axxbyy"))
    assert.is_true(matches("*", ""))
    assert.is_false(matches("*", "/"))
  end)

  it("? is one character, not /, and a UTF-8 letter counts as one", function()
    assert.is_true(matches("a?c", "abc"))
    assert.is_false(matches("a?c", "ac"))
    assert.is_false(matches("a?c", "a/c"))
    assert.is_true(matches("r?sum?.pdf", "résumé.pdf"))
    assert.is_false(matches("r??sum?.pdf", "résumé.pdf"))
  end)

  it("sets: [abc], ranges, negation with ! or ^, ] first is literal, no /", function()
    assert.is_true(matches("[abc].txt", "b.txt"))
    assert.is_false(matches("[abc].txt", "d.txt"))
    assert.is_true(matches("img[0-9][0-9]", "img42"))
    assert.is_false(matches("img[0-9]", "imgx"))
    assert.is_true(matches("[!a-c]x", "dx"))
    assert.is_false(matches("[!a-c]x", "bx"))
    assert.is_true(matches("[^a]x", "bx"))
    assert.is_true(matches("[]]", "]"))
    assert.is_true(matches("[!]]", "a"))
    assert.is_false(matches("[!]]", "]"))
    assert.is_true(matches("[a-]", "-"))
    assert.is_false(matches("[!x]", "/"))
    assert.is_false(matches("a[/]b", "a/b"))
    assert.is_true(matches("[à-ï]", "é")) -- a range of code points
    assert.is_false(matches("[à-ï]", "ö"))
  end)

  it("** crosses folders; **/ is zero or more whole folders", function()
    assert.is_true(matches("**", "a/b/c"))
    assert.is_true(matches("**/*.pdf", "x.pdf"))
    assert.is_true(matches("**/*.pdf", "a/b/x.pdf"))
    assert.is_false(matches("**/*.pdf", "a/b/x.pdfs"))
    assert.is_true(matches("a/**/b", "a/b"))
    assert.is_true(matches("a/**/b", "a/x/b"))
    assert.is_true(matches("a/**/b", "a/x/y/b"))
    assert.is_false(matches("a/**/b", "a/xb"))
    assert.is_false(matches("a/**/b", "ab"))
    assert.is_true(matches("a/**", "a/x/y"))
    assert.is_true(matches("a/**", "a/"))
    assert.is_false(matches("a/**", "b/x"))
    assert.is_true(matches("a**b", "a/x/b")) -- ** not a whole part still crosses
  end)

  it("a backslash makes the next character plain", function()
    assert.is_true(matches("\\*", "*"))
    assert.is_false(matches("\\*", "a"))
    assert.is_true(matches("a\\?", "a?"))
    assert.is_false(matches("a\\?", "ab"))
    assert.is_true(matches("\\[x]", "[x]"))
    assert.is_true(matches("[\\]]", "]"))
    assert.is_true(matches("\\\\", "\\"))
  end)

  it("matches the whole path, not a part of it", function()
    assert.is_false(matches("a", "ab"))
    assert.is_false(matches("b", "ab"))
    assert.is_true(matches("", ""))
    assert.is_false(matches("", "a"))
  end)

  it("refuses a bad glob with a message naming it", function()
    for _, bad in ipairs({ "[abc", "x[", "[!", "[]", "ab\\", "[a\\" }) do
      local m, err = glob.compile(bad)
      assert.is_nil(m, bad)
      assert.matches("bad glob '" .. bad:gsub("%p", "%%%0") .. "'", err)
    end
    assert.matches("not closed", select(2, glob.compile("[abc")))
    assert.matches("backslash", select(2, glob.compile("ab\\")))
    assert.has_error(function() glob.compile(nil) end)
  end)

  -- A backtracking matcher takes exponential time on these; ours is bounded
  -- by path length x glob length. Hang guard: a CPU-time bound far above
  -- what it takes (about 0.05 s) and far below a backtracker's (hours).
  it("runs in time proportional to path x glob on adversarial globs", function()
    local long = string.rep("a", 20000)
    local cases = {
      { "*a*a*a*a*a*b", long },
      { "**a**a**a**a**a**b", long },
      { "*a*a*a*a*a*a*a*a*a*a*a*b", string.rep("a", 5000) },
      { "a/**/**/**/**/**/b", string.rep("a/", 2000) .. "c" },
      { "*?*?*?*?*?*?*!", string.rep("x", 10000) },
    }
    local guard = 5 * require("support.slowdown")
    for _, c in ipairs(cases) do
      local m = assert(glob.compile(c[1]))
      local t0 = cpu()
      -- the guard: a match still running after 5 s of CPU (native) is stopped (a
      -- count hook; LuaJIT compiles loops past hooks, so the JIT is off here)
      if jit then jit.off() end
      debug.sethook(function()
        if cpu() - t0 > guard then error("hang guard: " .. c[1] .. " still matching after " .. guard .. " s") end
      end, "", 100000)
      local ok, result = pcall(m.match, m, c[2])
      debug.sethook()
      if jit then jit.on() end
      assert.is_true(ok, tostring(result))
      assert.is_false(result, c[1])
      assert.is_true(cpu() - t0 < guard, c[1] .. " took " .. (cpu() - t0) .. " s")
    end
    -- and it still finds a match at the far end
    assert.is_true(matches("*a*a*a*a*a*b", long .. "b"))
  end)

  it("compiles once and matches many paths", function()
    local m = assert(glob.compile("**/[0-9]*.jpg"))
    assert.equal("**/[0-9]*.jpg", m.source)
    assert.is_true(m:match("2024/1.jpg"))
    assert.is_false(m:match("2024/x1.jpg"))
    assert.is_true(m:match("7.jpg"))
  end)
end)
