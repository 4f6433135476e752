-- integration: `ion-upload --dry-run` as a child process against the sandbox.
-- The sandbox's counters prove that a dry run sends lookups only, batched,
-- and no upload URL, PUT or mutation; its data set gives the entity ids the
-- plan must print. Also: -r folders and manifests as for an upload, --json
-- lines, failures named with their codes (exit 1), usage errors (exit 2).
local cjson = require("cjson")
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local as_nobody = require("support.as_nobody")
local interpreter = require("support.interpreter")

local q = files.quote

local function json_lines(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do out[#out + 1] = cjson.decode(line) end
  return out
end

local function escape(s) return (s:gsub("%p", "%%%0")) end

-- Nothing but lookups reached the sandbox: requests, and the fields asked.
local function only_lookups(c)
  assert.is_nil(c.graphql.fields.requestFileUploadUrl)
  assert.is_nil(c.graphql.fields.createFileAttachment)
  assert.equal(0, c.storage.requests)
  assert.equal(0, c.storage.puts)
  assert.equal(0, #sandbox.attachments())
end

describe("integration: ion-upload --dry-run", function()
  local dir, dataset
  local paths = {}

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    assert(os.execute("chmod 755 " .. q(dir) .. " && mkdir -p " .. q(dir .. "/tree/sub")))
    for i = 1, 30 do
      paths[i] = files.write(dir, string.format("f%02d.txt", i), string.rep("d", 200 + i))
    end
    files.write(dir .. "/tree", "b.txt", "bee\n")
    files.write(dir .. "/tree", "a.txt", "a\n")
    files.write(dir .. "/tree/sub", "c.txt", "sea\n")
    files.write(dir .. "/tree", ".hidden.txt", "no\n")
    dataset = sandbox.dataset()
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  local kinds = { { "run_step", "12", "runStep" }, { "part", "50", "part" }, { "run", "7", "run" } }

  local function manifest(name, rows)
    local lines = { "path,target,id,filename" }
    for _, r in ipairs(rows) do lines[#lines + 1] = table.concat(r, ",") end
    return files.write(dir, name, table.concat(lines, "\n") .. "\n")
  end

  local function thirty()
    local rows = {}
    for i = 1, 30 do
      local k = kinds[(i - 1) % 3 + 1]
      rows[i] = { paths[i], k[1], k[2], "" }
    end
    return manifest("thirty.csv", rows)
  end

  it("plans 30 files over 3 targets: one lookup request, no URL, PUT or mutation; exit 0", function()
    local r = run.cli({ "--dry-run", "--manifest", thirty() })
    assert.equal(0, r.code, r.stderr)
    local n = 0
    for i, line in ipairs((function()
      local t = {}
      for l in r.stdout:gmatch("[^\n]+") do t[#t + 1] = l end
      return t
    end)()) do
      if i <= 30 then
        local k = kinds[(i - 1) % 3 + 1]
        local entity = dataset[k[3]][k[2]]
        assert.equal(string.format('plan  %s -> %s %s (entity %s), %d B, as "f%02d.txt"', paths[i], k[1], k[2],
          entity, 200 + i, i), line)
        n = n + 1
      end
    end
    assert.equal(30, n)
    local bytes = 0
    for i = 1, 30 do bytes = bytes + 200 + i end
    assert.matches("\nion-upload: dry run: 30 files to 3 targets: 30 to upload ("
      .. require("ion.upload.cli.output").size(bytes) .. "), 0 to register only, 0 already attached, "
      .. "0 would fail; 1 lookup request, nothing uploaded or attached\n", r.stdout, 1, true)
    local c = sandbox.counters()
    assert.equal(1, c.graphql.requests) -- lookups batched: 1 request for 30 files
    assert.same({ runStep = 1, part = 1, run = 1 }, c.graphql.fields)
    only_lookups(c)
  end)

  it("--json: one object per file, then the totals; they parse and match the data set", function()
    local r = run.cli({ "--dry-run", "--json", "--manifest", thirty() })
    assert.equal(0, r.code, r.stderr)
    local lines = json_lines(r.stdout)
    assert.equal(31, #lines)
    for i = 1, 30 do
      local k = kinds[(i - 1) % 3 + 1]
      assert.same({ path = paths[i], ok = true, action = "upload", target = k[1], targetId = tonumber(k[2]),
        entityId = dataset[k[3]][k[2]], filename = string.format("f%02d.txt", i), size = 200 + i }, lines[i])
    end
    local bytes = 0
    for i = 1, 30 do bytes = bytes + lines[i].size end
    assert.same({ totals = { files = 30, bytes = bytes, targets = 3, failing = 0, upload = 30, register = 0,
      skip = 0, requests = 1 } }, lines[31])
    assert.matches('^{"path":"[^"]+","ok":true,"action":"upload","target":"run_step","targetId":12,'
      .. '"entityId":"%d+","filename":"f01.txt","size":201}\n', r.stdout)
    assert.matches("dry run: 30 files", r.stderr, 1, true) -- the words go to stderr
    only_lookups(sandbox.counters())
  end)

  it("takes the files of -r folders as an upload would (sorted, hidden skipped)", function()
    local r = run.cli({ "--dry-run", "--json", "--part", "50", "-r", "--relative-names", dir .. "/tree" })
    assert.equal(0, r.code, r.stderr)
    local lines = json_lines(r.stdout)
    assert.equal(4, #lines)
    local names = {}
    for i = 1, 3 do
      names[i] = lines[i].filename
      assert.equal(dataset.part["50"], lines[i].entityId)
    end
    assert.same({ "a.txt", "b.txt", "sub/c.txt" }, names)
    assert.equal(1, lines[4].totals.targets)
    only_lookups(sandbox.counters())
  end)

  -- Runs the CLI as nobody when this is root (root reads anything), so that
  -- a chmod 000 file is unreadable to it: { code, stdout, stderr } | nil, why.
  local function run_unprivileged(args)
    local out, err = os.tmpname(), os.tmpname()
    local words = {}
    for _, a in ipairs(args) do words[#words + 1] = q(a) end
    local cmd
    local stage, why
    if io.popen("id -u"):read("*l") == "0" then
      stage, why = as_nobody.stage()
      if not stage then return nil, why end
      cmd = string.format("cd %s && %s %s %s %s %s %s >%s 2>%s", q(stage), run.env_prefix(), as_nobody.env(stage),
        as_nobody.prefix, interpreter, q(stage .. "/bin/ion-upload"), table.concat(words, " "), q(out), q(err))
    else
      cmd = string.format("%s %s >%s 2>%s", run.env_prefix(), run.command(args), q(out), q(err))
    end
    local p = io.popen(cmd .. "; echo $?")
    local code = tonumber(p:read("*l"))
    p:close()
    as_nobody.remove(stage)
    local r = { code = code, stdout = files.read(out), stderr = files.read(err) }
    os.remove(out)
    os.remove(err)
    return r
  end

  it("names a missing target and an unreadable file with their codes and exits 1", function()
    local secret = files.write(dir, "secret.txt", "no")
    assert(os.execute("chmod 000 " .. q(secret)))
    finally(function() os.remove(secret) end)
    local m = manifest("mixed.csv", { { paths[1], "run_step", "12", "" }, { paths[2], "part", "999", "" },
      { secret, "run", "7", "" } })
    assert(os.execute("chmod 644 " .. q(m)))
    local r, why = run_unprivileged({ "--dry-run", "--manifest", m })
    if not r then
      pending("cannot run a child as nobody: " .. why)
      return
    end
    assert.equal(1, r.code, r.stderr)
    assert.matches("FAIL  " .. escape(paths[2]) .. " %-> part 999: not_found\n", r.stdout)
    assert.matches("FAIL  " .. escape(secret) .. " %-> run 7: bad_input\n", r.stdout)
    assert.matches("1 to upload %(.-%), 0 to register only, 0 already attached, 2 would fail", r.stdout)
    -- and why, with the hints
    local why_part = r.stdout:match("would fail:\n(.*)$")
    assert.matches("FAIL  " .. escape(paths[2]) .. ": not_found: .-part 999 not found %(Check the id", why_part)
    assert.matches("FAIL  " .. escape(secret) .. ": bad_input: .-not readable %(", why_part)
    local c = sandbox.counters()
    assert.equal(1, c.graphql.requests)
    assert.same({ runStep = 1, part = 1 }, c.graphql.fields) -- the unreadable file's target is never asked
    only_lookups(c)

    r = run_unprivileged({ "--dry-run", "--json", "--manifest", m })
    assert.equal(1, r.code)
    local lines = json_lines(r.stdout)
    assert.is_true(lines[1].ok)
    assert.same({ "not_found", "bad_input" }, { lines[2].error.code, lines[3].error.code })
    assert.is_string(lines[2].error.hint)
    assert.equal(2, lines[4].totals.failing)
    assert.matches("would fail:", r.stderr, 1, true)
  end)

  it("escapes a file name before the terminal; usage errors still exit 2", function()
    local odd = files.write(dir, "odd\27[2Jname.txt", "x")
    local r = run.cli({ "--dry-run", "--run", "7", odd })
    assert.equal(0, r.code, r.stderr)
    assert.not_matches("\27", r.stdout, 1, true)
    assert.matches("odd\\027[2Jname.txt", r.stdout, 1, true)
    sandbox.reset()

    assert.equal(2, run.cli({ "--dry-run", paths[1] }).code) -- no target
    assert.equal(2, run.cli({ "--dry-run", "--run", "7", dir .. "/tree" }).code) -- a folder without -r
    r = run.cli({ "--dry-run", "--run", "7", "--journal", dir, paths[1] }) -- a journal that is a folder
    assert.equal(2, r.code)
    assert.matches("cannot read journal", r.stderr, 1, true)
    assert.equal(0, sandbox.counters().graphql.requests)
  end)
end)
