-- A stand-in for ion.upload.core in unit specs ("unit spec: core stubbed"):
-- a fake clock whose sleep only advances time, and a session whose transfers
-- are answered by a handler the spec provides. Every transfer is recorded.
-- The session runs blocking calls at once, and added transfers (the engine's)
-- at the next step, in the order they were added.
local cjson = require("cjson")

local stub = {}

-- stub.new(handler): handler(kind, req) returns res | nil, err like the core.
function stub.new(handler)
  local core = { t = 1000, sleeps = {}, calls = {} }
  core.handler = handler
  function core.now() return core.t end
  function core.sleep(s)
    core.sleeps[#core.sleeps + 1] = s
    core.t = core.t + s
  end
  local session = {}
  local function run(kind, req, via)
    core.calls[#core.calls + 1] = { kind = kind, req = req, via = via or "session" }
    return core.handler(kind, req)
  end
  function session.request(_, req) return run("request", req) end
  function session.put(_, req) return run("put", req) end
  function session.download(_, req) return run("download", req) end
  local queue, next_id = {}, 0
  function session.add(_, kind, req)
    next_id = next_id + 1
    queue[#queue + 1] = { id = next_id, kind = kind, req = req }
    return next_id
  end
  function session.step()
    local done, batch = {}, queue
    queue = {}
    for _, t in ipairs(batch) do
      local res, err
      if t.cancelled then
        err = { code = "aborted", message = "cancelled" }
      else
        res, err = run(t.kind, t.req)
      end
      done[#done + 1] = { id = t.id, res = res, err = err }
    end
    return done
  end
  function session.cancel(_, id)
    for _, t in ipairs(queue) do if t.id == id then t.cancelled = true end end
  end
  function session.pending() return #queue end
  function session.timeout() return #queue > 0 and 0 or nil end
  function session.fds() return {}, {} end
  function session.close() queue = {} end
  function core.session() return session end
  return core
end

-- A client of ion.upload wired to a stub core.
function stub.client(handler, cfg)
  local upload = require("ion.upload")
  local c = cfg or {}
  if c.endpoint == nil and c.environment == nil then c.endpoint = "https://ion.test/graphql" end
  if c.token == nil and c.client_id == nil then c.token = "tok_SECRET_123" end
  local client = assert(upload.new(c))
  local core = stub.new(handler)
  client._core = core
  client._random = function() return 0.5 end
  return client, core
end

-- The root field a GraphQL request asks for, its variables and headers. A
-- document of the engine asks for one aliased field ("f1: runStep(id: $v1)"):
-- its root field and that field's variable are given, as for a plain one.
function stub.decode(req)
  local body = cjson.decode(req.body)
  local alias, root, var = body.query:match("{%s*([%a_][%w_]*)%s*:%s*([%a_][%w_]*)%s*%(%s*[%a_]+%s*:%s*%$([%w_]+)")
  if alias then
    assert(select(2, body.query:gsub("%$v%d+", "")) == 2, "stub: one aliased field per document")
    local field_of = { runStep = "id", run = "id", part = "id", procedure = "id", step = "id", runStepField = "id",
      requestFileUploadUrl = "filename", createFileAttachment = "input" }
    return root, { [field_of[root] or "id"] = body.variables[var] }, body, alias
  end
  local field = body.query:match("{%s*([%a_][%w_]*)")
  return field, body.variables, body
end

function stub.json(status, value, headers)
  local h = { ["content-type"] = "application/json" }
  for k, v in pairs(headers or {}) do h[k] = v end
  return { status = status, headers = h, body = cjson.encode(value) }
end

-- A handler for GraphQL: routes[field](variables, req) returns a response
-- (from stub.json) or a data table (sent as {"data": ...}). PUTs go to put(req).
function stub.router(routes, put, download)
  return function(kind, req)
    if kind == "put" then return put(req) end
    if kind == "download" then return download(req) end
    if req.url:find("/token", 1, true) and routes.token then return routes.token(req) end
    local field, vars, _, alias = stub.decode(req)
    local route = routes[field]
    assert(route, "stub: no route for " .. tostring(field))
    local out, err = route(vars, req)
    if out == nil then return nil, err end
    if out.status then return out end
    if alias then out = { [alias] = out[field] == nil and cjson.null or out[field] } end
    return stub.json(200, { data = out })
  end
end

-- Answers of the three steps that work.
function stub.happy(overrides)
  local n = 0
  local routes = {
    runStep = function(v) return { runStep = { id = v.id, entity = { id = string.format("%d", v.id + 1000) } } } end,
    run = function(v) return { run = { id = v.id, entity = { id = string.format("%d", v.id + 2000) } } } end,
    part = function(v) return { part = { id = v.id, entity = { id = string.format("%d", v.id + 3000) } } } end,
    requestFileUploadUrl = function(v)
      n = n + 1
      return { requestFileUploadUrl = {
        uploadUrl = "https://s3.test/bucket/k" .. n .. "?X-Amz-Signature=SIGSECRET" .. n,
        s3Key = "uploads/k" .. n .. "/" .. v.filename, contentType = "image/jpeg" } }
    end,
    createFileAttachment = function(v)
      local i = v.input
      return { createFileAttachment = { fileAttachment = {
        id = 4242, filename = i.filename, downloadUrl = "https://s3.test/dl?X-Amz-Signature=DL",
        entityId = i.entityId, s3Key = i.s3Key, contentType = "image/jpeg" } } }
    end,
    fileAttachment = function(v)
      return { fileAttachment = { id = v.id, filename = "a.jpg", downloadUrl = "https://s3.test/dl?sig=1",
        entityId = "1001", s3Key = "uploads/k1/a.jpg", contentType = "image/jpeg" } }
    end,
  }
  for k, v in pairs(overrides or {}) do routes[k] = v end
  return routes
end

function stub.put_ok(req)
  return { status = 200, etag = "9c1185a5c5e9fc54612808977ee8f548", md5 = "9c1185a5c5e9fc54612808977ee8f548",
    size = 5, headers = {}, body = "", _req = req }
end

-- Calls of one kind, or GraphQL calls for one root field.
function stub.count(core, what)
  local n = 0
  for _, c in ipairs(core.calls) do
    if c.kind == what then
      n = n + 1
    elseif c.kind == "request" and c.req.body and c.req.body:find("^{") then
      local ok, field = pcall(stub.decode, c.req)
      if ok and field == what then n = n + 1 end
    end
  end
  return n
end

return stub
