-- Error objects of ion.upload: { code, message, hint, retryable, status }.
-- tostring(err) reads "code: message (hint)". Messages are scrubbed: no token,
-- no client secret, no presigned URL query string ever reaches a caller.
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

local function replace_plain(s, needle, by)
  local out, i = {}, 1
  while true do
    local a, b = string.find(s, needle, i, true)
    if not a then break end
    out[#out + 1] = string.sub(s, i, a - 1)
    out[#out + 1] = by
    i = b + 1
  end
  out[#out + 1] = string.sub(s, i)
  return table.concat(out)
end

-- Removes what must never be shown: query strings of URLs (presigned URLs are
-- credentials), bearer tokens, JWTs, client secrets, and the exact secrets given.
function errors.scrub(s, secrets)
  if type(s) ~= "string" then s = tostring(s) end
  if secrets then
    for _, secret in ipairs(secrets) do
      if type(secret) == "string" and #secret >= 4 then s = replace_plain(s, secret, "…") end
    end
  end
  s = s:gsub("(%a[%w+.%-]*://[^%s?#\"'<>]*)%?[^%s\"'<>]*", "%1?…")
  s = s:gsub("[Bb]earer%s+[^%s\"',;]+", "Bearer …")
  s = s:gsub("eyJ[%w_%-]+%.[%w_%-]+%.?[%w_%-]*", "…")
  s = s:gsub("(client_secret[\"']?%s*[=:]%s*[\"']?)[^&%s\"']+", "%1…")
  s = s:gsub("(access_token[\"']?%s*[=:]%s*[\"']?)[^&%s\"']+", "%1…")
  s = s:gsub("(X%-Amz%-[%a]+=)[^&%s\"']+", "%1…")
  return s
end

-- errors.new(code, message [, fields]): fields may set hint, retryable, status
-- and any extra field (retry_after, curl_code, in_doubt, errors, ...).
function errors.new(code, message, fields)
  assert(errors.codes[code], "unknown error code " .. tostring(code))
  local e = {}
  if fields then for k, v in pairs(fields) do e[k] = v end end
  e.code = code
  e.message = errors.scrub(message or code)
  if #e.message > errors.max_message then
    e.message = e.message:sub(1, errors.max_message) .. "… (" .. #e.message .. " bytes)"
  end
  if e.hint == nil then e.hint = errors.hints[code] end
  if e.retryable == nil then e.retryable = retryable_codes[code] or false end
  return setmetatable(e, Error)
end

function errors.is(v)
  return getmetatable(v) == Error
end

-- A core error ({ code, message, curl_code, status }) as an ion.upload error.
function errors.from_core(cerr, prefix)
  if errors.is(cerr) then return cerr end
  if type(cerr) ~= "table" then
    return errors.new("network", (prefix or "") .. tostring(cerr), { retryable = true })
  end
  local code = cerr.code
  if not errors.codes[code] then code = "network" end
  local fields = { status = cerr.status, curl_code = cerr.curl_code }
  if code == "http" then
    fields.retryable = cerr.status ~= nil and cerr.status >= 500
  end
  return errors.new(code, (prefix or "") .. tostring(cerr.message or code), fields)
end

-- The same error with its message and hint scrubbed of the given secrets.
function errors.scrubbed(e, secrets)
  if not errors.is(e) then return e end
  e.message = errors.scrub(e.message, secrets)
  if e.hint then e.hint = errors.scrub(e.hint, secrets) end
  return e
end

-- Lets a caller test a code without caring whether err is nil.
function errors.code(e)
  return type(e) == "table" and e.code or nil
end

return errors
