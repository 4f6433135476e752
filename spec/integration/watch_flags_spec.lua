-- integration: the upload flags of `ion-upload watch` (bin/ion-upload as a
-- child, the sandbox behind it): --receipts (one line per file attached,
-- read back by verify), the file filters as `ion-upload -r` reads them
-- (--include, --exclude-from, --hidden, --take-temporary), and the status
-- line while a file uploads on a terminal (util-linux `script`) under
-- --limit-rate, and none off a terminal.
local cjson = require("cjson")
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local core = require("ion.upload.core")

local function attached_names()
  local names = {}
  for _, a in ipairs(sandbox.attachments()) do names[#names + 1] = a.filename end
  table.sort(names)
  return table.concat(names, " ")
end

describe("integration: ion-upload watch's upload flags", function()
  local dir, inbox
  setup(function() sandbox.get() end)
  before_each(function()
    sandbox.reset()
    dir = files.tmpdir()
    inbox = dir .. "/in"
    assert(os.execute("mkdir -p '" .. inbox .. "/sub'"))
  end)
  after_each(function() files.rmdir(dir) end)

  it("--receipts: one line per file attached (none for a file the journal skips); verify reads them", function()
    local a = files.write(inbox, "a.csv", "a,b\n1,2\n")
    local b = files.write(inbox .. "/sub", "RS12_b.txt", "bee")
    local rules = files.write(dir, "rules.lua", 'return { { match = "RS(%d+)_", target = { run_step = "%1" } },'
      .. ' { match = ".", target = { run = 7 } } }')
    local receipts, journal = dir .. "/w.receipts", dir .. "/w.journal"
    local common = { "watch", inbox, "--rules", rules, "--once", "--settle", "0", "--receipts", receipts,
      "--journal", journal }
    local r = run.cli(common)
    assert.equal(0, r.code, r.stderr)
    local recs = {}
    for line in files.read(receipts):gmatch("[^\n]+") do
      local rec = cjson.decode(line)
      recs[rec.filename] = rec
    end
    local atts = {}
    for _, att in ipairs(sandbox.attachments()) do atts[att.filename] = att end
    for name, want in pairs({ ["a.csv"] = { a, "run", 7 }, ["RS12_b.txt"] = { b, "run_step", 12 } }) do
      local rec = assert(recs[name], name)
      assert.equal(core.realpath(want[1]), rec.path)
      assert.equal(files.md5(want[1]), rec.md5)
      assert.matches("^%x+$", rec.sha256)
      assert.equal(64, #rec.sha256)
      assert.same({ kind = want[2], id = want[3] }, rec.target)
      assert.equal(atts[name].id, rec.id)
    end
    r = run.cli(common) -- the journal shows both attached: skipped, no new line
    assert.equal(0, r.code, r.stderr)
    local n = 0
    for _ in files.read(receipts):gmatch("[^\n]+") do n = n + 1 end
    assert.equal(2, n)
    r = run.cli({ "verify", "--receipts", receipts })
    assert.equal(0, r.code, r.stdout .. r.stderr)
    assert.matches("ion-upload verify: 2 ok", r.stderr, 1, true)
  end)

  it("--include means only these; temporary names need --take-temporary, dot names --hidden", function()
    for _, name in ipairs({ "a.pdf", "b.txt", "c.pdf.part", "~$d.pdf", ".e.pdf" }) do files.write(inbox, name, name) end
    assert(os.execute("mkdir -p '" .. inbox .. "/drafts'"))
    files.write(inbox .. "/drafts", "f.pdf", "draft")
    files.write(inbox .. "/sub", "g.pdf", "deep")
    local ignore = files.write(dir, "ignore", "# not these\ndrafts/\n")
    local r = run.cli({ "watch", inbox, "--run", "1", "--once", "--settle", "0", "--include", "*.pdf",
      "--exclude-from", ignore })
    assert.equal(0, r.code, r.stderr)
    assert.equal("a.pdf g.pdf", attached_names()) -- (Word's ~$d.pdf matches *.pdf: still temporary)
    sandbox.reset()
    r = run.cli({ "watch", inbox, "--run", "1", "--once", "--settle", "0", "--include", "*.pdf", "--include",
      "*.part", "--take-temporary", "*.part", "--hidden" })
    assert.equal(0, r.code, r.stderr)
    assert.equal(".e.pdf a.pdf c.pdf.part f.pdf g.pdf", attached_names())
  end)

  it("a status line names the file uploading on a terminal (--limit-rate holds it back); none off one", function()
    local big = files.write(inbox, "big.bin", string.rep("b", 256 * 1024))
    local cmd = run.env_prefix() .. " " .. run.command({ "watch", inbox, "--run", "3", "--once", "--settle", "0",
      "--limit-rate", "128K" })
    local out = os.tmpname()
    local started = core.now()
    local sh = string.format("cd %s && script -qfec %s /dev/null > %s 2>&1; echo $?", run.quote(sandbox.root),
      run.quote("stty cols 100 rows 30; " .. cmd), run.quote(out))
    local p = io.popen(sh)
    local code = tonumber(p:read("*l"))
    p:close()
    local took = core.now() - started
    local screen = run.read(out)
    os.remove(out)
    assert.equal(0, code, screen)
    -- 256 KiB at 128 KiB/s, after a burst of at most 64 KiB: 1.5 s at least
    assert.is_true(took >= 1.4, "took " .. took .. " s: --limit-rate did not hold the PUT back")
    local percents = {}
    for pct in screen:gmatch("\ruploading big%.bin (%d+)%%") do percents[pct] = true end
    assert.is_true(percents["0"] and percents["100"], "no line at 0% and at 100%")
    local between = 0
    for pct in pairs(percents) do
      if tonumber(pct) > 0 and tonumber(pct) < 100 then between = between + 1 end
    end
    assert.is_true(between >= 1, "no percentage between 0 and 100: " .. screen:gsub("%c", "."))
    assert.matches("ok    big.bin", screen, 1, true)
    sandbox.reset()
    files.write(inbox, "big.bin", string.rep("c", 1024)) -- (a new version: taken again)
    local r = run.cli({ "watch", inbox, "--run", "3", "--once", "--settle", "0" })
    assert.equal(0, r.code, r.stderr)
    assert.is_nil(r.stderr:find("uploading", 1, true))
    assert.is_nil(r.stderr:find("\27", 1, true))
    assert.equal(files.md5(big), sandbox.attachments()[1].md5)
  end)
end)
