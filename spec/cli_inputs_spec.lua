-- Unit spec: the FILE arguments of an `ion-upload` run (cli/inputs.lua) on
-- real files, through the real core with its stat counted (a wrapper, no
-- stub): an argument is stat-ed once, its entry carries the display size
-- (stream.lua then asks no stat of its own), a duplicate is still told.
local core = require("ion.upload.core")
local inputs = require("ion.upload.cli.inputs")
local files = require("support.files")

describe("ion.upload.cli.inputs (FILE arguments)", function()
  local dir
  before_each(function()
    dir = files.tmpdir()
    files.write(dir, "a.txt", "12345")
    files.write(dir, "b.txt", "1234567")
  end)
  after_each(function() files.rmdir(dir) end)

  local function counting_core(calls)
    return setmetatable({
      stat = function(path, with_real)
        calls[path] = (calls[path] or 0) + 1
        return core.stat(path, with_real)
      end,
    }, { __index = core })
  end

  it("stats each argument once and hands its size on with the entry", function()
    local calls, notes = {}, {}
    local a, b, missing = dir .. "/a.txt", dir .. "/b.txt", dir .. "/none.txt"
    local args = { files = { a, b, missing, a }, target = { run = 1 } }
    local source = assert(inputs.open(args, counting_core(calls), function(path, message)
      notes[#notes + 1] = path .. ": " .. message
    end))
    local list = source:all()
    source:close()
    assert.equal(3, #list)
    assert.same({ a, 5 }, { list[1].path, list[1].size })
    assert.same({ b, 7 }, { list[2].path, list[2].size })
    assert.same({ missing, 0 }, { list[3].path, list[3].size }) -- the engine says why it fails
    assert.same({ [a] = 2, [b] = 1, [missing] = 1 }, calls) -- a was given twice
    assert.same({ a .. ": given twice (the same file, to the same target): taken once" }, notes)
  end)

  it("refuses a folder without -r before any entry", function()
    local source, err = inputs.open({ files = { dir .. "/a.txt", dir }, target = { run = 1 } }, core, print)
    assert.is_nil(source)
    assert.equal(dir .. " is a folder: add -r (--recursive) to upload the files in it", err)
  end)
end)
