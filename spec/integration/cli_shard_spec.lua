-- integration: `--shard K/N` (lua/ion/upload/shard.lua) through bin/ion-upload
-- and the library against the sandbox: the shards of a walk, a manifest,
-- a dry run and a watch partition the files; each shard's journal records
-- K/N and refuses another; verify reads a glob of journals; the bad inputs
-- are usage errors (exit 2) with the rule.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local shard = require("ion.upload.shard")
local journal = require("ion.upload.journal.file")
local cjson = require("cjson")

local N_FILES = 40

local attached = sandbox.attached_by_name

describe("integration: --shard K/N", function()
  local dir, tree
  local rels = {}
  for i = 1, N_FILES do rels[i] = string.format("line-%d/f%03d.txt", i % 3, i) end

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    tree = files.tree(rels, function(i) return "shard file " .. i end)
  end)
  teardown(function()
    files.rmdir(dir)
    files.rmdir(tree)
  end)
  before_each(function() sandbox.reset() end)

  it("four shards of a walk attach every file once; their journals partition it; a rerun attaches none", function()
    local jpattern = dir .. "/walk.%k.journal"
    for k = 0, 3 do
      local r = run.cli({ "--run-step", "12", "-r", tree, "--shard", k .. "/4", "--journal", jpattern, "--quiet" })
      assert.equal(0, r.code, r.stderr)
    end
    local by, total = attached()
    assert.equal(N_FILES, total)
    for _, rel in ipairs(rels) do assert.equal(1, by[rel:match("[^/]+$")], rel) end
    -- each journal holds exactly its shard's files, recorded as its shard's
    local seen = 0
    for k = 0, 3 do
      local path = dir .. "/walk." .. k .. ".journal"
      assert.equal(k .. "/4", require("ion.upload.journal.shard_record").of_file(path))
      for key, state in pairs(assert(journal.read(path))) do
        local abs = journal.parse_key(key)
        local rel = abs:sub(#require("ion.upload.core").realpath(tree) + 2) -- the key's path is the real one
        assert.is_true(shard.owns(rel, k, 4), rel .. " in journal " .. k)
        assert.is_table(state.attached)
        seen = seen + 1
      end
    end
    assert.equal(N_FILES, seen)
    for k = 0, 3 do
      local r = run.cli({ "--run-step", "12", "-r", tree, "--shard", k .. "/4", "--journal", jpattern, "--quiet" })
      assert.equal(0, r.code, r.stderr)
    end
    assert.equal(N_FILES, select(2, attached()))
    -- verify reads the four as one
    local r = run.cli({ "verify", "--journal", dir .. "/walk.*.journal", "--json" })
    assert.equal(0, r.code, r.stderr)
    local ok = 0
    for line in r.stdout:gmatch("[^\n]+") do
      local rec = cjson.decode(line)
      if rec.status == "ok" then ok = ok + 1 end
    end
    assert.equal(N_FILES, ok)
  end)

  it("takes the shard from ION_UPLOAD_SHARD; the flag wins; a manifest's key is its path column", function()
    local rows = { "path,target,id" }
    for _, rel in ipairs(rels) do rows[#rows + 1] = tree .. "/" .. rel .. ",run_step,12" end
    local manifest = files.write(dir, "m.csv", table.concat(rows, "\n") .. "\n")
    local r = run.cli({ "--manifest", manifest, "--dry-run", "--json" }, { ION_UPLOAD_SHARD = "1/3" })
    assert.equal(0, r.code, r.stderr)
    local planned = {}
    for line in r.stdout:gmatch("[^\n]+") do
      local rec = cjson.decode(line)
      if rec.path then planned[rec.path] = true end
    end
    for _, rel in ipairs(rels) do
      assert.equal(shard.owns(tree .. "/" .. rel, 1, 3), planned[tree .. "/" .. rel] == true, rel)
    end
    r = run.cli({ "--manifest", manifest, "--shard", "2/3", "--quiet" }, { ION_UPLOAD_SHARD = "x" })
    assert.equal(0, r.code, r.stderr)
    local by, total = attached()
    local want = 0
    for _, rel in ipairs(rels) do
      if shard.owns(tree .. "/" .. rel, 2, 3) then
        want = want + 1
        assert.equal(1, by[rel:match("[^/]+$")], rel)
      end
    end
    assert.equal(want, total)
  end)

  it("refuses a bad shard, a %k journal without one, another shard's journal, another N (exit 2)", function()
    local base = { "--run-step", "12", "-r", tree, "--dry-run" }
    local function with(extra, env)
      local args = {}
      for _, a in ipairs(base) do args[#args + 1] = a end
      for _, a in ipairs(extra) do args[#args + 1] = a end
      return run.cli(args, env)
    end
    for _, bad in ipairs({ "4/4", "-1/4", "1/0", "1/4/2", "x" }) do
      local r = with({ "--shard", bad })
      assert.equal(2, r.code, bad)
      assert.matches("expected K/N: shard K of N, K from 0 to N%-1", r.stderr)
    end
    local r = with({}, { ION_UPLOAD_SHARD = "4/4" })
    assert.equal(2, r.code)
    assert.matches("ION_UPLOAD_SHARD '4/4'", r.stderr)
    r = with({ "--journal", dir .. "/x.%k.journal" })
    assert.equal(2, r.code)
    assert.matches("has %%k, the shard's K, but no shard was given", r.stderr)
    local fixed = dir .. "/fixed.journal"
    r = run.cli({ "--run-step", "12", "-r", tree, "--shard", "0/4", "--journal", fixed, "--quiet" })
    assert.equal(0, r.code, r.stderr)
    for _, other in ipairs({ { "--shard", "1/4" }, {} }) do
      local args = { "--run-step", "12", "-r", tree, "--journal", fixed }
      for _, a in ipairs(other) do args[#args + 1] = a end
      r = run.cli(args)
      assert.equal(2, r.code)
      local want = other[1] and "shard 1/4" or "not sharded"
      assert.matches("journal .*fixed.journal is shard 0/4's; this run is " .. want, r.stderr)
      assert.equal(2, with({ "--journal", fixed, other[1], other[2] }).code) -- the dry run too
    end
    r = run.cli({ "--run-step", "12", "-r", tree, "--shard", "0/2", "--journal", dir .. "/fam.%k.journal", "--quiet" })
    assert.equal(0, r.code, r.stderr)
    r = with({ "--shard", "3/4", "--journal", dir .. "/fam.%k.journal" })
    assert.equal(2, r.code)
    assert.matches("fam.0.journal is shard 0/2's: the journals of .* split the files in 2, not 4", r.stderr)
  end)

  it("refuses a second process on the same shard's journal (the lock)", function()
    local path = dir .. "/held.1.journal"
    local held = assert(journal.open(path, { shard = { k = 1, n = 2 } }))
    local r = run.cli({ "--run-step", "12", "-r", tree, "--shard", "1/2", "--journal", dir .. "/held.%k.journal" })
    held:close()
    assert.equal(2, r.code)
    assert.matches("held.1.journal is in use by another run", r.stderr)
    assert.equal(0, select(2, attached()))
  end)

  it("watch --shard takes its shard's files only, by their path under the folder", function()
    local r = run.cli({ "watch", tree, "--run-step", "12", "--once", "--settle", "0", "--shard", "0/2",
      "--include", "*.txt", "--journal", dir .. "/watch.%k.journal" })
    assert.equal(0, r.code, r.stderr)
    local by, total = attached()
    local want = 0
    for _, rel in ipairs(rels) do
      local mine = shard.owns(rel, 0, 2)
      if mine then want = want + 1 end
      assert.equal(mine and 1 or nil, by[rel:match("[^/]+$")], rel)
    end
    assert.equal(want, total)
    assert.equal("0/2", require("ion.upload.journal.shard_record").of_file(dir .. "/watch.0.journal"))
  end)

  it("the library: upload_many, plan and start_many take shard = { k, n } by shard_key", function()
    local client = sandbox.client()
    local items = {}
    for i, rel in ipairs(rels) do
      items[i] = { path = tree .. "/" .. rel, shard_key = rel, target = { run_step = 12 } }
    end
    local want = {}
    for _, it in ipairs(items) do
      if shard.owns(it.shard_key, 1, 2) then want[#want + 1] = it.path end
    end
    local p = assert(client:plan(items, { shard = { 1, 2 } }))
    assert.equal(#want, #p.items)
    for i, e in ipairs(p.items) do assert.equal(want[i], e.path) end
    local results, summary = client:upload_many(items, { shard = { k = 1, n = 2 }, journal = dir .. "/lib.journal" })
    assert.equal(#want, #results)
    assert.equal(#want, summary.ok)
    assert.equal(#want, select(2, attached()))
    local _, err = client:upload_many(items, { shard = { 0, 2 }, journal = dir .. "/lib.journal" })
    assert.equal("bad_input", err.code)
    assert.matches("is shard 1/2's; this run is shard 0/2", err.message)
    _, err = client:upload_many(items, { shard = { 2, 2 } })
    assert.equal("bad_input", err.code)
    assert.equal("shard", err.field)
    local job = assert(client:start_many({}, { open = true, shard = { 1, 2 } }))
    local other = 1
    while shard.owns(items[other].shard_key, 1, 2) do other = other + 1 end
    assert.is_nil(job:add(items[other]))
    job:finish_input()
    while not job:step(1) do end
    client:close()
  end)
end)
