-- integration: the GNU parallel recipe of `--shard K/N` (README, "More than
-- one machine"), run as a user would: four ion-upload processes over 2,000
-- files against one sandbox,
--   parallel -j4 ion-upload --shard {}/4 --journal 'p.%k.journal' ... ::: 0 1 2 3
-- Every file is attached exactly once (the sandbox's own records), the four
-- journals partition the files, and the same command again attaches
-- nothing. It prints files/s of one process against the four, and the
-- sandbox's CPU (bench/shard.md has the figures).
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local shard = require("ion.upload.shard")
local journal = require("ion.upload.journal.file")
local core = require("ion.upload.core")

local FILES, FOLDERS = 2000, 20

local function have_parallel()
  local p = io.popen("command -v parallel 2>/dev/null")
  local path = p:read("*l")
  p:close()
  return path
end

-- CPU seconds (user + system) of process pid so far, from /proc/<pid>/stat.
local function cpu_seconds(pid)
  local f = io.open(string.format("/proc/%d/stat", pid), "rb") -- (the state file's pid decodes as a float)
  if not f then return 0 end
  local stat = f:read("*a")
  f:close()
  -- the fields after the command name (which may hold spaces) in its parentheses
  local rest = stat:match("%) (.*)$")
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  local p = io.popen("getconf CLK_TCK")
  local hz = tonumber(p:read("*l")) or 100
  p:close()
  return (tonumber(fields[12]) + tonumber(fields[13])) / hz -- utime, stime: fields 14 and 15 of the line
end

-- Runs a shell command against the sandbox: exit status, wall seconds,
-- sandbox CPU seconds, output, and the CPU seconds of the command's
-- processes (the shell's `times`: its children, ion-upload and parallel).
local function timed(cmd)
  local pid = sandbox.get().pid
  local cpu0, t0 = cpu_seconds(pid), core.now()
  local out, clock = os.tmpname(), os.tmpname()
  local p = io.popen(run.env_prefix() .. " bash -c " .. run.quote(cmd .. " >" .. out .. " 2>&1; rc=$?; times >"
    .. clock .. "; exit $rc") .. "; echo $?")
  local code = tonumber(p:read("*l"))
  p:close()
  local wall, sandbox_cpu = core.now() - t0, cpu_seconds(pid) - cpu0
  local log, children = files.read(out), 0
  for m, sec in files.read(clock):match("[^\n]*\n([^\n]*)"):gmatch("(%d+)m([%d.]+)s") do
    children = children + tonumber(m) * 60 + tonumber(sec)
  end
  os.remove(out)
  os.remove(clock)
  return code, wall, sandbox_cpu, log, children
end

local attached_count = sandbox.attached_by_name

describe("integration: GNU parallel over four shards", function()
  local dir, tree
  local rels = {}
  for i = 1, FILES do rels[i] = string.format("cam-%d/IMG_%04d.jpg", i % FOLDERS + 1, i) end

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    tree = files.tree(rels, function(i) return string.rep("x", 512 + i % 97) end)
  end)
  teardown(function()
    files.rmdir(dir)
    files.rmdir(tree)
  end)

  it("attaches every file once, the journals partition the files, a rerun attaches nothing #slow", function()
    if not have_parallel() then
      print("  skipped: GNU parallel is not installed (scripts/deps.sh installs it: apt-get install parallel)")
      return
    end
    local cli = run.command({}) -- the interpreter and bin/ion-upload, as this suite runs them
    local common = " --run-step 12 -r " .. run.quote(tree) .. " --quiet"

    sandbox.reset()
    local code1, wall1, cpu1, log1, own1 = timed(cli .. common .. " --journal " .. run.quote(dir .. "/one.journal"))
    assert.equal(0, code1, log1)
    assert.equal(FILES, select(2, attached_count()))

    sandbox.reset()
    local cmd = "parallel --will-cite -j4 " .. cli .. common .. " --shard {}/4 --journal "
      .. run.quote(dir .. "/p.%k.journal") .. " ::: 0 1 2 3"
    local code4, wall4, cpu4, log4, own4 = timed(cmd)
    assert.equal(0, code4, log4)
    local by, total = attached_count()
    assert.equal(FILES, total)
    for _, rel in ipairs(rels) do assert.equal(1, by[rel:match("[^/]+$")], rel) end

    -- the journals partition the files: each holds its own shard's, attached
    local owner = {}
    for k = 0, 3 do
      for key, state in pairs(assert(journal.read(dir .. "/p." .. k .. ".journal"))) do
        local rel = journal.parse_key(key):sub(#core.realpath(tree) + 2) -- the key's path is the real one
        assert.is_nil(owner[rel], rel .. " in two journals")
        assert.is_true(shard.owns(rel, k, 4), rel .. " in journal " .. k)
        assert.is_table(state.attached, rel)
        owner[rel] = k
      end
    end
    for _, rel in ipairs(rels) do assert.is_number(owner[rel], rel) end

    local before = sandbox.counters()
    local code_again, _, _, log_again = timed(cmd)
    assert.equal(0, code_again, log_again)
    assert.equal(FILES, select(2, attached_count()))
    local after = sandbox.counters()
    assert.equal(before.storage.puts, after.storage.puts) -- no byte sent again
    assert.equal(before.graphql.requests, after.graphql.requests) -- every file skipped on its journal

    print(string.format("\n  shard_parallel: 1 process %.1f s (%.0f files/s, sandbox CPU %.1f s, "
      .. "ion-upload CPU %.1f s); 4 shards %.1f s (%.0f files/s, sandbox CPU %.1f s, "
      .. "ion-upload and parallel CPU %.1f s)",
      wall1, FILES / wall1, cpu1, own1, wall4, FILES / wall4, cpu4, own4))
  end)
end)
