-- A test stand that knows only what is on its screen: the serial number of
-- the unit under test and the name of the step it just ran. It finds the
-- run by its title ("<serial> final test"), the run's step by its title,
-- and attaches its log there; no ION id is typed anywhere.
--   ION_API_URL=... ION_TOKEN=... lua examples/station_by_serial.lua LOG SERIAL [STEP]
local upload = require("ion.upload")

local path = arg[1] or "examples/files/measurements.csv"
local serial = arg[2] or "SN004517"
local step = arg[3] or "Final test"

local client = assert(upload.new({ endpoint = os.getenv("ION_API_URL"), token = os.getenv("ION_TOKEN") }))

-- Exactly one run must have this title, and the run one step with this
-- title: none is not_found, two or more is bad_input ("ambiguous: ...").
local target = { run_step = { run = { where = { title = { eq = serial .. " final test" } } }, title = step } }

local att, err = client:upload(path, target)
client:close()
if not att then
  -- e.g. "not_found: LOG: no run matches title = SN009999 final test (Check the target's words …)"
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(("attached %s as #%s to step %q of %s's run (entity %s)"):format(att.filename, tostring(att.id), step,
  serial, att.entityId))
