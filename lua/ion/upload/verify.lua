-- client:verify(id, expect, opts): is what ION holds what was sent? The
-- attachment is read back (fileAttachment), its bytes streamed through MD5
-- (and SHA-256 when the record has one) without touching the disk, unless
-- opts.download names a file, and compared with the record of the upload
-- (expect: a journal's or a receipt's) and with the local file, if any.
--
-- The verdict, worst first: "missing" (no such attachment, or storage has no
-- object), "mismatch" (ION's bytes or key differ from the record, or from
-- storage's own ETag), "local_changed" (ION matches, the local file does
-- not), "ok". A failure that decides nothing (network, auth) is nil, err.
local check = require("ion.upload.check")
local steps = require("ion.upload.calls")

local verify = {}

verify.RANK = { ok = 0, local_changed = 1, mismatch = 2, missing = 3 }

local expect_fields = { md5 = true, sha256 = true, size = true, etag = true, s3Key = true, path = true,
  mtime = true }

local function hex(v, n)
  return type(v) == "string" and #v == n and v:match("^%x+$") ~= nil
end

-- An ETag as S3 sends it ("…", W/"…") reduced to its hex, when it is an MD5
-- (a multipart or SSE-KMS ETag is not: nil).
local function etag_md5(etag)
  if type(etag) ~= "string" then return nil end
  local bare = etag:gsub("^%s*W/", ""):gsub('"', ""):gsub("%s", ""):lower()
  if hex(bare, 32) then return bare end
  return nil
end
verify.etag_md5 = etag_md5

local function check_expect(expect)
  local ok, err = check.options(expect, expect_fields, function(k) return "expect." .. k .. ": unknown field" end)
  if not ok then return nil, err end
  for _, k in ipairs({ "md5", "sha256" }) do
    local n = k == "md5" and 32 or 64
    if expect[k] ~= nil and not hex(expect[k], n) then
      return nil, check.bad("expect." .. k, "expected " .. n .. " hex digits")
    end
  end
  for _, k in ipairs({ "size", "mtime" }) do
    if expect[k] ~= nil and type(expect[k]) ~= "number" then
      return nil, check.bad("expect." .. k, "expected a number")
    end
  end
  for _, k in ipairs({ "etag", "s3Key", "path" }) do
    if expect[k] ~= nil and not check.nonempty(expect[k]) then
      return nil, check.bad("expect." .. k, "expected a non-empty string")
    end
  end
  return true
end

-- What the local file says about the record: adds to out.reasons and
-- returns "local_changed" or nil.
local function compare_local(core, expect, out)
  local st = core.stat(expect.path)
  if not st or st.type ~= "file" then
    out["local"] = { gone = true }
    out.notes[#out.notes + 1] = "local file gone"
    return nil
  end
  local h, herr = core.hash_file(expect.path, { sha256 = expect.sha256 ~= nil })
  if not h then
    out["local"] = { error = herr.message }
    out.notes[#out.notes + 1] = "local file unreadable: " .. tostring(herr.message)
    return nil
  end
  out["local"] = h
  local touched = (expect.size ~= nil and h.size ~= expect.size)
    or (expect.mtime ~= nil and math.abs(h.mtime - expect.mtime) > 2e-6)
  local differs = (expect.md5 ~= nil and h.md5 ~= expect.md5:lower())
    or (expect.sha256 ~= nil and h.sha256 ~= expect.sha256:lower())
  if differs then
    out.reasons[#out.reasons + 1] = string.format("local file changed since the upload (MD5 %s, recorded %s%s)",
      h.md5, tostring(expect.md5), touched and "; size or mtime differ too" or "")
    return "local_changed"
  end
  if touched then out.notes[#out.notes + 1] = "local file touched since the upload, same bytes" end
  return nil
end

-- The comparisons of ION's bytes with the record and storage's ETag.
local function compare_remote(expect, res, att, out)
  local function shown(v)
    if type(v) == "number" and v == math.floor(v) then return string.format("%d", v) end
    return tostring(v)
  end
  local function differ(what, got, want)
    out.reasons[#out.reasons + 1] = string.format("%s of ION's bytes %s, recorded %s", what, shown(got), shown(want))
  end
  local before = #out.reasons
  local want_md5 = expect.md5 and expect.md5:lower() or etag_md5(expect.etag)
  if want_md5 and res.md5 ~= want_md5 then differ("MD5", res.md5, want_md5) end
  if expect.sha256 and res.sha256 ~= expect.sha256:lower() then differ("SHA-256", res.sha256, expect.sha256) end
  if expect.size and res.size ~= expect.size then differ("size", res.size, expect.size) end
  if expect.s3Key and att.s3Key and att.s3Key ~= expect.s3Key then
    out.reasons[#out.reasons + 1] = "ION's attachment points at another storage key than recorded"
  end
  local stored = etag_md5(res.etag)
  if stored and res.md5 and stored ~= res.md5 then
    out.reasons[#out.reasons + 1] = "storage's ETag " .. stored .. " is not the MD5 of the bytes it served " .. res.md5
  end
  if not want_md5 and not expect.sha256 then
    out.notes[#out.notes + 1] = stored and "no record: checked against storage's ETag" or "no record to compare with"
  end
  return #out.reasons > before and "mismatch" or nil
end

--- result | nil, err. result = { id, status, reasons = {…}, notes = {…},
-- attachment (without downloadUrl), remote = { md5, sha256, size, etag },
-- local = { md5, sha256, size, mtime } | { gone = true } | nil, download }.
function verify.run(ctx, id, expect, opts)
  check.arg(expect == nil or type(expect) == "table", 2, "verify", "table or nil", expect, 3)
  check.arg(opts == nil or type(opts) == "table", 3, "verify", "table or nil", opts, 3)
  expect, opts = expect or {}, opts or {}
  local ok, err = check.options(opts, { download = true, on_progress = true })
  if not ok then return nil, err end
  if opts.download ~= nil and not check.nonempty(opts.download) then
    return nil, check.bad("download", "expected a file path")
  end
  ok, err = check_expect(expect)
  if not ok then return nil, err end
  local out = { id = id, status = "ok", reasons = {}, notes = {} }
  -- res, att | nil, err, from_storage
  local res, att, from_storage = steps.fetch_bytes(ctx, id, opts.download,
    { sha256 = expect.sha256 ~= nil, on_progress = opts.on_progress })
  if not res then
    local ferr = att
    if ferr.code ~= "not_found" then return nil, ferr end
    out.status = "missing"
    out.reasons[1] = from_storage and "storage has no object for this attachment" or "no such attachment in ION"
  else
    out.attachment = att
    out.remote = { md5 = res.md5, sha256 = res.sha256, size = res.size, etag = etag_md5(res.etag) or res.etag }
    out.download = opts.download
    out.status = compare_remote(expect, res, att, out) or out.status
  end
  if expect.path then
    local changed = compare_local(ctx.core(), expect, out)
    if changed and verify.RANK[changed] > verify.RANK[out.status] then out.status = changed end
  end
  return out
end

return verify
