-- integration: `ion-upload --receipts` and `ion-upload verify` as child
-- processes against the sandbox: receipt lines checked against md5sum,
-- `openssl dgst -sha256` and the sandbox's admin list; verify by receipts,
-- journal, manifest and ids; tampering through the sandbox's admin (an
-- object overwritten or deleted, an attachment deleted) and a local file
-- changed; --download DIR, and nothing written without it.
local cjson = require("cjson")
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")

local function json_lines(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do out[#out + 1] = cjson.decode(line) end
  return out
end

local function sha256(path)
  local p = io.popen("openssl dgst -sha256 -r < " .. files.quote(path))
  local out = p:read("*l") or ""
  p:close()
  return out:match("^(%x+)")
end

local function listing(dir)
  local p = io.popen("ls -A " .. files.quote(dir))
  local names = {}
  for l in p:lines() do names[#names + 1] = l end
  p:close()
  return names
end

local function by_id()
  local out = {}
  for _, a in ipairs(sandbox.attachments()) do out[a.id] = a end
  return out
end

local function lines_with(text, word)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    if line:sub(1, #word) == word then out[#out + 1] = line end
  end
  return out
end

describe("integration: ion-upload --receipts and verify", function()
  local dir, work, a, b, c

  -- Three files (one bigger than a reader-thread slot) uploaded with
  -- receipts and a journal.
  local function upload_set()
    os.execute("rm -rf " .. files.quote(work) .. " && mkdir -p " .. files.quote(work))
    a = files.write(work, "a.txt", "alpha\n")
    b = files.write(work, "b.csv", "x,y\n1,2\n")
    local big = {}
    for i = 1, 60000 do big[i] = string.format("%07d\n", i * 7919 % 9999991) end
    c = files.write(work, "c.bin", table.concat(big)) -- 480,000 bytes... and more:
    local f = assert(io.open(c, "ab"))
    f:write(string.rep("z", 700000))
    f:close()
    local r = run.cli({ "--run-step", "12", "--receipts", work .. "/receipts.jsonl", "--journal",
      work .. "/journal", a, b, c })
    assert.equal(0, r.code, r.stderr)
    return json_lines(files.read(work .. "/receipts.jsonl"))
  end

  local root
  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    work = dir .. "/work"
    -- absolute, so that ion-upload can run from another folder
    root = sandbox.root
    sandbox.root = require("ion.upload.core").realpath(root)
  end)
  teardown(function()
    sandbox.root = root
    files.rmdir(dir)
  end)
  before_each(function() sandbox.reset() end)

  it("writes one receipt line per file, with MD5 and SHA-256 of the bytes and ION's ids", function()
    local receipts = upload_set()
    assert.equal(3, #receipts)
    local admin = by_id()
    local entity = sandbox.dataset().runStep["12"]
    for i, path in ipairs({ a, b, c }) do
      local r = receipts[i]
      assert.equal(path, r.path) -- absolute (mktemp gives a real path)
      assert.equal(#files.read(path), r.size)
      assert.equal(files.md5(path), r.md5)
      assert.equal(sha256(path), r.sha256)
      assert.equal(r.md5, r.etag)
      local att = assert(admin[r.id], "no attachment " .. tostring(r.id))
      assert.equal(att.entityId, r.entityId)
      assert.equal(entity, r.entityId)
      assert.equal(att.s3Key, r.s3Key)
      assert.equal(att.md5, r.md5)
      assert.equal(att.filename, r.filename)
      assert.same({ kind = "run_step", id = 12 }, r.target)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", r.time)
      assert.is_number(r.mtime)
    end
    assert.matches('^{"path":"[^"]+","size":%d+,"mtime":[%d.e+]+,"md5":"%x+","sha256":"%x+","etag":"%x+","id":%d+,'
      .. '"entityId":"%d+","target":{"kind":"run_step","id":12},"filename":"a.txt","s3Key":"[^"]+",'
      .. '"time":"[^"]+"}\n', files.read(work .. "/receipts.jsonl"))
  end)

  it("adds no receipt for a file the journal shows as done, and appends for new ones", function()
    upload_set()
    local d = files.write(work, "d.txt", "delta\n")
    local r = run.cli({ "--run-step", "12", "--receipts", work .. "/receipts.jsonl", "--journal",
      work .. "/journal", a, b, c, d })
    assert.equal(0, r.code, r.stderr)
    assert.matches("1 attached, 3 skipped", r.stderr, 1, true)
    local receipts = json_lines(files.read(work .. "/receipts.jsonl"))
    assert.equal(4, #receipts)
    assert.equal(d, receipts[4].path)
    assert.equal(sha256(d), receipts[4].sha256)
  end)

  it("verifies by receipts: all ok, exit 0, and nothing written anywhere", function()
    upload_set()
    local empty = dir .. "/cwd"
    os.execute("mkdir -p " .. files.quote(empty) .. " " .. files.quote(empty .. "/tmp"))
    local before = listing(work)
    local r = run.cli({ "verify", "--receipts", work .. "/receipts.jsonl" }, { TMPDIR = empty .. "/tmp" }, empty)
    assert.equal(0, r.code, r.stderr)
    assert.equal(3, #lines_with(r.stdout, "ok "))
    assert.matches("ok%s+" .. a:gsub("%p", "%%%0") .. " %(attachment %d+%)", r.stdout)
    assert.matches("3 ok, 0 mismatch, 0 missing, 0 local file changed", r.stderr, 1, true)
    assert.not_matches("touched", r.stdout, 1, true) -- the receipt's mtime is exact
    assert.same({ "tmp" }, listing(empty))
    assert.same({}, listing(empty .. "/tmp"))
    assert.same(before, listing(work))
    assert.not_matches("X-Amz-Signature", r.stdout .. r.stderr, 1, true)
    assert.not_matches(sandbox.get().tokens.rw, r.stdout .. r.stderr, 1, true)
  end)

  it("verifies by journal and by ids, --json lines with the digests", function()
    local receipts = upload_set()
    local r = run.cli({ "verify", "--journal", work .. "/journal", "--json" })
    assert.equal(0, r.code, r.stderr)
    local lines = json_lines(r.stdout)
    assert.equal(3, #lines)
    local by_path = {}
    for _, l in ipairs(lines) do by_path[l.path] = l end
    for _, rc in ipairs(receipts) do
      local l = assert(by_path[rc.path])
      assert.equal("ok", l.status)
      assert.equal(rc.id, l.id)
      assert.equal(rc.md5, l.md5)
      assert.equal(rc.size, l.size)
    end
    local ids = {}
    for i, rc in ipairs(receipts) do ids[i] = string.format("%d", rc.id) end
    r = run.cli({ "verify", ids[1], ids[2], ids[3] })
    assert.equal(0, r.code, r.stderr)
    assert.equal(3, #lines_with(r.stdout, "ok "))
    assert.matches("checked against storage's ETag", r.stdout, 1, true)
  end)

  it("says a rejected token once (exit 2), not once per id", function()
    local receipts = upload_set()
    local ids = {}
    for i, rc in ipairs(receipts) do ids[i] = string.format("%d", rc.id) end
    local r = run.cli({ "verify", ids[1], ids[2], ids[3] }, { ION_TOKEN = "sbx_bogus_token_123" })
    assert.equal(2, r.code, r.stderr)
    assert.equal("", r.stdout)
    assert.equal(1, select(2, r.stderr:gsub("stopped: auth:", "")), r.stderr)
    assert.matches("ion%-upload verify: 0 ok.*; stopped", r.stderr)
    assert.not_matches("sbx_bogus_token_123", r.stderr, 1, true)
  end)

  it("says mismatch (exit 1) for an object overwritten in storage", function()
    local receipts = upload_set()
    sandbox.admin("POST", "/objects/put", { s3Key = receipts[2].s3Key, content = "x,y\n1,3\n" })
    for _, source in ipairs({ "--receipts", "--journal" }) do
      local r = run.cli({ "verify", source, work .. (source == "--journal" and "/journal" or "/receipts.jsonl") })
      assert.equal(1, r.code, r.stderr)
      local bad = lines_with(r.stdout, "mismatch ")
      assert.equal(1, #bad)
      local id = string.format("%d", receipts[2].id)
      assert.matches(b:gsub("%p", "%%%0") .. " %(attachment " .. id .. "%): MD5 of ION's bytes", bad[1])
      assert.equal(2, #lines_with(r.stdout, "ok "))
      assert.matches("2 ok, 1 mismatch", r.stderr, 1, true)
    end
  end)

  it("says missing (exit 1) for a deleted attachment and for a deleted object", function()
    local receipts = upload_set()
    sandbox.admin("POST", "/attachments/delete", { id = receipts[1].id })
    sandbox.admin("POST", "/objects/delete", { s3Key = receipts[3].s3Key })
    local r = run.cli({ "verify", "--receipts", work .. "/receipts.jsonl", "--json" })
    assert.equal(1, r.code, r.stderr)
    local lines = json_lines(r.stdout)
    assert.same({ "missing", "ok", "missing" }, { lines[1].status, lines[2].status, lines[3].status })
    assert.equal("no such attachment in ION", lines[1].reasons[1])
    assert.equal("storage has no object for this attachment", lines[3].reasons[1])
    r = run.cli({ "verify", string.format("%d", receipts[1].id) })
    assert.equal(1, r.code)
    assert.matches("^missing%s+attachment %d+: no such attachment in ION\n", r.stdout)
  end)

  it("says local file changed (exit 1) when the local file no longer matches, ok when only touched", function()
    upload_set()
    files.write(work, "a.txt", "ALPHA\n")
    os.execute("touch -d '2001-01-01' " .. files.quote(b))
    local r = run.cli({ "verify", "--receipts", work .. "/receipts.jsonl" })
    assert.equal(1, r.code, r.stderr)
    local changed = lines_with(r.stdout, "local file changed ")
    assert.equal(1, #changed)
    assert.matches(a:gsub("%p", "%%%0"), changed[1])
    assert.matches("touched since the upload, same bytes", r.stdout, 1, true)
    assert.matches("1 local file changed", r.stderr, 1, true)
    os.remove(c)
    r = run.cli({ "verify", "--journal", work .. "/journal" })
    assert.matches("ok%s+" .. c:gsub("%p", "%%%0") .. " %(attachment %d+%): local file gone", r.stdout)
  end)

  it("verifies the files of a manifest found in the receipts", function()
    upload_set()
    local m = files.write(dir, "m.csv", "path,target,id,filename\n" .. a .. ",run_step,12,\n" .. c
      .. ",run_step,12,\n" .. a .. ",part,3,\n")
    local r = run.cli({ "verify", "--manifest", m, "--receipts", work .. "/receipts.jsonl" })
    assert.equal(1, r.code, r.stderr)
    assert.equal(2, #lines_with(r.stdout, "ok "))
    local missing = lines_with(r.stdout, "missing ")
    assert.equal(1, #missing)
    assert.matches("no upload of this file to part=3 is on record", missing[1], 1, true)
  end)

  it("--download DIR keeps what ION holds", function()
    local receipts = upload_set()
    local out = dir .. "/dl"
    os.execute("rm -rf " .. files.quote(out) .. " && mkdir " .. files.quote(out))
    local r = run.cli({ "verify", "--receipts", work .. "/receipts.jsonl", "--download", out })
    assert.equal(0, r.code, r.stderr)
    for i, path in ipairs({ a, b, c }) do
      local kept = out .. "/" .. string.format("%d", receipts[i].id) .. "-" .. path:match("[^/]+$")
      assert.equal(files.read(path), files.read(kept))
    end
    assert.equal(3, #listing(out))
    r = run.cli({ "verify", string.format("%d", receipts[2].id), "--download", out .. "/nope" })
    assert.equal(2, r.code)
    assert.matches("no such folder", r.stderr, 1, true)
  end)

  it("refuses bad usage with exit 2", function()
    for _, argv in ipairs({
      { "verify" },
      { "verify", "--manifest", "m.csv" },
      { "verify", "--journal", "j", "--receipts", "r" },
      { "verify", "--journal", "j", "12" },
      { "verify", "12x" },
      { "verify", "--receipts", dir .. "/no-such-file" },
    }) do
      local r = run.cli(argv)
      assert.equal(2, r.code, table.concat(argv, " ") .. ": " .. r.stderr)
      assert.matches("^ion%-upload: ", r.stderr)
    end
    local r = run.cli({ "--run-step", "12", "--receipts", dir .. "/no/such/dir/r.jsonl", dir })
    assert.equal(2, r.code)
    assert.matches("cannot open receipts file", r.stderr, 1, true)
  end)
end)
