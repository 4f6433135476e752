-- The single calls of a client (docs/api.md, "The other client methods"): the three steps one at
-- a time (request_upload_url, put, register), entity_id, attachment,
-- download and graphql. Each is a blocking call over the client's session
-- through the same rules as the engine: graphql.call (token, refresh,
-- resend, in doubt), storage (fresh URL, status codes), targets (lookups
-- and their cache), registration (the fileAttachment answer). Each takes the
-- client's context and returns its result | nil, err (a misuse raises).
local check = require("ion.upload.check")
local documents = require("ion.upload.graphql.documents")
local errors = require("ion.upload.errors")
local files = require("ion.upload.files")
local graphql = require("ion.upload.graphql.request")
local queries = require("ion.upload.graphql.queries")
local registration = require("ion.upload.graphql.registration")
local retry = require("ion.upload.retry")
local storage = require("ion.upload.storage")
local targets = require("ion.upload.targets")

local steps = {}

-- Misuses are blamed on the caller of the client's method (steps -> client -> caller).
local LEVEL = 3

-- Wraps on_progress so that its last call reports sent == total.
local function progress_tracker(fn)
  if not fn then return nil, function() return true end end
  local last_sent, last_total
  local function wrapped(sent, total)
    last_sent, last_total = sent, total
    return fn(sent, total)
  end
  local function finish(size)
    if last_sent == size and last_total == size then return true end
    local ok, e = pcall(fn, size, size)
    if not ok then return nil, errors.new("aborted", "on_progress raised an error: " .. tostring(e)) end
    return true
  end
  return wrapped, finish
end

