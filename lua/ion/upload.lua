-- ion.upload: put files into ION as attachments (DESIGN.md, "Lua API").
-- Every method returns its result or nil, err; only a misuse (a wrong argument
-- type) raises.
local cjson = require("cjson.safe")
local config = require("ion.upload.config")
local auth = require("ion.upload.auth")
local errors = require("ion.upload.errors")
local queries = require("ion.upload.queries")
local graphql = require("ion.upload.graphql")
local entities = require("ion.upload.entities")
local storage = require("ion.upload.storage")
local retry = require("ion.upload.retry")
local files = require("ion.upload.files")
local messages = require("ion.upload.messages")
local untrusted = require("ion.upload.untrusted")

local upload = { VERSION = "0.1.0", errors = errors }

local Client = { __name = "ion.upload.client" }
Client.__index = Client

local function argcheck(cond, n, fname, expected, got)
  if not cond then
    error(string.format("bad argument #%d to '%s' (%s expected, got %s)", n, fname, expected, type(got)), 3)
  end
end

-- client | nil, err (bad_input naming the field).
function upload.new(cfg)
  local c, err = config.check(cfg)
  if not c then return nil, err end
  return setmetatable({
    cfg = c,
    user_agent = "ion-upload/" .. upload.VERSION,
    _auth = auth.new(c),
    _entity_cache = {},
    _md5 = {},             -- attachment id -> MD5 of the bytes this client uploaded
    _md5_count = 0,
    _random = retry.prng(retry.seed()),
  }, Client)
end

-- The C core, loaded on first use (unit specs put a stub in _core).
function Client:_core_module()
  if not self._core then self._core = require("ion.upload.core") end
  return self._core
end

-- One core session per client: GraphQL calls reuse their connection.
function Client:_session()
  if not self._sess then
    local n = self.cfg.concurrency
    self._sess = self:_core_module().session({ max_host_connections = n, max_total_connections = 2 * n })
  end
  return self._sess
end

-- { now =, sleep = }: the core's monotonic clock.
function Client:_clock()
  return self:_core_module()
end

function Client:_fail(err)
  return nil, errors.scrubbed(err, self._auth:secrets())
end

-- Remembers the MD5 of an attachment this client uploaded, for download() to
-- check. Bounded: a client on a test stand may upload for months, and an
-- unbounded map would grow with every file (up to the last 1,000 are kept).
local MD5_KEEP = 1000
function Client:_remember_md5(id, md5)
  if self._md5_count >= MD5_KEEP then self._md5, self._md5_count = {}, 0 end
  local k = tostring(id)
  if self._md5[k] == nil then self._md5_count = self._md5_count + 1 end
  self._md5[k] = md5
end

-- Closes the client's connections (also done when the client is collected).
function Client:close()
  if self._sess then self._sess:close() end
  self._sess = nil
end

local function check_options(opts, allowed)
  for k in pairs(opts) do
    if not allowed[k] then
      return nil, errors.new("bad_input", "unknown option " .. tostring(k), { field = tostring(k) })
    end
  end
  if opts.on_progress ~= nil and type(opts.on_progress) ~= "function" then
    return nil, errors.new("bad_input", "on_progress: expected a function", { field = "on_progress" })
  end
  return true
end

local function str_or_nil(v)
  if v == nil or v == cjson.null then return nil end
  return tostring(v)
end

-- The attachment table of a FileAttachment answer | nil, why. Its id (and
-- entityId, when given) must be ids (untrusted.id: a whole number or a string
-- of digits, never NaN or 1e999, which the journal could not even write).
local function attachment_of(fa)
  local id = untrusted.id(fa.id)
  if id == nil then return nil, "fileAttachment.id that is no whole number or string of digits" end
  local entity_id = nil
  if fa.entityId ~= nil and fa.entityId ~= cjson.null then
    local e = untrusted.id(fa.entityId)
    if e == nil then return nil, "fileAttachment.entityId that is no whole number or string of digits" end
    entity_id = entities.entity_id_string(e)
  end
  return {
    id = id,
    filename = str_or_nil(fa.filename),
    downloadUrl = str_or_nil(fa.downloadUrl),
    entityId = entity_id,
    s3Key = str_or_nil(fa.s3Key),
    contentType = str_or_nil(fa.contentType),
  }
