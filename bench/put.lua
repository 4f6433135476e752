-- One PUT through ion.upload.core, for bench/put_1gib.sh:
--   lua5.4 bench/put.lua URL FILE md5(true|false) [sha256(true|false)]
local core = require("ion.upload.core")
local url, path, md5, sha256 = arg[1], arg[2], arg[3] ~= "false", arg[4] == "true"
local res, err = core.put{ url = url, path = path, md5 = md5, sha256 = sha256,
  content_type = "application/octet-stream" }
if not res then
  io.stderr:write(err.code, ": ", err.message, "\n")
  os.exit(1)
end
assert(res.status == 200, res.status)
io.stderr:write(string.format("sent %d md5 %s sha256 %s\n", res.size, tostring(res.md5), tostring(res.sha256)))