-- The entity.id of an attachment target: "9876" | nil, err. One lookup
-- document (the engine's, with one field), cached per client.
function steps.entity_id(ctx, kind, id)
  check.arg(type(kind) == "string", 1, "entity_id", "string", kind, LEVEL)
  local k, v = targets.check_id(kind, id)
  if not k then return nil, v end
  local cached = ctx.entities.get(k, v)
  if cached then return cached end
  local doc = documents.build("query", "ResolveTarget", { { field = targets.by_key[k].field, value = v } })
  local data, err = graphql.call(ctx, doc.query, doc.variables)
  local eid, eerr = targets.lookup_result(k, v, documents.outcomes(doc, data, err)[1])
  if not eid then return nil, eerr end
  ctx.entities.put(k, v, eid)
  return eid
end

local function attachment_id(id)
  local n = targets.object_id(id)
  if not n then
    return nil, errors.new("bad_input", "attachment id must be a positive whole number, got " .. tostring(id),
      { field = "id" })
  end
  return n
end

local function fetch_attachment(ctx, id)
  local data, err = graphql.call(ctx, queries.file_attachment, { id = id })
  if not data then return nil, graphql.lookup_error(err) end
  local fa = data.fileAttachment
  if fa == nil or fa == require("cjson.safe").null then
    return nil, errors.new("not_found", "attachment " .. tostring(id) .. " not found",
      { hint = "Check the attachment id" })
  end
  if type(fa) ~= "table" or type(fa.downloadUrl) ~= "string" then
    return nil, errors.new("protocol", "fileAttachment answered without downloadUrl")
  end
  if storage.downgrade(ctx, fa.downloadUrl) then
    return nil, errors.new("protocol", "ION answered an http downloadUrl for an https endpoint (a downgrade)")
  end
  local att, why = registration.attachment_of(fa)
  if not att then return nil, errors.new("protocol", "fileAttachment answered a " .. why) end
  return att
end

-- The attachment with a fresh downloadUrl | nil, err
function steps.attachment(ctx, id)
  local n, err = attachment_id(id)
  if not n then return nil, err end
  local att, aerr = fetch_attachment(ctx, n)
  if not att then return nil, aerr end
  att.md5 = ctx.md5.get(n)
  return att
end

-- Streams an attachment to path: true | nil, err. The bytes are checked against
-- the MD5 when it is known (opts.md5, or this client uploaded the file).
function steps.download(ctx, id, path, opts)
  check.arg(type(path) == "string", 2, "download", "string", path, LEVEL)
  check.arg(opts == nil or type(opts) == "table", 3, "download", "table or nil", opts, LEVEL)
  opts = opts or {}
  local ok, oerr = check.options(opts, { md5 = true, on_progress = true })
  if not ok then return nil, oerr end
  local n, ierr = attachment_id(id)
  if not n then return nil, ierr end
  if opts.md5 ~= nil and (type(opts.md5) ~= "string" or not opts.md5:match("^%x+$") or #opts.md5 ~= 32) then
    return nil, check.bad("md5", "expected 32 hex digits")
  end
  local res, derr = steps.fetch_bytes(ctx, n, path, { on_progress = opts.on_progress,
    md5 = opts.md5 or ctx.md5.get(n) })
  if not res then return nil, derr end
  return true
end

--- The one download loop (download, and verify's): the attachment's bytes
-- streamed to path (or only hashed without one): res, att (no downloadUrl:
-- a credential, never handed on) | nil, err, from_storage (true when storage
-- failed, not ION). A fresh URL when storage.fresh_url_reason grants it
-- (once per reason: a 403); transient failures the client's retries.
-- opts: on_progress, md5 (checked before the file lands), sha256.
function steps.fetch_bytes(ctx, id, path, opts)
  local attempts, fresh = 0, {}
  while true do
    local att, aerr = steps.attachment(ctx, id)
    if not att then return nil, aerr end
    local res, derr = storage.download_once(ctx, att.downloadUrl, path, opts.on_progress, opts.md5, opts.sha256)
    if res then
      att.downloadUrl = nil
      return res, att
    end
    local reason = storage.fresh_url_reason(derr)
    if reason and not fresh[reason] then
      fresh[reason] = true
    elseif derr.retryable and attempts < ctx.cfg.retries then
      attempts = attempts + 1
      if derr.code ~= "url_expired" then retry.wait(ctx.core(), attempts, ctx.random, derr) end
    else
      return nil, derr, true
    end
  end
end

-- Step 1 alone: { uploadUrl, s3Key, contentType } | nil, err
function steps.request_upload_url(ctx, filename)
  check.arg(type(filename) == "string", 1, "request_upload_url", "string", filename, LEVEL)
  if filename == "" then return nil, check.bad("filename", "expected a non-empty string") end
  local data, err = graphql.call(ctx, queries.request_upload_url, { filename = filename })
  if not data then return nil, err end
  return storage.upload_ticket(ctx, data.requestFileUploadUrl)
end

-- Step 2 alone: { etag, md5, size } | nil, err. Transient failures are retried
-- on the same URL; a 403 is returned (ask for a new URL).
function steps.put(ctx, url, path, content_type, opts)
  check.arg(type(url) == "string", 1, "put", "string", url, LEVEL)
  check.arg(type(path) == "string", 2, "put", "string", path, LEVEL)
  check.arg(type(content_type) == "string", 3, "put", "string", content_type, LEVEL)
  check.arg(opts == nil or type(opts) == "table", 4, "put", "table or nil", opts, LEVEL)
  opts = opts or {}
  local ok, oerr = check.options(opts, { on_progress = true })
  if not ok then return nil, oerr end
  if content_type == "" then return nil, check.bad("content_type", "expected the contentType of step 1") end
  local info, ferr = files.check(path, ctx.core().stat)
  if not info then return nil, ferr end
  local on_progress, finish = progress_tracker(opts.on_progress)
  local attempts = 0
  while true do
    local put, perr = storage.put_once(ctx, url, path, content_type, on_progress)
    if put then
      local fok, ferr2 = finish(put.size)
      if not fok then return nil, ferr2 end
      return { etag = put.etag, md5 = put.md5, size = put.size }
    end
    if perr.retryable and perr.status ~= 403 and attempts < ctx.cfg.retries then
      attempts = attempts + 1
      retry.wait(ctx.core(), attempts, ctx.random, perr)
    else
      return nil, perr
    end
  end
end

local register_fields = { filename = true, s3Key = true, s3Etag = true, entityId = true, validateUpload = true }

-- Step 3 alone: att | nil, err
function steps.register(ctx, input)
  check.arg(type(input) == "table", 1, "register", "table", input, LEVEL)
  local ok, oerr = check.options(input, register_fields, function(k) return "unknown field " .. k end)
  if not ok then return nil, oerr end
  for _, k in ipairs({ "filename", "s3Key", "s3Etag" }) do
    if not check.nonempty(input[k]) then return nil, check.bad(k, "expected a non-empty string") end
  end
  local nok, nerr = files.check_name(input.filename)
  if not nok then return nil, nerr end
  local eid = targets.entity_id_string(input.entityId)
  if not eid then return nil, check.bad("entityId", "expected the target's entity.id") end
  local validate = input.validateUpload
  if validate == nil then validate = true end
  if type(validate) ~= "boolean" then return nil, check.bad("validateUpload", "expected a boolean") end
  local data, err = graphql.call(ctx, queries.create_file_attachment, { input = {
    filename = input.filename, s3Key = input.s3Key, s3Etag = input.s3Etag,
    entityId = eid, validateUpload = validate,
  } }, { idempotent = false })
  if not data then return nil, registration.refusal(err, validate) end
  local att, aerr = registration.answer(data.createFileAttachment)
  if not att then return nil, aerr end
  att.etag = input.s3Etag
  if att.s3Key == nil then att.s3Key = input.s3Key end
  return att
end

-- Any GraphQL document: data | nil, err. A mutation is never sent twice.
function steps.graphql(ctx, query, variables)
  check.arg(type(query) == "string", 1, "graphql", "string", query, LEVEL)
  check.arg(variables == nil or type(variables) == "table", 2, "graphql", "table or nil", variables, LEVEL)
  return graphql.call(ctx, query, variables, { idempotent = not graphql.is_mutation(query) })
end

return steps
