-- integration: one bad item never raises out of upload_many or the CLI. A
-- file deleted between planning and its PUT fails alone; a token with a line
-- end (as read from a file) fails every request cleanly, with a code and a hint.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local cjson = require("cjson")

local function json_lines(s)
  local out = {}
  for line in s:gmatch("[^\n]+") do
    local rec = cjson.decode(line)
    assert(rec.path, "stdout holds one object per file: " .. line) -- the summary goes to stderr
    out[#out + 1] = rec
  end
  return out
end

describe("integration: a bad item fails alone", function()
  local dir

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  local function three(prefix)
    local p = {}
    for i = 1, 3 do p[i] = files.write(dir, prefix .. i .. ".txt", string.rep(tostring(i), 1000 + i)) end
    return p
  end

  it("upload_many: a file deleted between planning and its PUT fails alone", function()
    local p = three("gone")
    local items = {}
    for i = 1, 3 do items[i] = { path = p[i], target = { run = 1 } } end
    local client = sandbox.client()
    local ok, results, summary = pcall(client.upload_many, client, items, {
      window = 1, concurrency = 1,
      on_event = function(ev)
        if ev.type == "start" and ev.index == 2 then os.remove(p[2]) end
      end,
    })
    assert.is_true(ok, tostring(results))
    assert.is_true(results[1].ok, tostring(results[1].err))
    assert.is_true(results[3].ok, tostring(results[3].err))
    assert.is_false(results[2].ok)
    assert.equal("bad_input", results[2].err.code, tostring(results[2].err))
    assert.is_string(results[2].err.hint)
    assert.same({ 2, 1 }, { summary.ok, summary.failed })
  end)

  it("upload_many: a token function returning \"tok\\n\" fails every item, raising nothing", function()
    local p = three("tok")
    local rw = sandbox.get().tokens.rw
    local client = sandbox.client({ token = function() return rw .. "\n" end })
    local items = {}
    for i = 1, 3 do items[i] = { path = p[i], target = { run = 1 } } end
    local ok, results, summary = pcall(client.upload_many, client, items)
    assert.is_true(ok, tostring(results))
    for _, r in ipairs(results) do
      assert.is_false(r.ok)
      assert.equal("bad_input", r.err.code, tostring(r.err))
      assert.not_matches(rw, tostring(r.err), 1, true)
    end
    assert.equal(3, summary.failed)
    assert.equal(0, #sandbox.attachments())
  end)

  it("the CLI: a token ending in a line end gives each file an error and exit 1, no traceback", function()
    local p = three("clitok")
    local rw = sandbox.get().tokens.rw
    local r = run.cli({ "--run", "1", "--json", p[1], p[2] }, { ION_TOKEN = rw .. "\n" })
    assert.equal(1, r.code, r.stderr)
    assert.not_matches("traceback", r.stderr, 1, true)
    local lines = json_lines(r.stdout)
    assert.equal(2, #lines)
    for _, l in ipairs(lines) do
      assert.is_false(l.ok)
      assert.equal("bad_input", l.error.code)
    end
    assert.not_matches(rw, r.stdout .. r.stderr, 1, true)
  end)

  it("the CLI: a file deleted while the run waits on ION fails alone, exit 1, no traceback", function()
    local p = three("cligone")
    sandbox.faults({ graphql_latency_ms = 1500 })
    local pid, out, err, code = run.background({ "--run", "1", "--json", "--window", "1", p[1], p[2], p[3] })
    -- Planned (stat) before the first GraphQL request; that request is held 1.5 s.
    assert.is_true(run.wait_for(function() return sandbox.counters().graphql.requests >= 1 end, 20))
    os.remove(p[2])
    assert.is_true(run.wait_exit(pid, 60))
    assert.equal(1, code())
    local stderr = run.read(err)
    assert.not_matches("traceback", stderr, 1, true)
    local lines = json_lines(run.read(out))
    assert.equal(3, #lines)
    assert.is_true(lines[1].ok and lines[3].ok, stderr)
    assert.is_false(lines[2].ok)
    assert.equal("bad_input", lines[2].error.code)
    assert.equal(2, #sandbox.attachments())
  end)
end)
