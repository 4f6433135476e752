-- Every photo of a folder to one run step, each named after the station.
--   ION_API_URL=... ION_TOKEN=... lua examples/folder_of_photos.lua DIR RUN_STEP_ID
local upload = require("ion.upload")

local dir = arg[1] or "examples/files"
local run_step = tonumber(arg[2] or "1")

local client = assert(upload.new({ endpoint = os.getenv("ION_API_URL"), token = os.getenv("ION_TOKEN") }))

local failed = 0
local ls = io.popen("ls -1 '" .. dir:gsub("'", "'\\''") .. "'")
for name in ls:lines() do
  if name:lower():match("%.jpe?g$") or name:lower():match("%.png$") then
    local att, err = client:upload(dir .. "/" .. name, { run_step = run_step },
      { filename = "station-7-" .. name })
    if att then
      print(("ok     %s -> #%s (%d bytes)"):format(name, tostring(att.id), att.size))
    else
      failed = failed + 1
      print(("FAILED %s: %s"):format(name, tostring(err)))
    end
  end
end
ls:close()
os.exit(failed == 0 and 0 or 1)
