-- Error objects of ion.upload: { code, message, hint, retryable, status }.
-- tostring(err) reads "code: message (hint)". Messages are scrubbed: no token,
-- no client secret, no presigned URL query string ever reaches a caller.
local scrub = require("ion.upload.scrub")
local untrusted = require("ion.upload.untrusted")

local errors = {}

local Error = { __name = "ion.upload.error" }
Error.__index = Error

function Error.__tostring(e)
  if e.hint and e.hint ~= "" then
    return e.code .. ": " .. e.message .. " (" .. e.hint .. ")"
  end
  return e.code .. ": " .. e.message
end

-- What to do, in the words of the upload guide's "Common errors" table where it
-- has words for the case.
errors.hints = {
  bad_input = "Check the path, the target and the options",
  auth = "Check the token or the client credentials: they are missing, rejected or expired",
  permission_denied = "Check the role's permissions on the parent resource (e.g. RunStep update)",
  not_found = "Check the id: pass the object's own id as run_step, run, part, ..., "
    .. "or its entity { id } as entity_id",
  url_expired = "Re-request the URL; don't sit on a signed URL between issue and use",
  signature_mismatch = "Send exactly the contentType returned in step 1",
  etag_mismatch = "Capture the ETag after a successful 200 response, not the request hash",
  missing_etag = "Capture the ETag from the PUT response headers; make sure you're not using "
    .. "a wrapper or proxy that throws response headers away",
  rate_limited = "Back off and retry later, honouring Retry-After",
  graphql = "Check the query and its variables against ION's schema",
  http = "Retry later; if it persists, check the endpoint URL",
  network = "Check the network and the endpoint URL",
  timeout = "Raise timeout (GraphQL calls) or stall_timeout (PUTs), or retry later",
  protocol = "The server did not answer as ION or S3 would: check the endpoint URL",
  aborted = "A callback raised an error or asked to stop",
}

-- The hint of a registration whose answer was lost: it may exist already.
errors.in_doubt_hint = "The registration may have been recorded: check the entity's attachments "
  .. "before registering again"

-- Codes worth trying again as they are (after a pause).
local retryable_codes = {
  network = true, timeout = true, rate_limited = true, url_expired = true,
}

-- A server's words are kept, but not a whole error page of them.
errors.max_message = 1000

errors.codes = {}
for code in pairs(errors.hints) do errors.codes[code] = true end

-- Removes what must never be shown (ion.upload.scrub): query strings and
-- userinfo of URLs, bearer tokens, JWTs, client secrets, X-Amz-* values, and
-- the exact secrets given. Reads the first few KiB of s only.
errors.scrub = scrub.text

-- s cut to at most n bytes, not inside a UTF-8 character.
local function cut(s, n)
  if #s <= n then return s end
  while n > 0 and s:find("^[\128-\191]", n + 1) do n = n - 1 end
  return s:sub(1, n)
end

-- errors.new(code, message [, fields]): fields may set hint, retryable, status
-- and any extra field (retry_after, curl_code, in_doubt, errors, ...). The
-- message is read up to a few KiB (it may be a server's 8 MiB), scrubbed, then
-- cut to max_message bytes.
function errors.new(code, message, fields)
  assert(errors.codes[code], "unknown error code " .. tostring(code))
  local e = {}
  if fields then for k, v in pairs(fields) do e[k] = v end end
  e.code = code
  local text = message or code
  if type(text) ~= "string" then text = tostring(text) end
  e.message = errors.scrub(text)
  if #e.message > errors.max_message or #text > untrusted.max_text then
    e.message = cut(e.message, errors.max_message) .. "… (" .. #text .. " bytes)"
  end
  if e.hint == nil then e.hint = errors.hints[code] end
  if e.retryable == nil then e.retryable = retryable_codes[code] or false end
  return setmetatable(e, Error)
end

function errors.is(v)
  return getmetatable(v) == Error
end

-- Codes of the core's own that are not ours: a local limit or refusal
-- (the inotify limit, no inotify, a journal locked), the caller's to fix.
-- The core's code stays in core_code.
local LOCAL_CODES = { watch_limit = true, unsupported = true, busy = true }

-- A core error ({ code, message, curl_code, status, hint }) as an ion.upload error.
function errors.from_core(cerr, prefix)
  if errors.is(cerr) then return cerr end
  if type(cerr) ~= "table" then
    return errors.new("network", (prefix or "") .. tostring(cerr), { retryable = true })
  end
  local code = cerr.code
  local fields = { status = cerr.status, curl_code = cerr.curl_code, hint = cerr.hint }
  if LOCAL_CODES[code] then
    code, fields.core_code = "bad_input", code
  elseif not errors.codes[code] then
    code = "network"
  end
  if code == "http" then
    fields.retryable = cerr.status ~= nil and cerr.status >= 500
  end
  return errors.new(code, (prefix or "") .. tostring(cerr.message or code), fields)
end

-- The same error with every string in it scrubbed of the given secrets:
-- message, hint, s3_code, ..., and the server's raw errors[] and data (which
-- may hold a signed downloadUrl), copied deep with a bound.
function errors.scrubbed(e, secrets)
  if not errors.is(e) then return e end
  for k, v in pairs(e) do
    if k ~= "code" and (type(v) == "string" or type(v) == "table") then
      e[k] = scrub.value(v, secrets)
    end
  end
  return e
end

-- A copy of err (a new table: one failure told to many files), with extra
-- fields set.
function errors.copy(err, extra)
  local fields = {}
  for k, v in pairs(err) do fields[k] = v end
  for k, v in pairs(extra or {}) do fields[k] = v end
  return errors.new(err.code, err.message, fields)
end

-- The failure of a request that may have taken effect, its answer lost (a
-- registration): never retried by this run, with the hint to check first.
-- The one place this error is built.
--- Is err a failure every other file would meet too, so that a run stops on
-- it and says it once? The credentials refused (auth), or the GraphQL
-- endpoint answering as no GraphQL server does (an HTML page, a 404:
-- protocol) before it ever answered as ION (`ion_answered`).
function errors.run_wide(err, ion_answered)
  return err.code == "auth" or (err.code == "protocol" and not ion_answered)
end

function errors.in_doubt(code, message, fields)
  local f = { in_doubt = true, retryable = false, hint = errors.in_doubt_hint }
  for k, v in pairs(fields or {}) do f[k] = v end
  return errors.new(code, message, f)
end

-- Marks err (a failed mutation that may have run) in doubt, in place.
function errors.mark_in_doubt(err)
  err.retryable, err.in_doubt, err.hint = false, true, errors.in_doubt_hint
  return err
end

-- Lets a caller test a code without caring whether err is nil.
function errors.code(e)
  return type(e) == "table" and e.code or nil
end

return errors
