-- The folders a watch writes in, checked at start rather than at the first
-- move: the move folder (after = "move:DIR") and the failed folder must
-- exist, be folders other than the watched one, be writable, and take a
-- file of the watched folder by rename (watch/after.lua moves by rename,
-- which fails across filesystems and mounts); with a move or a delete the
-- watched folder must let files go. The rename is checked by doing it: a
-- probe file made in the folder, renamed into the watched folder (the
-- watcher is not started yet, and a dot name is never taken), removed.
local errors = require("ion.upload.errors")

local folders = {}

local EXDEV = 18 -- errno of a rename across filesystems (Linux and the BSDs)

local NAMES = { after = "the move folder", failed = "the failed folder" }

local function bad(field, message, hint)
  return nil, errors.new("bad_input", "watch: " .. message, { field = field, hint = hint })
end

-- A name no other watch starting at the same moment picks.
local function probe_name(core)
  return string.format(".ion-upload-probe-%.0f-%s", core.now() * 1e6, tostring({}):match("%x+$") or "0")
end

-- The watched folder lets a file go (after = "delete"): true | nil, err.
local function check_root_writable(core, root)
  local name = root .. "/" .. probe_name(core)
  local fh, why = io.open(name, "wb")
  if fh then
    fh:close()
    local ok, rwhy = os.remove(name)
    if ok then return true end
    why = rwhy
  end
  return bad("after", "the watched folder " .. root .. " is not writable, and after = delete takes files out of it ("
    .. tostring(why) .. ")", "Give the user running the watch write access to it, or keep the files (after = keep)")
end

-- `dir` (the option `field`'s folder) takes files of root by rename: its
-- real path | nil, err.
local function check_move_folder(core, root, field, dir)
  local what = NAMES[field] .. " " .. dir
  local real = core.realpath(dir)
  local st = real and core.stat(real)
  if not st then
    return bad(field, what .. " does not exist", "Create it (mkdir -p " .. dir .. ") or name another folder")
  end
  if st.type ~= "directory" then return bad(field, what .. " is not a folder", "Name a folder") end
  if real == root then
    return bad(field, what .. " is the watched folder", "Name another folder (a subfolder will do: it is not watched)")
  end
  local name = probe_name(core)
  local fh, why = io.open(real .. "/" .. name, "wb")
  if not fh then
    return bad(field, what .. " is not writable (" .. tostring(why) .. ")",
      "Give the user running the watch write access to it, or name another folder")
  end
  fh:close()
  local ok, rwhy, errno = os.rename(real .. "/" .. name, root .. "/" .. name)
  if not ok then
    os.remove(real .. "/" .. name)
    if errno == EXDEV then
      return bad(field, what .. " is on another filesystem than the watched folder, and files are moved by renaming",
        "Name a folder on the same filesystem (and mount) as " .. root)
    end
    return bad(field, "a file cannot be moved from the watched folder " .. root .. " into " .. what .. " ("
      .. tostring(rwhy) .. ")", "Give the user running the watch write access to both folders")
  end
  os.remove(root .. "/" .. name)
  return real
end

--- folders.check(core, root, o) -> true | nil, err (bad_input naming the
-- option, with a hint). o.move_to and o.failed become real paths: the
-- moves and the watch's skipping of those folders compare them with root's.
function folders.check(core, root, o)
  local err
  if o.move_to then
    o.move_to, err = check_move_folder(core, root, "after", o.move_to)
    if not o.move_to then return nil, err end
  elseif o.after == "delete" then
    local ok, derr = check_root_writable(core, root)
    if not ok then return nil, derr end
  end
  if o.failed then
    o.failed, err = check_move_folder(core, root, "failed", o.failed)
    if not o.failed then return nil, err end
  end
  return true
end

return folders
