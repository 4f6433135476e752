-- integration: the start-up scan at size. Files already in the folder when
-- the watch starts are taken together and planned in windows (one GraphQL
-- document looks up the target and asks for a window's URLs, one registers
-- a window), not a GraphQL call per file: counted by the sandbox.
--
-- The engine sends a registration document early when a finished file has
-- waited its linger (250 ms), so how many files one holds depends on how
-- fast the PUTs go on this machine at the moment (a loaded machine: 187
-- documents for 1,000 files, an idle one 58). The spec counts the planning,
-- so it sets the linger long: registrations then go a window at a time.
local sandbox = require("support.sandbox")
local files = require("support.files")
local engine_run = require("ion.upload.engine.run")

describe("integration: client:watch, files present at start", function()
  local dir
  setup(function() sandbox.get() end)
  local linger
  before_each(function()
    sandbox.reset()
    dir = files.tmpdir()
    linger = engine_run.linger
    engine_run.linger = 3600
  end)
  after_each(function()
    engine_run.linger = linger
    files.rmdir(dir)
  end)

  it("1,000 files: far fewer GraphQL calls than files, every file attached once #slow", function()
    local N = 1000
    for i = 1, N do files.write(dir, string.format("s%04d.txt", i), "start-up file " .. i) end
    local done, failed = 0, 0
    local w = assert(sandbox.client():watch(dir, { target = { run_step = 12 }, settle = 0, once = true,
      on_event = function(ev)
        if ev.type == "done" then done = done + 1 end
        if ev.type == "error" or ev.type == "failed" then failed = failed + 1 end
      end }))
    w:run()
    assert.equal(0, failed)
    assert.equal(N, done)
    local c = sandbox.counters()
    local calls = c.graphql.requests
    print(string.format("\nwatch start-up: %d files, %d GraphQL requests", N, calls))
    assert.is_true(calls <= N / 10 + 5, calls .. " GraphQL requests for " .. N .. " files")
    local seen = {}
    for _, a in ipairs(sandbox.attachments()) do seen[a.filename] = (seen[a.filename] or 0) + 1 end
    for i = 1, N do
      local name = string.format("s%04d.txt", i)
      assert.equal(1, seen[name], name)
    end
  end)
end)