end

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

---------------------------------------------------------------------------
-- The three steps

function Client:_request_upload_url(filename)
  local data, err = graphql.call(self, queries.request_upload_url, { filename = filename })
  if not data then return nil, err end
  return storage.upload_ticket(self, data.requestFileUploadUrl)
end

-- A registration refused by ION, with the code its message deserves.
local function register_error(err, validate)
  if err.code == "graphql" then
    if messages.matches("entity_not_found", err.message) then
      err.code, err.hint = "not_found", errors.hints.not_found
    elseif validate and messages.matches("validate", err.message) then
      err.code, err.hint = "etag_mismatch", errors.hints.etag_mismatch
    elseif messages.matches("not_found", err.message) then
      err.code, err.hint = "not_found", errors.hints.not_found
    end
  end
  return err
end

function Client:_register(input)
  local data, err = graphql.call(self, queries.create_file_attachment, { input = input }, { idempotent = false })
  if not data then return nil, register_error(err, input.validateUpload) end
  local payload = data.createFileAttachment
  local fa = type(payload) == "table" and payload.fileAttachment
  if type(fa) ~= "table" or fa.id == nil or fa.id == cjson.null then
    return nil, errors.new("protocol", "createFileAttachment answered without fileAttachment { id }",
      { in_doubt = true, hint = errors.in_doubt_hint })
  end
  local att, why = attachment_of(fa)
  if not att then
    return nil, errors.new("protocol", "createFileAttachment answered a " .. why,
      { in_doubt = true, hint = errors.in_doubt_hint })
  end
  return att
end

-- URL + PUT, with a fresh URL for every retry: { etag, md5, size }, ticket | nil, err.
function Client:_put_with_fresh_urls(path, filename, on_progress)
  local attempts, fresh_given = 0, {}
  while true do
    local ticket, err = self:_request_upload_url(files.key_name(filename))
    if not ticket then return nil, err end
    local put, perr = storage.put_once(self, ticket.uploadUrl, path, ticket.contentType, on_progress)
    if put then return put, ticket end
    local fresh = storage.fresh_url_reason(perr)
    if fresh and not fresh_given[fresh] then
      fresh_given[fresh] = true
    elseif perr.retryable and attempts < self.cfg.retries then
      attempts = attempts + 1
      if perr.code ~= "url_expired" then retry.wait(self:_clock(), attempts, self._random, perr) end
    else
      return nil, perr
    end
  end
end

---------------------------------------------------------------------------
-- Public methods

local upload_opts = { filename = true, validate = true, on_progress = true }

-- att = { id, filename, downloadUrl, entityId, s3Key, etag, size, md5 } | nil, err
function Client:upload(path, target, opts)
  argcheck(type(path) == "string", 1, "upload", "string", path)
  argcheck(type(target) == "table", 2, "upload", "table", target)
  argcheck(opts == nil or type(opts) == "table", 3, "upload", "table or nil", opts)
  opts = opts or {}
  local ok, oerr = check_options(opts, upload_opts)
  if not ok then return self:_fail(oerr) end
  local filename = opts.filename
  if filename == nil then filename = files.basename(path) end
  if type(filename) ~= "string" or filename == "" then
    return self:_fail(errors.new("bad_input", "filename: expected a non-empty string", { field = "filename" }))
  end
  local nok, nerr = files.check_name(filename)
  if not nok then return self:_fail(nerr) end
  local validate = opts.validate
  if validate == nil then validate = true end
  if type(validate) ~= "boolean" then
    return self:_fail(errors.new("bad_input", "validate: expected a boolean", { field = "validate" }))
  end
  local kind, id = entities.parse_target(target)
  if not kind then return self:_fail(id) end

  local info, ferr = files.check(path, self:_core_module().stat)
  if not info then return self:_fail(ferr) end

  local entity_id, eerr = entities.resolve(self, kind, id)
  if not entity_id then return self:_fail(eerr) end

  local on_progress, finish = progress_tracker(opts.on_progress)
  local put, ticket = self:_put_with_fresh_urls(path, filename, on_progress)
  if not put then return self:_fail(ticket) end
  local fok, ferr2 = finish(put.size)
  if not fok then return self:_fail(ferr2) end

  local att, rerr = self:_register({
    filename = filename,
    s3Key = ticket.s3Key,
    s3Etag = put.etag,
    entityId = entity_id,
    validateUpload = validate,
  })
  if not att then return self:_fail(rerr) end
  att.etag, att.size, att.md5 = put.etag, put.size, put.md5
  if att.s3Key == nil then att.s3Key = ticket.s3Key end
  if att.id ~= nil then self:_remember_md5(att.id, put.md5) end
  return att
