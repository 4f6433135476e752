-- unit spec: core.run_capture (csrc/lua_spawn.c), real processes, no shell
-- unless a case runs sh itself: output, status, timeout, caps, and that
-- nothing leaks (descriptors, zombies).
local core = require("ion.upload.core")

local self_pid

-- The open descriptors, as "fd -> what" lines (files no longer used are
-- collected first: Lua 5.1 closes a forgotten handle only then).
local function fds()
  collectgarbage()
  collectgarbage()
  local p = io.popen("cd /proc/" .. self_pid() .. "/fd && for f in *; do echo \"$f $(readlink $f)\"; done")
  local list = {}
  for line in p:read("*a"):gmatch("[^\n]+") do
    -- (one pipe is this listing's own; a descriptor gone before readlink, of
    -- some other part of the process, is not counted)
    if line:find("^%d+ .") then list[#list + 1] = (line:gsub("pipe:%[%d+%]", "pipe")) end
  end
  p:close()
  return table.concat(list, "\n")
end

function self_pid()
  local f = io.open("/proc/self/stat")
  local pid = f:read("*l"):match("^%d+")
  f:close()
  return pid
end

-- Children of this process (zombies included), from /proc.
local function children()
  local pid, list = self_pid(), {}
  local p = io.popen("cat /proc/" .. pid .. "/task/*/children 2>/dev/null")
  for c in p:read("*a"):gmatch("%d+") do list[c] = true end
  p:close()
  return list
end

local function new_children(before)
  local out = {}
  for c in pairs(children()) do
    if not before[c] then
      local f = io.open("/proc/" .. c .. "/stat")
      local st = f and f:read("*l") or ""
      if f then f:close() end
      -- (the shell and cat that read the list are gone, or are cat)
      if st ~= "" and not st:find("^%d+ %(cat%)") and not st:find("^%d+ %(sh%)") then out[#out + 1] = st end
    end
  end
  return out
end

describe("core.run_capture", function()
  it("runs a program without a shell and gives its stdout and exit status", function()
    local r = assert(core.run_capture({ "printf", "%s\\n", "a b; echo $HOME" }))
    assert.equal("a b; echo $HOME\n", r.stdout) -- no shell: ; and $ are plain bytes
    assert.equal(0, r.status)
    r = assert(core.run_capture({ "sh", "-c", "printf out; exit 7" }))
    assert.equal("out", r.stdout)
    assert.equal(7, r.status)
  end)

  it("gives the signal of a program that was killed", function()
    local r = assert(core.run_capture({ "sh", "-c", "kill -TERM $$" }))
    assert.is_nil(r.status)
    assert.equal(15, r.signal)
  end)

  it("gives stdin from /dev/null and no descriptor of ours to the child", function()
    local keep = assert(io.open("/proc/self/stat")) -- an open fd without O_CLOEXEC
    local r = assert(core.run_capture({ "cat" }, { timeout = 5 }))
    assert.equal("", r.stdout)
    r = assert(core.run_capture({ "ls", "/proc/self/fd" }))
    keep:close()
    -- 0, 1, 2 and the folder ls itself opened to list
    local n = 0
    for _ in r.stdout:gmatch("%d+") do n = n + 1 end
    assert.is_true(n <= 4, r.stdout)
  end)

  -- glibc reports a failed exec as an error; under valgrind (which runs
  -- posix_spawn as a fork) the child exits 127 instead, as POSIX allows.
  it("fails cleanly on a program that does not exist", function()
    local r, err = core.run_capture({ "no-such-program-ion-upload" })
    if r then
      assert.equal(127, r.status)
    else
      assert.equal("bad_input", err.code)
      assert.matches("no%-such%-program%-ion%-upload: cannot run it: No such file", err.message)
    end
  end)

  it("kills a program that overstays its timeout and reaps it", function()
    local before = children()
    local t0 = core.now()
    local r, err = core.run_capture({ "sleep", "30" }, { timeout = 0.3 })
    assert.is_nil(r)
    assert.equal("timeout", err.code)
    assert.is_true(core.now() - t0 < 5)
    assert.same({}, new_children(before))
  end)

  it("times out a program that closed stdout but goes on running", function()
    local r, err = core.run_capture({ "sh", "-c", "exec >&-; exec sleep 30" }, { timeout = 0.3 })
    assert.is_nil(r)
    assert.equal("timeout", err.code)
  end)

  it("stops a program writing more than max_output", function()
    local before = children()
    local r, err = core.run_capture({ "yes" }, { max_output = 1000 })
    assert.is_nil(r)
    assert.equal("too_large", err.code)
    assert.same({}, new_children(before))
    r = assert(core.run_capture({ "printf", "12345" }, { max_output = 5 }))
    assert.equal("12345", r.stdout)
  end)

  it("leaves no descriptor and no zombie behind over many runs", function()
    local before_fds, before = fds(), children()
    for _ = 1, 50 do
      assert(core.run_capture({ "true" }))
      core.run_capture({ "false" })
      core.run_capture({ "no-such-program-ion-upload" })
    end
    -- Descriptors now open that were not before: a leak shows up to 150 of
    -- them; a few tries absorb one another thread opens for a moment.
    local function extra()
      local was, out = {}, {}
      for line in before_fds:gmatch("[^\n]+") do was[line] = true end
      for line in fds():gmatch("[^\n]+") do
        if not was[line] then out[#out + 1] = line end
      end
      return out
    end
    local more = extra()
    for _ = 1, 5 do
      if #more == 0 then break end
      core.sleep(0.05)
      more = extra()
    end
    assert.same({}, more)
    assert.same({}, new_children(before))
  end)

  it("raises on misuse", function()
    assert.has_error(function() core.run_capture({}) end)
    assert.has_error(function() core.run_capture("true") end)
    assert.has_error(function() core.run_capture({ "true", 3 }) end)
    assert.has_error(function() core.run_capture({ "true" }, { timeout = 0 }) end)
    assert.has_error(function() core.run_capture({ "true" }, { max_output = 0 }) end)
    assert.has_error(function() core.run_capture({ "true" }, { shell = true }) end)
  end)
end)
