-- One file to a run step: the script most people start from.
--   ION_API_URL=... ION_TOKEN=... lua examples/one_file.lua FILE RUN_STEP_ID
local upload = require("ion.upload")

local path = arg[1] or "examples/files/inspection-photo.jpg"
local run_step = tonumber(arg[2] or "1")

local client = assert(upload.new({ endpoint = os.getenv("ION_API_URL"), token = os.getenv("ION_TOKEN") }))

local att, err = client:upload(path, { run_step = run_step })
if not att then
  io.stderr:write(tostring(err), "\n") -- e.g. "not_found: run_step 99 not found (Check the id: ...)"
  os.exit(1)
end
print(("attached %s as #%s to run step %d (entity %s), MD5 %s"):format(
  att.filename, tostring(att.id), run_step, att.entityId, att.md5))