end

-- entity.id of an attachment target: "9876" | nil, err
function Client:entity_id(kind, id)
  argcheck(type(kind) == "string", 1, "entity_id", "string", kind)
  local k, v = entities.check_id(kind, id)
  if not k then return self:_fail(v) end
  local eid, err = entities.resolve(self, k, v)
  if not eid then return self:_fail(err) end
  return eid
end

function Client:_attachment(id)
  local data, err = graphql.call(self, queries.file_attachment, { id = id })
  if not data then
    return nil, graphql.lookup_error(err)
  end
  local fa = data.fileAttachment
  if fa == nil or fa == cjson.null then
    return nil, errors.new("not_found", "attachment " .. tostring(id) .. " not found",
      { hint = "Check the attachment id" })
  end
  if type(fa) ~= "table" or type(fa.downloadUrl) ~= "string" then
    return nil, errors.new("protocol", "fileAttachment answered without downloadUrl")
  end
  if storage.downgrade(self, fa.downloadUrl) then
    return nil, errors.new("protocol", "ION answered an http downloadUrl for an https endpoint (a downgrade)")
  end
  local att, why = attachment_of(fa)
  if not att then return nil, errors.new("protocol", "fileAttachment answered a " .. why) end
  return att
end

local function attachment_id(id)
  local n = entities.object_id(id)
  if not n then
    return nil, errors.new("bad_input", "attachment id must be a positive whole number, got " .. tostring(id),
      { field = "id" })
  end
  return n
end

-- The attachment with a fresh downloadUrl | nil, err
function Client:attachment(id)
  local n, err = attachment_id(id)
  if not n then return self:_fail(err) end
  local att, aerr = self:_attachment(n)
  if not att then return self:_fail(aerr) end
  att.md5 = self._md5[tostring(n)]
  return att
end

