-- The demo (`make demo`): uploads the three files in examples/files/ to a run
-- step, a run and a part, then reads each attachment back and downloads it.
--   ION_API_URL=https://.../graphql ION_TOKEN=... lua examples/upload_demo.lua
local upload = require("ion.upload")

local client, err = upload.new({
  endpoint = os.getenv("ION_API_URL"),
  token = os.getenv("ION_TOKEN"),
})
if not client then
  io.stderr:write(tostring(err), "\nset ION_API_URL and ION_TOKEN\n")
  os.exit(2)
end

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local jobs = {
  { path = here .. "/files/inspection-photo.jpg", target = { run_step = 1 }, what = "run step 1" },
  { path = here .. "/files/measurements.csv", target = { run = 7 }, what = "run 7" },
  { path = here .. "/files/report.pdf", target = { part = 3 }, what = "part 3" },
}

local failed = 0
for _, job in ipairs(jobs) do
  local att, uerr = client:upload(job.path, job.target)
  if att then
    -- Read it back, and download it: download checks the bytes against the MD5.
    local back = assert(client:attachment(att.id))
    local copy = os.tmpname()
    local same, derr = client:download(att.id, copy)
    os.remove(copy)
    print(string.format("%-21s -> %-10s attachment %-4s entity %-4s %5d bytes  MD5 %s  %s",
      back.filename, job.what, tostring(back.id), back.entityId, att.size, att.md5,
      same and "matches" or ("MISMATCH: " .. tostring(derr))))
    if not same then failed = failed + 1 end
  else
    failed = failed + 1
    print(string.format("%-21s -> %-10s FAILED %s", job.path:match("[^/]+$"), job.what, tostring(uerr)))
  end
end
os.exit(failed == 0 and 0 or 1)
