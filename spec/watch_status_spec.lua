-- The watch CLI's status line while ION is unreachable, written to a stream
-- stub that records what a terminal (or a log file) would receive.
local watch_status = require("ion.upload.cli.watch_status")

local function stream()
  local s = { text = "" }
  function s:write(...)
    for _, part in ipairs({ ... }) do self.text = self.text .. part end
    return self
  end
  function s.flush() end
  return s
end

describe("the watch's status line", function()
  it("on a terminal: one line redrawn in place, other lines above it, then the end", function()
    local out = stream()
    local st = watch_status.new({ out = out, tty = true, width = 80 })
    st:waiting("waiting for ION since 08:00:00 (network), 1 file queued")
    assert.equal("\rwaiting for ION since 08:00:00 (network), 1 file queued\27[K", out.text)
    out.text = ""
    st:waiting("waiting for ION since 08:00:00 (network), 1 file queued")
    assert.equal("", out.text, "the same text is not drawn again")
    st:waiting("waiting for ION since 08:00:00 (network), 2 files queued")
    assert.equal("\rwaiting for ION since 08:00:00 (network), 2 files queued\27[K", out.text)
    assert.is_nil(out.text:find("\n", 1, true))
    out.text = ""
    st:print("take  b.txt")
    assert.equal("\r\27[Ktake  b.txt\n\rwaiting for ION since 08:00:00 (network), 2 files queued\27[K", out.text)
    out.text = ""
    st:resumed("ION is reachable again (waited 3 s)")
    assert.equal("\r\27[KION is reachable again (waited 3 s)\n", out.text)
    assert.is_false(st.active)
    out.text = ""
    st:close()
    assert.equal("", out.text)
  end)

  it("fits a long line to the terminal's width", function()
    local out = stream()
    local st = watch_status.new({ out = out, tty = true, width = 30 })
    st:waiting(string.rep("x", 100))
    assert.is_true(#out.text < 40, out.text)
  end)

  it("off a terminal: a plain line when the wait starts and one when it ends, no control sequences", function()
    local out = stream()
    local st = watch_status.new({ out = out, tty = false, width = 80 })
    st:waiting("waiting for ION since 08:00:00 (network), 1 file queued")
    st:waiting("waiting for ION since 08:00:00 (network), 2 files queued")
    st:print("take  b.txt")
    st:resumed("ION is reachable again (waited 3 s)")
    st:close()
    assert.equal("waiting for ION since 08:00:00 (network), 1 file queued\ntake  b.txt\n"
      .. "ION is reachable again (waited 3 s)\n", out.text)
    assert.is_nil(out.text:find("[\r\27]"))
  end)
end)
