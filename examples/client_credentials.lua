-- A service account (OAuth2 client credentials) instead of a token: the
-- client fetches the token, caches it, and refreshes it before it expires.
--   ION_API_URL=... ION_CLIENT_ID=... ION_CLIENT_SECRET=... ION_AUTH_URL=... \
--   lua examples/client_credentials.lua FILE RUN_ID
local upload = require("ion.upload")

local client, err = upload.new({
  endpoint = os.getenv("ION_API_URL"),       -- or environment = "production"
  client_id = os.getenv("ION_CLIENT_ID"),
  client_secret = os.getenv("ION_CLIENT_SECRET"),
  auth_url = os.getenv("ION_AUTH_URL"),      -- implied by environment = "..."
})
if not client then
  io.stderr:write(tostring(err), "\n")
  os.exit(2)
end

local path = arg[1] or "examples/files/measurements.csv"
local att, uerr = client:upload(path, { run = tonumber(arg[2] or "7") })
if not att then
  io.stderr:write(tostring(uerr), "\n")
  os.exit(1)
end
print(("attached %s as #%s on entity %s"):format(att.filename, tostring(att.id), att.entityId))