-- Streams an attachment to path: true | nil, err. The bytes are checked against
-- the MD5 when it is known (opts.md5, or this client uploaded the file).
function Client:download(id, path, opts)
  argcheck(type(path) == "string", 2, "download", "string", path)
  argcheck(opts == nil or type(opts) == "table", 3, "download", "table or nil", opts)
  opts = opts or {}
  local ok, oerr = check_options(opts, { md5 = true, on_progress = true })
  if not ok then return self:_fail(oerr) end
  local n, ierr = attachment_id(id)
  if not n then return self:_fail(ierr) end
  if opts.md5 ~= nil and (type(opts.md5) ~= "string" or not opts.md5:match("^%x+$") or #opts.md5 ~= 32) then
    return self:_fail(errors.new("bad_input", "md5: expected 32 hex digits", { field = "md5" }))
  end
  local expected = opts.md5 or self._md5[tostring(n)]
  local attempts, had_403 = 0, false
  while true do
    local att, aerr = self:_attachment(n)
    if not att then return self:_fail(aerr) end
    local res, derr = storage.download_once(self, att.downloadUrl, path, opts.on_progress, expected)
    if res then break end
    if derr.status == 403 and not had_403 then
      had_403 = true
    elseif derr.retryable and attempts < self.cfg.retries then
      attempts = attempts + 1
      if derr.code ~= "url_expired" then retry.wait(self:_clock(), attempts, self._random, derr) end
    else
      return self:_fail(derr)
    end
  end
  return true
end

-- Step 1 alone: { uploadUrl, s3Key, contentType } | nil, err
function Client:request_upload_url(filename)
  argcheck(type(filename) == "string", 1, "request_upload_url", "string", filename)
  if filename == "" then
    return self:_fail(errors.new("bad_input", "filename: expected a non-empty string", { field = "filename" }))
  end
  local t, err = self:_request_upload_url(filename)
  if not t then return self:_fail(err) end
  return t
end

-- Step 2 alone: { etag, md5, size } | nil, err. Transient failures are retried
-- on the same URL; a 403 is returned (ask for a new URL).
function Client:put(url, path, content_type, opts)
  argcheck(type(url) == "string", 1, "put", "string", url)
  argcheck(type(path) == "string", 2, "put", "string", path)
  argcheck(type(content_type) == "string", 3, "put", "string", content_type)
  argcheck(opts == nil or type(opts) == "table", 4, "put", "table or nil", opts)
  opts = opts or {}
  local ok, oerr = check_options(opts, { on_progress = true })
  if not ok then return self:_fail(oerr) end
  if content_type == "" then
    return self:_fail(errors.new("bad_input", "content_type: expected the contentType of step 1",
      { field = "content_type" }))
  end
  local info, ferr = files.check(path, self:_core_module().stat)
  if not info then return self:_fail(ferr) end
  local on_progress, finish = progress_tracker(opts.on_progress)
  local attempts = 0
  while true do
    local put, perr = storage.put_once(self, url, path, content_type, on_progress)
    if put then
      local fok, ferr2 = finish(put.size)
      if not fok then return self:_fail(ferr2) end
      return { etag = put.etag, md5 = put.md5, size = put.size }
    end
    if perr.retryable and perr.status ~= 403 and attempts < self.cfg.retries then
      attempts = attempts + 1
      retry.wait(self:_clock(), attempts, self._random, perr)
    else
      return self:_fail(perr)
    end
  end
end

local register_fields = { filename = true, s3Key = true, s3Etag = true, entityId = true, validateUpload = true }

-- Step 3 alone: att | nil, err
function Client:register(input)
  argcheck(type(input) == "table", 1, "register", "table", input)
  for k in pairs(input) do
    if not register_fields[k] then
      return self:_fail(errors.new("bad_input", "unknown field " .. tostring(k), { field = tostring(k) }))
    end
  end
  for _, k in ipairs({ "filename", "s3Key", "s3Etag" }) do
    if type(input[k]) ~= "string" or input[k] == "" then
      return self:_fail(errors.new("bad_input", k .. ": expected a non-empty string", { field = k }))
    end
  end
  local nok, nerr = files.check_name(input.filename)
  if not nok then return self:_fail(nerr) end
  local eid = entities.entity_id_string(input.entityId)
  if not eid then
    return self:_fail(errors.new("bad_input", "entityId: expected the target's entity.id", { field = "entityId" }))
  end
  local validate = input.validateUpload
  if validate == nil then validate = true end
  if type(validate) ~= "boolean" then
    return self:_fail(errors.new("bad_input", "validateUpload: expected a boolean", { field = "validateUpload" }))
  end
  local att, err = self:_register({
    filename = input.filename, s3Key = input.s3Key, s3Etag = input.s3Etag,
    entityId = eid, validateUpload = validate,
  })
  if not att then return self:_fail(err) end
  att.etag = input.s3Etag
  if att.s3Key == nil then att.s3Key = input.s3Key end
  return att
end

-- Any GraphQL document: data | nil, err. A mutation is never sent twice.
function Client:graphql(query, variables)
  argcheck(type(query) == "string", 1, "graphql", "string", query)
  argcheck(variables == nil or type(variables) == "table", 2, "graphql", "table or nil", variables)
  local data, err = graphql.call(self, query, variables, { idempotent = not graphql.is_mutation(query) })
  if not data then return self:_fail(err) end
  return data
end

-- Many files at once: ion.upload.batch (DESIGN.md, "upload_many").
function Client:upload_many(items, opts)
  return require("ion.upload.batch").run(self, items, opts)
end

-- The same, driven a step at a time by the caller's loop: ion.upload.pending
-- (docs/api.md, "Non-blocking use"). job | nil, err. (Not tail calls: a
-- misuse is blamed on the caller the same way on every Lua version.)
function Client:start_many(items, opts)
  local job, err = require("ion.upload.pending").start_many(self, items, opts)
  return job, err
end

function Client:start(path, target, opts)
  local job, err = require("ion.upload.pending").start(self, path, target, opts)
  return job, err
end

-- Shared with ion.upload.batch, which registers many files per document.
upload._attachment_of = attachment_of
upload._register_error = register_error

return upload
