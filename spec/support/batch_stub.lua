-- A stand-in for ion.upload.core's session API (add/step/cancel) and system
-- helpers, for the batch's unit specs ("unit spec: core stubbed"), with a
-- small GraphQL server that answers aliased documents the way graphql-js does.
--
-- step() completes `per_step` of the oldest transfers in flight (all of them
-- when per_step is nil), so specs can see what overlaps what.
local cjson = require("cjson")

local stub = {}

-- "file", size | "directory" | nil.
local function probe(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local ok, _, code = f:read(0)
  if ok == nil and code == 21 then
    f:close()
    return "directory"
  end
  local size = f:seek("end")
  f:close()
  return "file", size
end

local function file_size(path)
  local kind, size = probe(path)
  return kind == "file" and size or nil
end

function stub.core(handler, opts)
  opts = opts or {}
  local core = { t = 1000, calls = {}, log = {}, max_puts = 0, max_requests = 0, per_step = opts.per_step,
    interrupt = false }
  core.handler = handler
  function core.now() return core.t end
  function core.sleep(s) core.t = core.t + s end
  function core.interrupted() return core.interrupt end
  function core.stat(path)
    local kind, size = probe(path)
    if not kind then return nil, { code = "bad_input", message = "No such file or directory" } end
    return { type = kind, size = size or 0, mtime = 1.5, readable = true }
  end
  function core.realpath(path)
    if not probe(path) then return nil, { code = "bad_input", message = "No such file or directory" } end
    return path
  end
  function core.fsync(fh) fh:flush() return true end
  function core.lock() return true end

  function core.session(sopts)
    core.session_opts = sopts
    local s, queue, next_id = {}, {}, 0
    local function inflight(kind)
      local n = 0
      for _, t in ipairs(queue) do if t.kind == kind then n = n + 1 end end
      return n
    end
    function s.add(_, kind, req)
      next_id = next_id + 1
      local t = { id = next_id, kind = kind, req = req }
      queue[#queue + 1] = t
      core.calls[#core.calls + 1] = { kind = kind, req = req, id = next_id }
      core.log[#core.log + 1] = "add " .. next_id
      core.max_puts = math.max(core.max_puts, inflight("put"))
      core.max_requests = math.max(core.max_requests, inflight("request"))
      return next_id
    end
    function s.step(_, timeout)
      core.t = core.t + math.min(timeout or 0, 0.01)
      -- core.hold(t): a transfer the spec keeps in flight for now (a slow PUT)
      local done, n, held = {}, core.per_step or #queue, {}
      while n > 0 and #queue > 0 do
        local t = table.remove(queue, 1)
        while t and core.hold and not t.cancelled and core.hold(t) do
          held[#held + 1] = t
          t = table.remove(queue, 1)
        end
        if not t then break end
        n = n - 1
        local res, err
        if t.cancelled then
          err = { code = "aborted", message = "cancelled" }
        else
          if t.kind == "put" and t.req.on_progress then
            local size = file_size(t.req.path) or 0
            t.req.on_progress(math.floor(size / 2), size)
            t.req.on_progress(size, size)
          end
          res, err = core.handler(t.kind, t.req)
        end
        core.log[#core.log + 1] = "done " .. t.id
        done[#done + 1] = { id = t.id, res = res, err = err }
      end
      for i = #held, 1, -1 do table.insert(queue, 1, held[i]) end
      return done
    end
    function s.cancel(_, id)
      for _, t in ipairs(queue) do if t.id == id then t.cancelled = true end end
    end
    function s.pending() return #queue end
    -- what a host loop waits on (ion.upload.pending): step now while busy
    function s.timeout() return #queue > 0 and 0 or nil end
    function s.fds() return {}, {} end
    function s.close() queue = {} end
    return s
  end
  return core
end

---------------------------------------------------------------------------
-- A GraphQL server for aliased documents.
--   resolvers[root](value, ctx) returns the field's value or raises a message.
--   mode "partial": a failed field is null with its own error (nullable roots);
--   mode "strict": any failure nulls data; a mutation stops at the first one.
--   mode "strict_runs_on": the same, but a mutation's later fields still run
--   (the GraphQL spec only says they may be cancelled).

function stub.parse(query)
  local op = query:match("^%s*(%a+)")
  local fields = {}
  for alias, root, var in query:gmatch("(f%d+):%s*([%a_][%w_]*)%s*%([%a_]+:%s*%$([%w_]+)%)") do
    fields[#fields + 1] = { alias = alias, root = root, var = var }
  end
  return op, fields
end

function stub.execute(resolvers, body, mode)
  local op, fields = stub.parse(body.query)
  local data, errs, stopped = {}, {}, false
  for _, f in ipairs(fields) do
    if stopped then break end
    local resolver = assert(resolvers[f.root], "stub: no resolver for " .. f.root)
    local ok, v = pcall(resolver, body.variables[f.var])
    if ok then
      data[f.alias] = v == nil and cjson.null or v
    else
      data[f.alias] = cjson.null
      errs[#errs + 1] = { message = tostring(v):gsub("^.-:%d+: ", ""), path = { f.alias } }
      if mode == "strict" and op == "mutation" then stopped = true end
    end
  end
  if #errs == 0 then return { data = data } end
  if mode == "strict" or mode == "strict_runs_on" then return { data = cjson.null, errors = errs } end
  return { data = data, errors = errs }
end

-- A sandbox-like server: targets resolve to id + 1000 (ids above 900 are
-- unknown), URLs, and registrations that check the entity exists.
function stub.server(opts)
  opts = opts or {}
  local srv = { n = 0, registered = {}, docs = {}, mode = opts.mode or "partial", puts = {} }
  local function target(v)
    if v > 900 then return nil end
    return { id = v, entity = { id = string.format("%d", v + 1000) } }
  end
  srv.resolvers = {
    runStep = target, run = target, part = target, procedure = target, step = target, runStepField = target,
    requestFileUploadUrl = function(filename)
      srv.n = srv.n + 1
      return { uploadUrl = "https://s3.test/b/k" .. srv.n .. "?X-Amz-Signature=SIG" .. srv.n,
        s3Key = "uploads/k" .. srv.n .. "/" .. filename, contentType = "text/plain" }
    end,
    createFileAttachment = function(input)
      if input.entityId == "666" or input.entityId == "1666" then
        error("Permission denied: token may not attach files")
      end
      if not tonumber(input.entityId) or tonumber(input.entityId) > 1900 then
        error("Entity not found: " .. input.entityId)
      end
      if srv.stored and not srv.stored[input.s3Key] and input.validateUpload then
        error("Upload validation failed: object not found: " .. input.s3Key)
      end
      if srv.bad_etag and srv.bad_etag[input.filename] then
        error("Upload validation failed: ETag mismatch for " .. input.s3Key)
      end
      local id = 4242 + #srv.registered
      srv.registered[#srv.registered + 1] = input
      return { fileAttachment = { id = id, filename = input.filename,
        downloadUrl = "https://s3.test/dl?X-Amz-Signature=D",
        entityId = input.entityId, s3Key = input.s3Key, contentType = "text/plain" } }
    end,
  }
  -- status(body, index) may return a response to send instead (faults).
  function srv.handler(kind, req)
    if kind == "put" then
      srv.puts[#srv.puts + 1] = req
      if srv.put_fault then
        local r = srv.put_fault(req, #srv.puts)
        if r then return r end
      end
      local key = req.url:match("https://s3.test/b/(k%d+)")
      if srv.stored then srv.stored["uploads/" .. key .. "/" .. req.path:match("[^/]+$")] = true end
      return { status = 200, etag = "0123456789abcdef0123456789abcdef", md5 = "0123456789abcdef0123456789abcdef",
        size = (file_size(req.path) or 0), headers = {}, body = "" }
    end
    local body = cjson.decode(req.body)
    srv.docs[#srv.docs + 1] = body
    if srv.fault then
      local r = srv.fault(body, #srv.docs)
      if r then
        if r.run_then then stub.execute(srv.resolvers, body, srv.mode) end
        return r.res
      end
    end
    local answer = stub.execute(srv.resolvers, body, srv.mode)
    return { status = 200, headers = { ["content-type"] = "application/json" }, body = cjson.encode(answer) }
  end
  -- Documents whose root field is `root`, and the fields they held.
  function srv.count(root)
    local docs, fields = 0, 0
    for _, b in ipairs(srv.docs) do
      local _, fs = stub.parse(b.query)
      local n = 0
      for _, f in ipairs(fs) do if f.root == root then n = n + 1 end end
      if n > 0 then docs, fields = docs + 1, fields + n end
    end
    return docs, fields
  end
  return srv
end

-- A client wired to a stub core answering from srv.
function stub.client(srv, cfg, core_opts)
  local upload = require("ion.upload")
  local c = { endpoint = "https://ion.test/graphql", token = "tok_SECRET_123", retries = 2 }
  for k, v in pairs(cfg or {}) do c[k] = v end
  local client = assert(upload.new(c))
  local core = stub.core(srv.handler, core_opts)
  client._core = core
  client._random = function() return 0.5 end
  return client, core
end

function stub.files(n, prefix)
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -p '" .. dir .. "'")
  local paths = {}
  for i = 1, n do
    local p = string.format("%s/%s%03d.txt", dir, prefix or "f", i)
    local f = assert(io.open(p, "wb"))
    f:write(string.rep("x", 10 + i))
    f:close()
    paths[i] = p
  end
  return dir, paths
end

function stub.json(status, value, headers)
  local h = { ["content-type"] = "application/json" }
  for k, v in pairs(headers or {}) do h[k] = v end
  return { status = status, headers = h, body = cjson.encode(value) }
end

return stub
