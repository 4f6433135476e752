-- unit: an error of a failed system call, from whichever part of the core
-- made the call, reads { code = "bad_input", message = "what: strerror",
-- errno = the number } (as luaL_fileresult reports one). Real calls on paths
-- that do not exist; the PUT and download fail before any traffic (the URL
-- has no server behind it).
local core = require("ion.upload.core")

local ENOENT = 2
local MISSING = "/nonexistent-ion-upload/x"
local NO_SUCH = "No such file or directory"

local function failed(what, r, err)
  assert.is_nil(r, what)
  assert.equal("bad_input", err.code, what)
  assert.equal(ENOENT, err.errno, what)
  return err.message
end

describe("core errors of a failed system call", function()
  it("name what failed, then strerror, with errno", function()
    assert.equal(MISSING .. ": " .. NO_SUCH, failed("stat", core.stat(MISSING)))
    assert.equal(MISSING .. ": " .. NO_SUCH, failed("stat+real", core.stat(MISSING, true)))
    assert.equal(MISSING .. ": " .. NO_SUCH, failed("realpath", core.realpath(MISSING)))
    assert.equal(MISSING .. "/y: " .. NO_SUCH, failed("mkdir", core.mkdir(MISSING .. "/y")))
    assert.equal(MISSING .. ": " .. NO_SUCH, failed("list_dir", core.list_dir(MISSING)))
    assert.equal(MISSING .. ": " .. NO_SUCH, failed("hash_file", core.hash_file(MISSING)))
    assert.equal("fsync " .. MISSING .. ": " .. NO_SUCH, failed("fsync_dir", core.fsync_dir(MISSING)))
    local url = "http://127.0.0.1:9/"
    assert.equal(MISSING .. ": " .. NO_SUCH, failed("put", core.put({ url = url, path = MISSING })))
    assert.equal(MISSING .. ".part: " .. NO_SUCH, failed("download", core.download({ url = url, path = MISSING })))
  end)

  it("of a program that cannot be run", function()
    local r, err = core.run_capture({ "no-such-program-ion-upload" })
    if r and r.status == 127 then -- posix_spawn as a fork (valgrind): the child reports it
      print("skipped: posix_spawnp ran as a fork here; the child's exit status 127 tells instead")
      return
    end
    assert.equal("no-such-program-ion-upload: cannot run it: " .. NO_SUCH, failed("run_capture", r, err))
  end)

  it("of a folder that cannot be watched", function()
    local w, err = core.watcher(MISSING)
    if err and err.code == "unsupported" then
      print("skipped: no inotify here")
      return
    end
    assert.equal(MISSING .. ": " .. NO_SUCH, failed("watcher", w, err))
  end)
end)
