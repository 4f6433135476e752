-- files.basename and files.check_name, which every item goes through: the
-- shapes of path they must keep reading the same (rewritten for speed at a
-- million files, issue 16).
local files = require("ion.upload.files")

describe("files.basename", function()
  it("takes the last component, after / or \\", function()
    assert.equal("c.jpg", files.basename("a/b/c.jpg"))
    assert.equal("c.d", files.basename("a/b//c.d"))
    assert.equal("x", files.basename("/x"))
    assert.equal("b", files.basename("a\\b"))
    assert.equal("c", files.basename("c"))
  end)

  it("drops trailing separators, and keeps a path of separators only as it is", function()
    assert.equal("b", files.basename("a/b/"))
    assert.equal("x", files.basename("x//"))
    assert.equal("///", files.basename("///"))
    assert.equal("", files.basename(""))
  end)
end)

describe("files.check_name", function()
  it("takes ASCII and well-formed UTF-8, refuses other bytes", function()
    assert.is_true(files.check_name("ok.txt"))
    assert.is_true(files.check_name("caf\195\169.txt"))
    local ok, err = files.check_name("bad\255.txt")
    assert.is_nil(ok)
    assert.equal("bad_input", err.code)
    assert.is_nil((files.check_name("over\192\175long.txt"))) -- an overlong "/"
  end)
end)
