-- The PUT to the signed URL and the download from a signed URL: S3's answers
-- (status + the XML Code element) mapped onto ion.upload's error codes.
local errors = require("ion.upload.errors")
local retry = require("ion.upload.retry")
local untrusted = require("ion.upload.untrusted")

local storage = {}

-- Code and Message of an S3 XML error body (nil when there is none), read
-- from its first few KiB in linear time; a Code longer than a header value
-- is no S3 code and is cut.
function storage.s3_error(body)
  if type(body) ~= "string" then return nil end
  local code = untrusted.element(body, "Code")
  local message = untrusted.element(body, "Message")
  if code then code = untrusted.prefix(code, untrusted.max_header) end
  return code, message
end

local function describe(status, code, message)
  local s = "storage answered HTTP " .. status
  if code then s = s .. " " .. code end
  if message and message ~= "" then s = s .. ": " .. message end
  return s
end

-- err for a storage answer with a non-2xx status (PUT or GET).
function storage.map_status(res)
  local status = res.status or 0
  local code, message = storage.s3_error(res.body)
  local text = describe(status, code, message)
  local f = { status = status, s3_code = code }
  if status == 403 then
    if (code == "AccessDenied" or code == nil) and message and message:lower():find("expired", 1, true) then
      f.retryable = true
      return errors.new("url_expired", text, f)
    end
    if code == "SignatureDoesNotMatch" then
      return errors.new("signature_mismatch", text, f)
    end
    -- Any other 403: the URL itself is bad; the caller asks for a new one once.
    f.hint = errors.hints.url_expired
    return errors.new("http", text, f)
  end
  if status == 503 and code == "SlowDown" then
    f.retryable = true
    f.retry_after = retry.parse_retry_after(res.headers and res.headers["retry-after"])
    return errors.new("rate_limited", text, f)
  end
  if status == 429 then
    f.retryable = true
    f.retry_after = retry.parse_retry_after(res.headers and res.headers["retry-after"])
    return errors.new("rate_limited", text, f)
  end
  if status == 411 or code == "MissingContentLength" then
    f.hint = "Storage needs Content-Length: send the file with its size set, never chunked"
    return errors.new("http", text, f)
  end
  if code == "BadDigest" then
    f.hint = "The bytes changed on the way: send them again, and never a Content-MD5 of other bytes"
    return errors.new("etag_mismatch", text, f)
  end
  if code == "NoSuchKey" or status == 404 then
    return errors.new("not_found", text, f)
  end
  if status >= 500 then
    f.retryable = true
    return errors.new("http", text, f)
  end
  return errors.new("http", text, f)
end

-- The result of a core PUT: { etag, md5, size, status } | nil, err.
function storage.map_put(res, verify_md5)
  local status = res.status or 0
  if status < 200 or status >= 300 then return nil, storage.map_status(res) end
  local etag = res.etag
  if etag == nil or etag == "" then
    return nil, errors.new("missing_etag", "storage answered HTTP " .. status .. " without an ETag",
      { status = status })
  end
  if verify_md5 and res.md5 and etag:lower() ~= res.md5:lower() then
    local shown = #etag > 40 and (etag:sub(1, 32) .. "… (" .. #etag .. " characters)") or etag
    return nil, errors.new("etag_mismatch", "storage ETag " .. shown .. " is not the MD5 of the bytes sent ("
      .. res.md5 .. ")", {
        status = status,
        hint = errors.hints.etag_mismatch .. "; if the bucket uses SSE-KMS the ETag is no MD5: set verify_md5 = false",
      })
  end
  return { etag = etag, md5 = res.md5, size = res.size, status = status, sha256 = res.sha256 }
end

-- Would following url downgrade an https endpoint to plain http? The bytes,
-- and the URL's signature, would then cross the network in clear.
function storage.downgrade(ctx, url)
  return ctx.cfg.endpoint:match("^[Hh][Tt][Tt][Pp][Ss]://") ~= nil
    and url:match("^[Hh][Tt][Tt][Pp]://") ~= nil
end

