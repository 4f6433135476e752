-- integration: bad local input. Paths that are no regular readable file, files
-- that change while they are sent, files too big for one PUT, and odd names:
-- each gives bad_input (or a correct attachment) and never sends a wrong
-- object, through upload() and upload_many() alike.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local as_nobody = require("support.as_nobody")
local interpreter = require("support.interpreter")

local function sh(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end

local function traffic()
  local c = sandbox.counters()
  return c.graphql.requests + c.storage.requests
end

describe("integration: bad local input", function()
  local dir, client, core

  setup(function()
    sandbox.get()
    core = require("ion.upload.core")
    dir = files.tmpdir()
    sh("chmod 755 " .. files.quote(dir))
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function()
    sandbox.reset()
    client = sandbox.client({ retries = 1, stall_timeout = 5, timeout = 5 })
  end)

  -- Refused before any traffic, with bad_input naming the path.
  local function refused(path, pattern, opts)
    local ok, att, err = pcall(client.upload, client, path, { run = 1 }, opts)
    assert.is_true(ok, tostring(att))
    assert.is_nil(att)
    assert.equal("bad_input", err.code, tostring(err))
    if pattern then assert.matches(pattern, err.message) end
    assert.equal(0, traffic())
    return err
  end

  it("a directory", function()
    refused(dir, "directory")
  end)

  it("a FIFO: refused at once, without waiting for a writer", function()
    local fifo = dir .. "/fifo"
    assert.is_true(sh("mkfifo " .. files.quote(fifo)))
    local t0 = core.now()
    refused(fifo, "not a regular file")
    assert.is_true(core.now() - t0 < 2)
  end)

  it("a symlink loop, and a dangling symlink", function()
    sh(string.format("ln -s %s/loop-a %s/loop-b && ln -s %s/loop-b %s/loop-a", dir, dir, dir, dir))
    refused(dir .. "/loop-a", "symbolic links")
    sh(string.format("ln -s %s/nowhere %s/dangling", dir, dir))
    refused(dir .. "/dangling")
  end)

  it("a file over the 5 GiB single-PUT limit: refused from its size, never read", function()
    local big = dir .. "/huge.bin"
    -- sparse: 5 GiB + 1 byte that take no disk space
    assert.is_true(sh("truncate -s 5368709121 " .. files.quote(big)))
    local t0 = core.now()
    refused(big, "over the 5 GiB")
    local results, summary = client:upload_many({ { path = big, target = { run = 1 } } })
    assert.equal("bad_input", results[1].err.code)
    assert.equal(1, summary.failed)
    assert.equal(0, traffic())
    assert.is_true(core.now() - t0 < 2, "reading 5 GiB would take longer")
    -- exactly 5 GiB is not refused by this check (sending it is another matter)
    assert.is_true(sh("truncate -s 5368709120 " .. files.quote(big)))
    assert.truthy(require("ion.upload.files").check(big, core.stat))
    os.remove(big)
  end)

  it("an unreadable file (run as nobody: root reads anything)", function()
    -- nobody gets its own copy of the CLI, modules and core: it may not
    -- enter the checkout (mode 700 in /root)
    local stage, why = as_nobody.stage()
    if not stage then
      pending("cannot run a child as nobody: " .. why)
      return
    end
    finally(function() as_nobody.remove(stage) end)
    local secret = files.write(dir, "secret.txt", "no")
    sh("chmod 000 " .. files.quote(secret))
    local out = os.tmpname()
    local cli = string.format("%s %s --json --run 1 %s", interpreter, files.quote(stage .. "/bin/ion-upload"),
      files.quote(secret))
    local cmd = string.format("cd %s && %s %s %s %s >%s 2>&1", files.quote(stage), run.env_prefix(),
      as_nobody.env(stage), as_nobody.prefix, cli, files.quote(out))
    sh(cmd)
    local text = files.read(out)
    os.remove(out)
    assert.matches('"code":"bad_input"', text, 1, true)
    assert.matches("not readable", text, 1, true)
    assert.equal(0, traffic())
  end)

  -- Starts an upload of a big file and calls change(path) once, mid-body
  -- (storage latency holds the body back, so progress comes in parts).
  local function change_mid_upload(name, change, size)
    local path = files.write(dir, name, string.rep("0123456789abcdef", (size or 32 * 1024 * 1024) / 16))
    sandbox.faults({ storage_latency_ms = 300 })
    local changed = false
    local att, err = client:upload(path, { run = 1 }, { on_progress = function(sent, total)
      if not changed and sent > 0 and sent < total then
        changed = true
        change(path)
      end
    end })
    assert.is_true(changed, "no progress call came mid-body")
    return att, err, path
  end

  local function write_at(path, offset, bytes, mode)
    local f = assert(io.open(path, mode or "r+b"))
    f:seek("set", offset)
    f:write(bytes)
    f:close()
  end

  for _, case in ipairs({
    { "truncated", function(p) sh("truncate -s 1000 " .. files.quote(p)) end },
    { "grown", function(p) write_at(p, 0, "more", "ab") end },
    -- the same size: only its times say it was written (the bytes already
    -- sent would otherwise be stored as a mix of old and new)
    { "rewritten in place at its start", function(p) write_at(p, 0, "XXXX") end },
  }) do
    it("a file " .. case[1] .. " while it is sent -> bad_input, nothing attached", function()
      local att, err = change_mid_upload("changing-" .. case[1]:gsub("%W", "-") .. ".bin", case[2])
      assert.is_nil(att)
      assert.equal("bad_input", err.code, tostring(err))
      assert.matches("file changed while uploading", err.message, 1, true)
      assert.equal(0, #sandbox.attachments())
      assert.equal(0, sandbox.counters().graphql.fields.createFileAttachment or 0)
    end)
  end

  it("a file deleted while it is sent: the open file is sent whole, with its MD5", function()
    local want
    local att, err = change_mid_upload("deleted.bin", function(p)
      want = files.md5(p)
      os.remove(p)
    end, 8 * 1024 * 1024)
    assert.truthy(att, tostring(err))
    assert.equal(want, att.md5)
    local stored = sandbox.attachments()
    assert.equal(1, #stored)
    assert.equal(want, stored[1].md5)
  end)

  it("a name with CR/LF is attached under exactly that name (JSON carries it; no header sees it)", function()
    local name = "line1\r\nX-Injected: 1.txt"
    local path = files.write(dir, name, "crlf")
    local att = assert(client:upload(path, { run = 1 }))
    assert.equal(name, att.filename)
    local stored = sandbox.attachments()
    assert.equal(name, stored[1].filename)
    assert.equal(files.md5(path), stored[1].md5)
    assert.equal("text/plain", stored[1].contentType)
  end)

  it("a name that is not UTF-8 -> bad_input naming filename, before any traffic; a filename option fixes it", function()
    local path = files.write(dir, "caf\233-latin1.txt", "latin-1 name")
    local err = refused(path, "not valid UTF%-8")
    assert.equal("filename", err.field)
    local results = client:upload_many({ { path = path, target = { run = 1 } } })
    assert.equal("bad_input", results[1].err.code)
    assert.equal(0, traffic())
    local att = assert(client:upload(path, { run = 1 }, { filename = "café-latin1.txt" }))
    assert.equal("café-latin1.txt", sandbox.attachments()[1].filename)
    assert.equal("café-latin1.txt", att.filename)
  end)

  it("a 1,000-character display name is kept whole; the storage key gets a short one", function()
    local path = files.write(dir, "long.csv", "a,b\n1,2\n")
    local long = string.rep("n", 996) .. ".csv"
    local att = assert(client:upload(path, { run = 1 }, { filename = long }))
    assert.equal(long, att.filename)
    local results = client:upload_many({ { path = path, target = { run = 2 }, filename = long } })
    assert.is_true(results[1].ok, tostring(results[1].err))
    for _, a in ipairs(sandbox.attachments()) do
      assert.equal(long, a.filename)
      assert.is_true(#a.s3Key < 300, "key of " .. #a.s3Key .. " bytes")
      assert.equal("text/csv", a.contentType)
      assert.equal(files.md5(path), a.md5)
    end
  end)

  it("a path of over 1,000 characters (nested folders) and an empty file", function()
    local deep = dir
    for i = 1, 9 do deep = deep .. "/" .. string.rep(string.char(96 + i), 120) end
    assert.is_true(sh("mkdir -p " .. files.quote(deep)))
    local path = files.write(deep, "empty.txt", "")
    assert.is_true(#path > 1000)
    local att = assert(client:upload(path, { run = 1 }))
    assert.equal(0, att.size)
    assert.equal("d41d8cd98f00b204e9800998ecf8427e", att.md5)
    assert.equal(0, sandbox.attachments()[1].size)
  end)

  it("all of them in one upload_many: each fails alone, the good ones are attached", function()
    local good = files.write(dir, "good.txt", "good")
    sh("mkfifo " .. files.quote(dir .. "/fifo2"))
    sh("truncate -s 6G " .. files.quote(dir .. "/huge2.bin"))
    local items = {
      { path = dir, target = { run = 1 } },
      { path = dir .. "/fifo2", target = { run = 1 } },
      { path = dir .. "/loop-a", target = { run = 1 } },
      { path = dir .. "/huge2.bin", target = { run = 1 } },
      { path = dir .. "/missing.txt", target = { run = 1 } },
      { path = good, target = { run = 1 } },
      { path = good, target = { run = 2 }, filename = "bad\255.txt" },
    }
    local results, summary = client:upload_many(items)
    for i = 1, 5 do assert.equal("bad_input", results[i].err.code, i .. ": " .. tostring(results[i].err)) end
    assert.is_true(results[6].ok)
    assert.equal("bad_input", results[7].err.code)
    assert.same({ 1, 6 }, { summary.ok, summary.failed })
    assert.equal(1, #sandbox.attachments())
    os.remove(dir .. "/huge2.bin")
  end)
end)
