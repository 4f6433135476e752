-- GraphQL over the client's core session: POST, then the HTTP status, the JSON
-- and errors[] mapped onto ion.upload's error codes; retries where safe.
local cjson = require("cjson.safe")
local errors = require("ion.upload.errors")
local messages = require("ion.upload.messages")
local operation = require("ion.upload.graphql.operation")
local retry = require("ion.upload.retry")
local transport = require("ion.upload.transport")
local untrusted = require("ion.upload.untrusted")

local graphql = {}

-- Server text is read from a bounded prefix (ion.upload.untrusted).
local function is_html(res)
  local ct = untrusted.prefix(tostring(res.headers and res.headers["content-type"] or ""), untrusted.max_text)
  local body = untrusted.prefix(res.body or "", untrusted.max_text)
  local first = body:find("%S")
  return ct:find("html", 1, true) ~= nil or (first ~= nil and body:byte(first) == 60) -- "<"
end

local function first_message(payload)
  if type(payload) == "table" and type(payload.errors) == "table" then
    local e = payload.errors[1]
    if type(e) == "table" and type(e.message) == "string" then
      return untrusted.prefix(e.message, untrusted.max_text)
    end
  end
  return nil
end

-- The messages of errors[], joined, until max_text bytes are read.
local function all_messages(list)
  local out, n = {}, 0
  for i, e in ipairs(list) do
    if n >= untrusted.max_text then
      out[#out + 1] = "(" .. (#list - i + 1) .. " more)"
      break
    end
    local m = untrusted.prefix(type(e) == "table" and tostring(e.message) or tostring(e), untrusted.max_text)
    out[#out + 1] = m
    n = n + #m + 2
  end
  return table.concat(out, "; ")
end

-- The code of a GraphQL error message, by its words (messages.lua).
function graphql.classify(message)
  if messages.matches("permission", message) then return "permission_denied" end
  if messages.matches("auth", message) then return "auth" end
  return "graphql"
end

-- One answer of the GraphQL endpoint: data | nil, err.
function graphql.map_response(res)
  local status = res.status or 0
  local retry_after = retry.parse_retry_after(res.headers and res.headers["retry-after"])
  local payload = cjson.decode(res.body or "")
  if type(payload) ~= "table" then payload = nil end
  local msg = first_message(payload)

  if status == 401 then
    return nil, errors.new("auth", "GraphQL endpoint answered 401 Unauthorized" .. (msg and (": " .. msg) or ""),
      { status = status })
  end
  if status == 403 then
    return nil, errors.new("permission_denied", "GraphQL endpoint answered 403 Forbidden"
      .. (msg and (": " .. msg) or ""), { status = status })
  end
  if status == 429 then
    return nil, errors.new("rate_limited", "GraphQL endpoint answered 429 Too Many Requests",
      { status = status, retry_after = retry_after, retryable = true })
  end
  if status >= 500 then
    return nil, errors.new("http", "GraphQL endpoint answered HTTP " .. status
      .. (is_html(res) and " (an HTML error page)" or (msg and (": " .. msg) or "")),
      { status = status, retryable = true, retry_after = retry_after })
  end
  if status == 404 or status == 405 then
    -- no GraphQL API at this URL (whatever its body says): the endpoint is not ION's
    return nil, errors.new("protocol", "GraphQL endpoint answered HTTP " .. status
      .. (status == 404 and " Not Found" or " Method Not Allowed") .. ": no GraphQL API at this URL",
      { status = status })
  end
  if status < 200 or status >= 300 then
    -- 400/422 carry GraphQL errors (a query the schema refuses); others are plain HTTP.
    if payload and type(payload.errors) == "table" and #payload.errors > 0 then
      local list = payload.errors
      return nil, errors.new(graphql.classify(all_messages(list)), all_messages(list),
        { status = status, errors = list })
    end
    return nil, errors.new("http", "GraphQL endpoint answered HTTP " .. status, { status = status })
  end
  if not payload then
    return nil, errors.new("protocol", "GraphQL endpoint answered HTTP " .. status .. " with "
      .. (is_html(res) and "an HTML page" or "a body that is not JSON"), { status = status })
  end
  if type(payload.errors) == "table" and #payload.errors > 0 then
    local list = payload.errors
    local text = all_messages(list)
    local data = payload.data
    if data == cjson.null then data = nil end
    return nil, errors.new(graphql.classify(text), text, { status = status, errors = list, data = data })
  end
  if type(payload.data) ~= "table" then
    return nil, errors.new("protocol", "GraphQL answer without data", { status = status })
  end
  return payload.data
end

-- The core request of one GraphQL POST. A mutation is `no_resend`: libcurl
-- silently sends a request again when the reused connection it went out on
-- dies before any answer (it takes that for a connection the server closed
-- while idle); for a mutation that second copy would be a second
-- registration, so the core fails it instead ("may have processed it"), and
-- the in-doubt rule takes over.
function graphql.http_request(ctx, body, token, mutation)
  return transport.with_options(ctx.cfg, {
    url = ctx.cfg.endpoint,
    method = "POST",
    body = body,
    no_resend = mutation or nil,
    headers = {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
      ["User-Agent"] = ctx.user_agent,
    },
  })
end

-- What the endpoint answered (or the transport's failure): data | nil, err.
function graphql.answer(res, cerr)
  if not res then return nil, errors.from_core(cerr, "GraphQL request: ") end
  return graphql.map_response(res)
end

-- Did the server maybe act on a request whose answer we lost?
function graphql.maybe_processed(err)
  if retry.not_processed(err) then return false end
  if err.code == "network" or err.code == "timeout" or err.code == "protocol" then return true end
  return err.code == "http" and (err.status or 0) >= 500
end

--- The rule after a failed document, for every sender (the blocking call
-- below and the engine's documents): "refresh" (a 401 with a token that can
-- be renewed: once, at once), "resend", delay (when the failure is
-- transient and the document may be sent again: a query, or a mutation the
-- server provably did not process: no connection, 429, 401), or nil: give
-- up, with a mutation that may have run marked in doubt. `state` is the
-- document's { mutation =, attempts =, refreshed = }, updated here.
function graphql.after_failure(ctx, err, state)
  if err.code == "auth" and err.status == 401 and not state.refreshed and ctx.auth:can_refresh() then
    state.refreshed = true
    ctx.auth:invalidate()
    return "refresh"
  end
  if retry.may_resend(err, not state.mutation) and state.attempts < ctx.cfg.retries then
    state.attempts = state.attempts + 1
    return "resend", retry.delay(state.attempts, ctx.random, err.retry_after)
  end
  if state.mutation and graphql.maybe_processed(err) then errors.mark_in_doubt(err) end
  return nil
end

-- graphql.call(ctx, query, variables, { idempotent = bool }): data | nil, err,
-- blocking. A non-idempotent call (a mutation) is sent again only when the
-- failure proves it was not processed (401, 429, no connection); otherwise
-- it fails with retryable = false, in_doubt = true.
function graphql.call(ctx, query, variables, opts)
  local mutation = opts ~= nil and opts.idempotent == false
  local body, jerr = cjson.encode({ query = query, variables = variables or {} })
  if not body then
    return nil, errors.new("bad_input", "variables cannot be encoded as JSON: " .. tostring(jerr))
  end
  local state = { mutation = mutation, attempts = 0 }
  while true do
    local token, terr = ctx.auth:token(ctx)
    if not token then return nil, terr end
    local data, err = graphql.answer(ctx.transport:request(graphql.http_request(ctx, body, token, mutation)))
    if data then return data end
    local move, delay = graphql.after_failure(ctx, err, state)
    if not move then return nil, err end
    if delay then ctx.core().sleep(delay) end
  end
end

-- A query for one object whose error says the object does not exist: that is
-- `not_found`, not a generic `graphql` failure.
function graphql.lookup_error(err)
  if err.code == "graphql" and messages.matches("not_found", err.message) then
    err.code, err.hint = "not_found", errors.hints.not_found
  end
  return err
end

-- May this document change state? True unless its one operation provably is
-- a query (ion.upload.graphql_operation): a mutation, a subscription, several
-- operations or unreadable text are never sent again after a lost answer.
function graphql.is_mutation(query)
  return not operation.is_query(query)
end

return graphql