-- A failed PUT that earns one more try with a fresh URL at once, before the
-- usual retry rules: any 403 (the URL is cheap, whether it expired or is
-- bad), and a 2xx without an ETag (a proxy that dropped it once may not again;
-- twice means it always will, so one try only, not `retries` uploads of a
-- big file). Returns the reason's name, for the caller to grant it once.
function storage.fresh_url_reason(err)
  if err.status == 403 then return "403" end
  if err.code == "missing_etag" then return "missing_etag" end
  return nil
end

-- Checks what requestFileUploadUrl answered before anything is sent with it:
-- { uploadUrl, s3Key, contentType } | nil, err (protocol). The single upload
-- and the batch both take their tickets from here.
function storage.upload_ticket(ctx, t)
  local why
  if type(t) ~= "table" then
    why = "no requestFileUploadUrl"
  elseif type(t.uploadUrl) ~= "string" or type(t.s3Key) ~= "string" or t.s3Key == ""
    or type(t.contentType) ~= "string" or t.contentType == "" then
    why = "requestFileUploadUrl without uploadUrl, s3Key or contentType"
  elseif not t.uploadUrl:match("^[Hh][Tt][Tt][Pp][Ss]?://") then
    -- never hand a file:// or ftp:// URL to the transfer
    why = "an uploadUrl that is not http(s): "
      .. (untrusted.prefix(t.uploadUrl, untrusted.max_header):match("^(%a[%w+.%-]*):") or "?") .. ":…"
  elseif storage.downgrade(ctx, t.uploadUrl) then
    why = "an http uploadUrl for an https endpoint (a downgrade)"
  elseif t.contentType:find("[%c]") then
    -- a CR/LF here would inject headers into the PUT
    why = "a contentType with control characters"
  end
  if why then return nil, errors.new("protocol", "ION answered " .. why) end
  return { uploadUrl = t.uploadUrl, s3Key = t.s3Key, contentType = t.contentType }
end

-- The core request of a transfer between a file and a signed URL: hashed as it
-- moves, aborted when it stalls, no total cap (big files take long).
local function file_transfer(ctx, url, path, on_progress)
  return {
    url = url,
    path = path,
    md5 = true,
    stall_timeout = ctx.cfg.stall_timeout,
    connect_timeout = math.min(10, ctx.cfg.stall_timeout),
    ca_file = ctx.cfg.ca_file,
    proxy = ctx.cfg.proxy,
    no_proxy = ctx.cfg.no_proxy,
    on_progress = on_progress,
  }
end

-- The core request of one PUT (the batch adds it to its own session).
function storage.put_request(ctx, url, path, content_type, on_progress)
  local req = file_transfer(ctx, url, path, on_progress)
  req.content_type = content_type
  return req
end

-- One PUT attempt: { etag, md5, size } | nil, err.
function storage.put_once(ctx, url, path, content_type, on_progress)
  local res, cerr = ctx.transport:put(storage.put_request(ctx, url, path, content_type, on_progress))
  if not res then return nil, errors.from_core(cerr, "PUT to storage: ") end
  return storage.map_put(res, ctx.cfg.verify_md5)
end

-- One download attempt to path: { md5, size } | nil, err. With expect_md5 the
-- core compares before it renames the file onto path, so a mismatch leaves
-- whatever was at path before. Without a path the bytes are only hashed
-- (verify); sha256 = true adds their SHA-256; `etag` is storage's header.
function storage.download_once(ctx, url, path, on_progress, expect_md5, sha256)
  local req = file_transfer(ctx, url, path, on_progress)
  req.expect_md5 = expect_md5
  if path == nil then req.discard = true end
  if sha256 then req.sha256 = true end
  local res, cerr = ctx.transport:download(req)
  if not res then
    if type(cerr) == "table" and cerr.code == "etag_mismatch" then
      return nil, errors.new("etag_mismatch", "download: " .. tostring(cerr.message), {
        hint = "Download again; if it persists the stored object differs from what was uploaded" })
    end
    return nil, errors.from_core(cerr, "download: ")
  end
  local status = res.status or 0
  if status < 200 or status >= 300 then return nil, storage.map_status(res) end
  return { md5 = res.md5, size = res.size, status = status, sha256 = res.sha256,
    etag = res.headers and res.headers.etag }
end

return storage
