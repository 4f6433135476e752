-- Unit spec: ion-upload --dry-run's output (ion.upload.cli.dry_run). The
-- client is a stub whose plan() returns a plan made here, and stdout/stderr
-- are string buffers: no network, no process. The real thing runs in
-- spec/integration/cli_dry_run_spec.lua.
local cjson = require("cjson")
local dry_run = require("ion.upload.cli.dry_run")
local errors = require("ion.upload.errors")
local hints = require("ion.upload.cli.hints")

local function buffer()
  local b = { text = "" }
  function b:write(...)
    for _, s in ipairs({ ... }) do self.text = self.text .. s end
  end
  function b.flush() end
  return b
end

local function stub_client(p)
  local c = { closed = false }
  function c.plan(_, items, opts)
    c.items, c.opts = items, opts
    return p
  end
  function c.close() c.closed = true end
  return c
end

local ok_entry = { path = "a.txt", target_kind = "run_step", target_id = 12, entity_id = "128", filename = "a.txt",
  size = 2048, ok = true, action = "upload" }

describe("cli dry_run", function()
  it("prints path, target, entity, size and display name, escaping what a server or a name gave", function()
    assert.equal('plan  a.txt -> run_step 12 (entity 128), 2.0 KiB, as "a.txt"', dry_run.plain_line(ok_entry))
    local line = dry_run.plain_line({ path = "x\27[2J.txt", target_kind = "part", target_id = 3,
      entity_id = "9\27]0;pwn\7", filename = "n\r\n.txt", size = 1, ok = true, action = "register", in_doubt = true })
    assert.not_matches("[%c]", line)
    assert.matches("x\\027[2J.txt", line, 1, true)
    assert.matches("entity 9\\027]0;pwn\\007", line, 1, true)
    assert.matches('as "n\\013\\010.txt"', line, 1, true)
    assert.matches("registered without a second upload", line, 1, true)
    assert.matches("ended in doubt", line, 1, true)
    local skip = dry_run.plain_line({ path = "s.txt", target_kind = "run", target_id = 1, entity_id = "5", ok = true,
      action = "skip", attachment_id = "42\27[K" })
    assert.equal("skip  s.txt -> run 1 (entity 5): already attachment 42\\027[K, per the journal", skip)
    local fail = dry_run.plain_line({ path = "f.txt", target_kind = "part", target_id = 999, ok = false,
      err = errors.new("not_found", "part 999 not found") })
    assert.equal("FAIL  f.txt -> part 999: not_found", fail)
  end)

  it("gives each file one JSON object with its keys in a fixed order, and the totals one line", function()
    assert.equal('{"path":"a.txt","ok":true,"action":"upload","target":"run_step","targetId":12,"entityId":"128",'
      .. '"filename":"a.txt","size":2048}', dry_run.json_line(ok_entry))
    local f = cjson.decode(dry_run.json_line({ path = "d/f.txt", target_kind = "part", target_id = 999, ok = false,
      err = errors.new("not_found", "part 999 not found") }))
    assert.same({ path = "d/f.txt", ok = false, target = "part", targetId = 999, error = { code = "not_found",
      message = "part 999 not found", hint = errors.hints.not_found } }, f)
    local line = dry_run.json_line({ path = "e\27.txt", ok = true, action = "skip", target_kind = "run",
      target_id = 1, entity_id = "5", attachment_id = 4242 })
    assert.not_matches("\27", line, 1, true) -- JSON escapes control characters itself
    assert.equal(4242, cjson.decode(line).attachmentId)
    assert.equal('{"totals":{"files":3,"bytes":10,"targets":1,"failing":1,"upload":1,"register":0,"skip":1,'
      .. '"requests":2}}', dry_run.json_totals({ files = 3, bytes = 10, targets = 1, failing = 1, upload = 1,
        register = 0, skip = 1, requests = 2 }))
  end)

  local function entries_and_items()
    local entries = {
      { path = "a.txt", item = { path = "a.txt", target = { run_step = 12 } } },
      { path = "bad-row", err = errors.new("bad_input", "manifest line 3: no id") },
      { path = "f.txt", item = { path = "f.txt", target = { part = 999 } } },
    }
    local items, where = { entries[1].item, entries[3].item }, { 1, 3 }
    local p = { items = { ok_entry, { path = "f.txt", target_kind = "part", target_id = 999, ok = false,
      err = errors.new("not_found", "f.txt: part 999 not found") } },
      totals = { requests = 1 } }
    return entries, items, where, p
  end

  it("puts the CLI's own refusals in their place, prints totals and why each fails, and exits 1", function()
    local entries, items, where, p = entries_and_items()
    local client, out, err = stub_client(p), buffer(), buffer()
    local code = dry_run.run(client, entries, items, where, { journal = "j", window = 7 },
      { stdout = out, stderr = err })
    assert.equal(1, code)
    assert.is_true(client.closed)
    assert.same({ journal = "j", window = 7 }, client.opts)
    assert.equal("", err.text)
    local lines = {}
    for l in out.text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.same({
      'plan  a.txt -> run_step 12 (entity 128), 2.0 KiB, as "a.txt"',
      "FAIL  bad-row: bad_input",
      "FAIL  f.txt -> part 999: not_found",
      "ion-upload: dry run: 3 files to 1 target: 1 to upload (2.0 KiB), 0 to register only, 0 already attached, "
        .. "2 would fail; 1 lookup request, nothing uploaded or attached",
      "would fail:",
      "  FAIL  bad-row: bad_input: manifest line 3: no id (" .. errors.hints.bad_input .. ")",
      -- the path said once, the hint in the CLI's words (cli/hints.lua)
      "  FAIL  f.txt: not_found: part 999 not found (" .. hints.codes.not_found .. ")",
    }, lines)
  end)

  it("--json: JSON on stdout only; --quiet keeps the words off stderr unless something fails", function()
    local entries, items, where, p = entries_and_items()
    local out, err = buffer(), buffer()
    assert.equal(1, dry_run.run(stub_client(p), entries, items, where, { json = true, quiet = true },
      { stdout = out, stderr = err }))
    local n = 0
    for l in out.text:gmatch("[^\n]+") do
      n = n + 1
      assert.is_table(cjson.decode(l))
    end
    assert.equal(4, n)
    assert.matches("would fail:", err.text, 1, true)

    out, err = buffer(), buffer()
    assert.equal(0, dry_run.run(stub_client({ items = { ok_entry }, totals = { requests = 1 } }),
      { entries[1] }, { items[1] }, { 1 }, { json = true, quiet = true }, { stdout = out, stderr = err }))
    assert.equal("", err.text)
    assert.equal(2, select(2, out.text:gsub("\n", "")))
  end)

  it("says what each target found by name resolved to, or the filter that failed, and how", function()
    local by_sn = { run_step = { run = { where = { title = { eq = "SN004512 final test" } } }, title = "Final test" } }
    local by_part = { part = { where = { partNumber = { eq = "PN-77" } } } }
    local items = { { path = "SN004517_final.csv", target = by_sn }, { path = "SN004512_final.csv", target = by_sn },
      { path = "scan.pdf", target = by_part } }
    local entries = { { path = items[1].path, item = items[1] }, { path = items[2].path, item = items[2] },
      { path = items[3].path, item = items[3] } }
    -- the plan as the library gives it: the resolved id as target_id (none for a failure)
    local p = { totals = { requests = 1 }, items = {
      { path = items[1].path, ok = true, action = "upload", target_kind = "run_step", target_id = 26,
        entity_id = "9876", filename = "SN004517_final.csv", size = 1229 },
      { path = items[2].path, ok = false, target_kind = "run_step", target_id = by_sn.run_step,
        err = errors.new("bad_input", "ambiguous: 2 or more runs match title = \"SN004512 final test\"") },
      { path = items[3].path, ok = false, target_kind = "part",
        err = errors.new("not_found", "no part matches partNumber = \"PN-77\"") },
    } }
    local out, err = buffer(), buffer()
    assert.equal(1, dry_run.run(stub_client(p), entries, items, { 1, 2, 3 }, {}, { stdout = out, stderr = err }))
    local lines = {}
    for l in out.text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equal("plan  SN004517_final.csv -> run_step 'Final test' of run title=SN004512 final test = run_step 26 "
      .. "(entity 9876), 1.2 KiB, as \"SN004517_final.csv\"", lines[1])
    assert.equal("FAIL  SN004512_final.csv -> run_step 'Final test' of run title=SN004512 final test: bad_input",
      lines[2])
    assert.equal("FAIL  scan.pdf -> part partNumber=PN-77: not_found", lines[3])
    assert.matches("FAIL  SN004512_final.csv: bad_input: ambiguous: 2 or more runs match title = \"SN004512 final "
      .. "test\"", out.text, 1, true)
    assert.matches("FAIL  scan.pdf: not_found: no part matches partNumber = \"PN-77\"", out.text, 1, true)
    -- JSON: the resolved id as targetId, the words as lookup
    local j = cjson.decode(dry_run.json_line(p.items[1]))
    assert.same({ 26, "run_step 'Final test' of run title=SN004512 final test" }, { j.targetId, j.lookup })
    j = cjson.decode(dry_run.json_line(p.items[2]))
    assert.is_nil(j.targetId)
    assert.equal("run_step 'Final test' of run title=SN004512 final test", j.lookup)
    -- a plan entry seen without the CLI's items: the library's own words
    assert.matches("-> run_step #2 of run 7", dry_run.plain_line({ path = "x", ok = false, target_kind = "run_step",
      target_id = { run = 7, position = 2 }, err = { code = "not_found" } }), 1, true)
  end)

  it("a plan refused as a whole (an unreadable journal) is a usage error", function()
    local client = stub_client(nil)
    client.plan = function() return nil, errors.new("bad_input", "cannot read journal j\27: Is a directory") end
    local said
    local code = dry_run.run(client, {}, {}, {}, { journal = "j" }, { stdout = buffer(), stderr = buffer(),
      usage_error = function(m) said = m return 2 end })
    assert.equal(2, code)
    assert.matches("cannot read journal j\\027", said, 1, true)
  end)
end)
