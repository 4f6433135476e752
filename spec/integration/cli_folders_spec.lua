-- integration: `ion-upload -r` uploads whole folders to the sandbox (child
-- process, through libcurl): sorted order, hidden names, globs, exclusion
-- winning over inclusion, --exclude-from, --relative-names, symlink loops;
-- and the usage errors (exit 2, nothing sent): a folder without -r, a bad
-- glob, an unreadable --exclude-from file, folder flags without -r.
local cjson = require("cjson")
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")

local q = files.quote

local function json_lines(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    local rec = cjson.decode(line)
    assert(rec.path, "stdout holds one object per file: " .. line) -- the summary goes to stderr
    out[#out + 1] = rec
  end
  return out
end

local function field(lines, key)
  local out = {}
  for i, l in ipairs(lines) do out[i] = l[key] end
  return out
end

describe("integration: ion-upload -r", function()
  local dir, root

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    root = dir .. "/scans"
    assert(os.execute("mkdir -p " .. q(root .. "/2024/drafts") .. " " .. q(root .. "/.cache") .. " "
      .. q(root .. "/b")))
    for _, f in ipairs({ "a.pdf", "notes.txt", "2024/x.pdf", "2024/y.tmp", "2024/drafts/d.pdf", ".cache/c.pdf",
      ".hidden.pdf", "b/z.pdf" }) do
      files.write(root, f, "content of " .. f .. "\n")
    end
    assert(os.execute("ln -s .. " .. q(root .. "/b/up"))) -- a loop back to scans/
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  it("uploads every file of a folder tree in sorted order, hidden names skipped", function()
    local r = run.cli({ "--part", "50", "-r", "--json", root })
    assert.equal(0, r.code, r.stderr)
    local lines = json_lines(r.stdout)
    assert.same({ root .. "/2024/drafts/d.pdf", root .. "/2024/x.pdf", root .. "/2024/y.tmp", root .. "/a.pdf",
      root .. "/b/z.pdf", root .. "/notes.txt" }, field(lines, "path"))
    assert.same({ "d.pdf", "x.pdf", "y.tmp", "a.pdf", "z.pdf", "notes.txt" }, field(lines, "filename"))
    for _, l in ipairs(lines) do
      assert.is_true(l.ok)
      assert.equal(files.md5(l.path), l.md5)
    end
    assert.equal(6, #sandbox.attachments())
    -- the link back up is reported, not followed, and does not fail the run
    assert.matches("note  " .. (root .. "/b/up"):gsub("%p", "%%%0") .. ": not followed: a symlink to a folder",
      r.stderr)
    assert.matches("6 attached, 0 skipped, 0 failed", r.stderr, 1, true)
  end)

  it("mixes folders and files; --hidden takes dot names; --relative-names names by path", function()
    local extra = files.write(dir, "single.txt", "one\n")
    local r = run.cli({ "--part", "50", "-r", "--hidden", "--relative-names", "--json", extra, root .. "/2024" })
    assert.equal(0, r.code, r.stderr)
    local lines = json_lines(r.stdout)
    assert.same({ "single.txt", "drafts/d.pdf", "x.pdf", "y.tmp" }, field(lines, "filename"))
    r = run.cli({ "--part", "50", "-r", "--hidden", "--json", "--include", "*.pdf", root })
    assert.equal(0, r.code, r.stderr)
    assert.same({ ".cache/c.pdf", ".hidden.pdf", "2024/drafts/d.pdf", "2024/x.pdf", "a.pdf", "b/z.pdf" },
      (function()
        local rels = {}
        for i, p in ipairs(field(json_lines(r.stdout), "path")) do rels[i] = p:sub(#root + 2) end
        return rels
      end)())
  end)

  it("exclusion wins over inclusion, whatever the order of the flags", function()
    for _, args in ipairs({
      { "--include", "*.pdf", "--exclude", "drafts/" },
      { "--exclude", "drafts/", "--include", "*.pdf" },
      { "--exclude", "**/drafts/**", "--include", "*.pdf", "--include", "2024/drafts/d.pdf" },
    }) do
      sandbox.reset()
      local argv = { "--part", "50", "-r", "--json", "--quiet" }
      for _, a in ipairs(args) do argv[#argv + 1] = a end
      argv[#argv + 1] = root
      local r = run.cli(argv)
      assert.equal(0, r.code, r.stderr)
      assert.same({ "x.pdf", "a.pdf", "z.pdf" }, field(json_lines(r.stdout), "filename"), table.concat(args, " "))
      assert.equal(3, #sandbox.attachments())
    end
  end)

  it("reads --exclude-from files (comments and blank lines skipped)", function()
    local ex = files.write(dir, "exclude.txt", "# not these\n*.tmp\n\n2024/drafts/\n")
    local ex2 = files.write(dir, "exclude2.txt", "notes.*\n")
    local r = run.cli({ "--part", "50", "-r", "--json", "--exclude-from", ex, "--exclude-from", ex2, root })
    assert.equal(0, r.code, r.stderr)
    assert.same({ "x.pdf", "a.pdf", "z.pdf" }, field(json_lines(r.stdout), "filename"))
  end)

  it("follows links to folders with --follow and reports the loop once", function()
    local r = run.cli({ "--part", "50", "-r", "--follow", "--json", "--include", "z.pdf", root })
    assert.equal(0, r.code, r.stderr)
    assert.same({ root .. "/b/z.pdf" }, field(json_lines(r.stdout), "path"))
    local _, loops = r.stderr:gsub("a loop", "")
    assert.equal(1, loops, r.stderr)
  end)

  it("takes a file once when folders, globs or a file argument reach it twice, a link to it too", function()
    local link = root .. "/b/link-to-x.pdf"
    os.remove(link)
    assert(os.execute("ln -s ../2024/x.pdf " .. q(link)))
    local r = run.cli({ "--part", "50", "-r", "--json", "--include", "*.pdf", root .. "/2024", root,
      root .. "/a.pdf" })
    os.remove(link)
    assert.equal(0, r.code, r.stderr)
    local paths = field(json_lines(r.stdout), "path")
    assert.same({ root .. "/2024/drafts/d.pdf", root .. "/2024/x.pdf", root .. "/a.pdf", root .. "/b/z.pdf" }, paths)
    for _, twice in ipairs({ root .. "/2024/drafts/d.pdf", root .. "/2024/x.pdf", link, root .. "/a.pdf" }) do
      assert.matches("note  " .. twice:gsub("%p", "%%%0") .. ": given twice", r.stderr)
    end
    assert.equal(4, #sandbox.attachments())
  end)

  it("an empty folder (or one with only hidden files) uploads nothing and says so", function()
    local empty = dir .. "/empty"
    assert(os.execute("mkdir -p " .. q(empty)))
    files.write(empty, ".only-hidden", "h")
    local r = run.cli({ "--part", "50", "-r", empty })
    assert.equal(0, r.code, r.stderr)
    assert.matches("no file to upload in this folder", r.stderr, 1, true)
    assert.equal(0, #sandbox.attachments())
  end)

  it("a run that selects no file at all warns on stderr and exits 0; --quiet keeps quiet", function()
    local empty = dir .. "/empty2"
    assert(os.execute("mkdir -p " .. q(empty)))
    local warning = "ion-upload: warning: no file selected, nothing uploaded"
    for _, argv in ipairs({
      { "--part", "50", "-r", empty },
      { "--part", "50", "-r", "--include", "*.docx", root, empty }, -- filters that match nothing
      { "--part", "50", "-r", "--json", empty },
      { "--part", "50", "-r", "--dry-run", empty },
    }) do
      local r = run.cli(argv)
      assert.equal(0, r.code, r.stderr)
      assert.matches("\n" .. warning:gsub("%p", "%%%0"), "\n" .. r.stderr)
      -- no file's line (--dry-run's totals aside)
      assert.equal(argv[4] == "--dry-run" and "ion-upload: dry run: 0 files" or "", r.stdout:sub(1, 28))
    end
    -- cron: an empty folder is no failure, and --quiet prints only failures
    local r = run.cli({ "--part", "50", "-r", "--quiet", empty })
    assert.same({ 0, "", "" }, { r.code, r.stdout, r.stderr })
    -- a run that selected files does not warn
    r = run.cli({ "--part", "50", "-r", "--include", "z.pdf", root })
    assert.equal(0, r.code, r.stderr)
    assert.not_matches("no file selected", r.stderr, 1, true)
    assert.equal(1, #sandbox.attachments())
  end)

  describe("usage errors: exit 2 with a clear message, nothing sent", function()
    local function refused(argv, pattern)
      local r = run.cli(argv)
      assert.equal(2, r.code, r.stderr)
      assert.matches(pattern, r.stderr)
      assert.equal("", r.stdout)
      assert.equal(0, #sandbox.attachments())
      local c = sandbox.counters()
      assert.equal(0, c.storage.puts)
      assert.equal(0, c.graphql.requests)
    end

    it("a folder without -r names -r", function()
      refused({ "--part", "50", dir .. "/single.txt", root },
        "^ion%-upload: " .. root:gsub("%p", "%%%0") .. " is a folder: add %-r %(%-%-recursive%) to upload the files")
    end)

    it("a bad glob is named", function()
      refused({ "--part", "50", "-r", "--exclude", "2024/[ab", root },
        "^ion%-upload: %-%-exclude: bad glob '2024/%[ab': it has a %[ that is not closed by %]")
      refused({ "--part", "50", "-r", "--include", "[a-", root },
        "^ion%-upload: %-%-include: bad glob '%[a%-': it has a %[ that is not closed by %]")
      refused({ "--part", "50", "-r", "--include", "x\\", root },
        "^ion%-upload: %-%-include: bad glob 'x\\': it ends with a lone backslash")
      local ex = files.write(dir, "bad-exclude.txt", "*.tmp\n[oops\n")
      refused({ "--part", "50", "-r", "--exclude-from", ex, root },
        "^ion%-upload: " .. ex:gsub("%p", "%%%0") .. ":2: bad glob '%[oops'")
    end)

    it("an --exclude that leaves out every file is refused, with --include or without (aws s3's filters)", function()
      local rule = "exclusion wins over %-%-include: nothing would be uploaded %(to take only the files %-%-include "
        .. "matches, give %-%-include alone%)\n$"
      refused({ "--part", "50", "-r", "--exclude", "*", "--include", "*.pdf", root },
        "^ion%-upload: %-%-exclude '%*' leaves out every file, and an " .. rule)
      refused({ "--part", "50", "-r", "--include", "*.pdf", "--exclude", "**", root }, "'%*%*' leaves out every file")
      refused({ "--part", "50", "-r", "--exclude", "/*", root }, "^ion%-upload: %-%-exclude '/%*' leaves out every "
        .. "file: nothing would be uploaded\n$")
      local ex = files.write(dir, "all-exclude.txt", "*.tmp\n**/*\n")
      refused({ "--part", "50", "-r", "--exclude-from", ex, "--include", "*.pdf", root },
        "^ion%-upload: " .. ex:gsub("%p", "%%%0") .. ":2: '%*%*/%*' leaves out every file, and an " .. rule)
    end)

    it("an unreadable --exclude-from file is named", function()
      refused({ "--part", "50", "-r", "--exclude-from", dir .. "/no-such-list.txt", root },
        "^ion%-upload: %-%-exclude%-from: cannot read " .. (dir .. "/no-such-list.txt"):gsub("%p", "%%%0")
          .. ": No such file or directory\n$")
      refused({ "--part", "50", "-r", "--exclude-from", root, root }, -- a folder is no list of globs
        "^ion%-upload: %-%-exclude%-from: cannot read " .. root:gsub("%p", "%%%0"))
    end)

    it("folder flags without -r ask for -r", function()
      refused({ "--part", "50", "--include", "*.pdf", root .. "/a.pdf" },
        "^ion%-upload: %-%-include applies to folders: add %-r")
      refused({ "--part", "50", "--hidden", root .. "/a.pdf" }, "^ion%-upload: %-%-hidden applies to folders: add %-r")
      local m = files.write(dir, "m.csv", "path,target,id,filename\n" .. root .. "/a.pdf,part,50,\n")
      refused({ "--manifest", m, "-r" }, "^ion%-upload: %-%-manifest lists the files itself: drop %-r")
    end)
  end)
end)
