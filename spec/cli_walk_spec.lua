-- unit spec: the folder walker (lua/ion/upload/cli/walk.lua) over the real
-- core.list_dir, on a temporary tree with hidden names, symlinks to folders,
-- a symlink loop and a dangling link. One case stubs list_dir (says so).
local core = require("ion.upload.core")
local walk = require("ion.upload.cli.walk")
local files = require("support.files")

local q = files.quote

local function sh(cmd) assert(os.execute(cmd)) end

local function collect(root, opts)
  local out, notes, errs = {}, {}, {}
  for rec in walk.files(root, opts) do
    if rec.kind == "file" then
      out[#out + 1] = rec.rel
    elseif rec.kind == "note" then
      notes[#notes + 1] = rec
    else
      errs[#errs + 1] = rec
    end
  end
  return out, notes, errs
end

local function filter(opts)
  return assert(walk.filter(opts))
end

describe("cli walk", function()
  local dir, root

  setup(function()
    dir = files.tmpdir()
    root = dir .. "/tree"
    sh("mkdir -p " .. q(root .. "/b/c") .. " " .. q(root .. "/.git/objects") .. " " .. q(root .. "/drafts")
      .. " " .. q(dir .. "/outside"))
    for _, f in ipairs({ "a.txt", "b/x.pdf", "b/c/y.pdf", "b/c/z.tmp", ".env", ".git/objects/o1", "drafts/d.pdf",
      "b.txt", "B.txt", "b/c/.hidden.pdf" }) do
      files.write(root, f, f)
    end
    files.write(dir, "outside/o.txt", "o")
    sh("ln -s ../.. " .. q(root .. "/b/c/loop"))   -- leads back to tree/
    sh("ln -s ../outside " .. q(root .. "/linked")) -- a folder elsewhere
    sh("ln -s a.txt " .. q(root .. "/same.txt"))    -- a link to a file is a file
    sh("ln -s nowhere " .. q(root .. "/dangling"))
    sh("mkfifo " .. q(root .. "/pipe"))
  end)
  teardown(function() files.rmdir(dir) end)

  describe("core.list_dir", function()
    it("gives sorted entries with lstat facts and the link's target", function()
      local entries, id = core.list_dir(root)
      assert.is_string(id)
      assert.matches("^%d+:%d+$", id)
      local names, by = {}, {}
      for _, e in ipairs(entries) do
        names[#names + 1] = e.name
        by[e.name] = e
      end
      assert.same({ ".env", ".git", "B.txt", "a.txt", "b", "b.txt", "dangling", "drafts", "linked", "pipe",
        "same.txt" }, names)
      assert.equal("file", by["a.txt"].type)
      assert.equal(5, by["a.txt"].size)
      assert.is_number(by["a.txt"].mtime)
      assert.is_number(by["a.txt"].dev)
      assert.is_number(by["a.txt"].ino)
      assert.equal("dir", by.b.type)
      assert.equal("other", by.pipe.type)
      assert.equal("link", by.linked.type)
      assert.equal("dir", by.linked.target_type)
      assert.equal(select(2, core.list_dir(dir .. "/outside")), by.linked.target_id)
      assert.equal("link", by["same.txt"].type)
      assert.equal("file", by["same.txt"].target_type)
      assert.equal(5, by["same.txt"].target_size)
      assert.equal("missing", by.dangling.target_type)
    end)

    it("returns nil and an error for a missing folder or a file", function()
      local e, err = core.list_dir(dir .. "/nope")
      assert.is_nil(e)
      assert.equal("bad_input", err.code)
      assert.matches("nope: No such file", err.message)
      e, err = core.list_dir(root .. "/a.txt")
      assert.is_nil(e)
      assert.matches("Not a directory", err.message)
    end)
  end)

  it("walks depth first in sorted order, skipping hidden names; links to files count", function()
    local got, notes, errs = collect(root)
    assert.same({ "B.txt", "a.txt", "b/c/y.pdf", "b/c/z.tmp", "b/x.pdf", "b.txt", "drafts/d.pdf", "same.txt" }, got)
    assert.same({}, errs)
    local why = {}
    for _, n in ipairs(notes) do why[n.path:sub(#root + 2)] = n.message end
    assert.matches("symlink to a folder", why["b/c/loop"])
    assert.matches("symlink to a folder", why.linked)
    assert.matches("symlink to nothing", why.dangling)
    assert.matches("not a regular file", why.pipe)
  end)

  it("gives each file its path, its path relative to the folder, its name and size", function()
    local it = walk.files(root .. "/") -- a trailing / changes nothing
    local rec = it()
    assert.same({ kind = "file", path = root .. "/B.txt", rel = "B.txt", name = "B.txt", size = 5,
      mtime = rec.mtime }, rec)
    for r in it do
      if r.rel == "b/c/y.pdf" then
        assert.equal(root .. "/b/c/y.pdf", r.path)
        assert.equal("y.pdf", r.name)
      end
    end
  end)

  it("takes hidden names with hidden", function()
    local got = collect(root, { hidden = true })
    assert.same({ ".env", ".git/objects/o1", "B.txt", "a.txt", "b/c/.hidden.pdf", "b/c/y.pdf", "b/c/z.tmp",
      "b/x.pdf", "b.txt", "drafts/d.pdf", "same.txt" }, got)
  end)

  it("follows links to folders with follow, and reports a loop once without failing", function()
    local got, notes, errs = collect(root, { follow = true })
    assert.same({ "B.txt", "a.txt", "b/c/y.pdf", "b/c/z.tmp", "b/x.pdf", "b.txt", "drafts/d.pdf",
      "linked/o.txt", "same.txt" }, got)
    assert.same({}, errs)
    local loops = 0
    for _, n in ipairs(notes) do
      if n.message:find("loop") then
        loops = loops + 1
        assert.equal(root .. "/b/c/loop", n.path)
      end
    end
    assert.equal(1, loops)
  end)

  it("detects a loop through two links once (a -> b -> a)", function()
    local d = dir .. "/loop2"
    sh("mkdir -p " .. q(d .. "/p") .. " " .. q(d .. "/q"))
    files.write(d, "p/f", "f")
    sh("ln -s ../q " .. q(d .. "/p/toq") .. " && ln -s ../p " .. q(d .. "/q/top"))
    local got, notes = collect(d, { follow = true })
    -- p/f, then p/toq/top is p again: a loop; q/top/f is q -> p, not a loop
    assert.same({ "p/f", "q/top/f" }, got)
    local loops = {}
    for _, n in ipairs(notes) do loops[#loops + 1] = n.path:sub(#d + 2) .. ": " .. n.message end
    assert.equal(2, #loops, table.concat(loops, "\n"))
    assert.matches("^p/toq/top: .*loop", loops[1])
    assert.matches("^q/top/toq: .*loop", loops[2])
  end)

  describe("filters (exclusion wins)", function()
    it("a glob without / matches a name at any depth", function()
      local got = collect(root, { filter = filter({ include = { "*.pdf" } }) })
      assert.same({ "b/c/y.pdf", "b/x.pdf", "drafts/d.pdf" }, got)
      got = collect(root, { filter = filter({ exclude = { "*.tmp", "*.txt" } }) })
      assert.same({ "b/c/y.pdf", "b/x.pdf", "drafts/d.pdf" }, got)
    end)

    it("a glob with / matches the whole relative path; a leading / anchors", function()
      assert.same({ "b/c/y.pdf", "b/c/z.tmp" }, (collect(root, { filter = filter({ include = { "b/c/*" } }) })))
      assert.same({ "b/c/y.pdf", "b/x.pdf" }, (collect(root, { filter = filter({ include = { "b/**/*.pdf" } }) })))
      assert.same({ "b.txt" }, (collect(root, { filter = filter({ include = { "/b.txt" } }) })))
      assert.same({ "B.txt", "a.txt", "b.txt", "same.txt" },
        (collect(root, { filter = filter({ include = { "/*" } }) })))
    end)

    it("exclusion wins over inclusion, whatever the order given", function()
      local got = collect(root, { filter = filter({ include = { "*.pdf" }, exclude = { "drafts/**" } }) })
      assert.same({ "b/c/y.pdf", "b/x.pdf" }, got)
      got = collect(root, { filter = filter({ exclude = { "y.pdf" }, include = { "b/c/y.pdf", "*.pdf" } }) })
      assert.same({ "b/x.pdf", "drafts/d.pdf" }, got)
    end)

    it("an excluded folder is not entered; a trailing / matches folders only", function()
      local listed = {}
      local function list_dir(p)
        listed[#listed + 1] = p:sub(#root + 2)
        return core.list_dir(p)
      end
      local got = collect(root, { filter = filter({ exclude = { "c/" } }), list_dir = list_dir })
      assert.same({ "B.txt", "a.txt", "b/x.pdf", "b.txt", "drafts/d.pdf", "same.txt" }, got)
      assert.same({ "", "b", "drafts" }, listed)
      -- "b.txt/" is a folder-only glob: the file b.txt stays
      got = collect(root, { filter = filter({ exclude = { "b.txt/", "drafts" } }) })
      assert.same({ "B.txt", "a.txt", "b/c/y.pdf", "b/c/z.tmp", "b/x.pdf", "b.txt", "same.txt" }, got)
    end)

    it("--include does not stop the walk into folders", function()
      local got = collect(root, { filter = filter({ include = { "y.pdf" } }) })
      assert.same({ "b/c/y.pdf" }, got)
    end)

    it("reads --exclude-from files: one glob a line, blank lines and # comments skipped", function()
      local ex = files.write(dir, "ex.txt", "# temporary files\n*.tmp\n\n   \n  # indented comment\r\ndrafts/\r\n")
      local got = collect(root, { filter = filter({ exclude_from = { ex } }) })
      assert.same({ "B.txt", "a.txt", "b/c/y.pdf", "b/x.pdf", "b.txt", "same.txt" }, got)
    end)

    it("refuses a bad glob, naming it and where it came from", function()
      local f, err = walk.filter({ exclude = { "ok", "[oops" } })
      assert.is_nil(f)
      assert.equal("--exclude: bad glob '[oops': it has a [ that is not closed by ] (write \\[ for a bracket)", err)
      f, err = walk.filter({ include = { "x\\" } })
      assert.is_nil(f)
      assert.matches("^%-%-include: bad glob 'x\\'", err)
      local ex = files.write(dir, "bad-ex.txt", "*.tmp\n# fine\nfoo[\n")
      f, err = walk.filter({ exclude_from = { ex } })
      assert.is_nil(f)
      assert.equal(ex .. ":3: bad glob 'foo[': it has a [ that is not closed by ] (write \\[ for a bracket)", err)
    end)

    it("refuses an unreadable --exclude-from file", function()
      local f, err = walk.filter({ exclude_from = { dir .. "/missing.txt" } })
      assert.is_nil(f)
      assert.equal("--exclude-from: cannot read " .. dir .. "/missing.txt: No such file or directory", err)
    end)
  end)

  it("streams: the first file comes before the later folders are read", function()
    local listed = 0
    local it = walk.files(root, { list_dir = function(p)
      listed = listed + 1
      return core.list_dir(p)
    end })
    assert.equal(0, listed) -- nothing read until asked
    assert.equal("B.txt", it().rel)
    assert.equal(1, listed)
  end)

  -- Stubbed list_dir: as root, chmod 000 does not stop a read.
  it("reports a folder it cannot read as an error record and walks on", function()
    local function list_dir(p)
      if p:match("/b/c$") then return nil, { code = "bad_input", message = p .. ": Permission denied" } end
      return core.list_dir(p)
    end
    local got, _, errs = collect(root, { list_dir = list_dir })
    assert.same({ "B.txt", "a.txt", "b/x.pdf", "b.txt", "drafts/d.pdf", "same.txt" }, got)
    assert.equal(1, #errs)
    assert.equal(root .. "/b/c", errs[1].path)
    assert.equal("bad_input", errs[1].err.code)
    assert.matches("cannot read folder .*/b/c: Permission denied", errs[1].err.message)
    assert.is_string(errs[1].err.hint)
  end)
end)
