-- integration: limit_rate, the bandwidth cap that one client's PUTs and
-- downloads share, through libcurl to the sandbox. Only lower bounds on time
-- are asserted (a cap can only make transfers slower, however loaded the
-- machine is); what it costs in CPU and how close it holds the rate are
-- measured by bench/limit_rate.sh.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local core = require("ion.upload.core")

local KiB, MiB = 1024, 1024 * 1024

describe("integration: limit_rate", function()
  local dir, big = nil, {}

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    for i = 1, 4 do
      -- a different byte per file, so that a mix-up shows in the MD5s
      big[i] = files.write(dir, "big" .. i .. ".bin", string.rep(string.char(64 + i), MiB))
    end
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  it("holds four parallel PUTs to the cap together, each getting its share", function()
    local c = sandbox.client({ limit_rate = MiB, concurrency = 4 })
    local items, sent = {}, {}
    for i = 1, 4 do items[i] = { path = big[i], target = { run_step = 1 } } end
    local t0 = core.now()
    local results, summary = c:upload_many(items, { on_event = function(ev)
      if ev.type == "progress" and ev.total and ev.total > 0 and ev.bytes == ev.total and not sent[ev.index] then
        sent[ev.index] = core.now() - t0
      end
    end })
    local elapsed = core.now() - t0
    c:close()
    assert.equal(4, summary.ok)
    for i = 1, 4 do
      assert.equal(files.md5(big[i]), results[i].attachment.md5)
    end
    -- 4 MiB at 1 MiB/s, less a burst of about 1/10 s: not the ~0.1 s uncapped
    assert.is_true(elapsed >= 3.5, "4 MiB under 1 MiB/s took only " .. elapsed .. " s")
    -- shared fairly: no PUT is served first at the full rate (it would end
    -- near 1 s); each moves at about a quarter of it and ends near 4 s
    for i = 1, 4 do
      assert.is_number(sent[i])
      assert.is_true(sent[i] >= 2.5, "PUT " .. i .. " was done sending after " .. sent[i] .. " s")
    end
  end)

  it("caps a download", function()
    local uncapped = sandbox.client()
    local att = assert(uncapped:upload(big[1], { run_step = 1 }))
    uncapped:close()
    local c = sandbox.client({ limit_rate = 512 * KiB })
    local copy = dir .. "/copy.bin"
    local t0 = core.now()
    assert(c:download(att.id, copy))
    local elapsed = core.now() - t0
    c:close()
    assert.equal(files.md5(big[1]), files.md5(copy))
    assert.is_true(elapsed >= 1.5, "1 MiB under 512 KiB/s took only " .. elapsed .. " s")
    os.remove(copy)
  end)

  it("shares one cap between a PUT and a download, and a host loop sleeps between refills", function()
    local c = sandbox.client()
    local att = assert(c:upload(big[2], { run_step = 1 }))
    local get_url = assert(c:attachment(att.id)).downloadUrl
    local ticket = assert(c:request_upload_url(big[3]))
    c:close()
    local sess = assert(core.session({ limit_rate = 512 * KiB }))
    local copy = dir .. "/shared.bin"
    local t0 = core.now()
    local put = assert(sess:add("put", { url = ticket.uploadUrl, path = big[3], content_type = ticket.contentType }))
    local get = assert(sess:add("download", { url = get_url, path = copy }))
    -- A host loop that steps without waiting and sleeps as long as
    -- timeout() says: a cap that busy-waits would be stepped thousands of
    -- times a second, reporting 0.
    local results, steps, waits = {}, 0, 0
    while sess:pending() > 0 do
      for _, d in ipairs(sess:step(0)) do results[d.id] = d end
      steps = steps + 1
      assert.is_true(steps < 2000, "stepped " .. steps .. " times: the cap does not say how long to wait")
      local t = sess:timeout()
      if t == nil or t > 0.05 then t = 0.05 end
      if t > 0 then waits = waits + 1 end
      core.sleep(t)
    end
    local elapsed = core.now() - t0
    sess:close()
    assert.is_nil(results[put].err)
    assert.is_nil(results[get].err)
    assert.equal(att.md5, files.md5(copy))
    assert.equal(files.md5(big[3]), results[put].res.md5)
    -- 2 MiB in all at 512 KiB/s: about 4 s; each alone would take about 2 s
    assert.is_true(elapsed >= 3.5, "2 MiB under 512 KiB/s took only " .. elapsed .. " s")
    assert.is_true(waits > 0)
    os.remove(copy)
  end)

  it("does not count a transfer held back by the cap as stalled", function()
    -- 2 PUTs of 12 KiB under 8000 B/s: each gets 4000 B/s and sends a block
    -- of 4000 bytes about once a second, while stall_timeout is half of that
    local small = {}
    for i = 1, 2 do small[i] = files.write(dir, "small" .. i .. ".bin", string.rep("s", 12 * KiB)) end
    local c = sandbox.client({ limit_rate = 8000, stall_timeout = 0.5, retries = 0 })
    local results, summary = c:upload_many({ { path = small[1], target = { run_step = 1 } },
      { path = small[2], target = { run_step = 1 } } })
    c:close()
    assert.equal(2, summary.ok, results[1].err and tostring(results[1].err))
  end)

  it("ion-upload --limit-rate caps the command line's transfers", function()
    local t0 = core.now()
    local r = run.cli({ "--run-step", "1", "--limit-rate", "512K", "--json", big[1], big[2] })
    local elapsed = core.now() - t0
    assert.equal(0, r.code, r.stderr)
    assert.equal(2, #sandbox.attachments())
    assert.is_true(elapsed >= 3.5, "2 MiB under --limit-rate 512K took only " .. elapsed .. " s")
  end)

  for _, bad in ipairs({ "2X", "0", "-1", "1.5.2" }) do
    it("ion-upload --limit-rate " .. bad .. " is a usage error (exit 2) naming the flag and the forms", function()
      local r = run.cli({ "--run-step", "1", "--limit-rate", bad, big[1] })
      assert.equal(2, r.code)
      assert.matches("--limit-rate '" .. bad .. "'", r.stderr, 1, true)
      assert.matches("500K, 2M, 1G", r.stderr, 1, true)
      assert.equal(0, #sandbox.attachments())
    end)
  end
end)
