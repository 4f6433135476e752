-- The engine's GraphQL documents: each sent once a token is at hand (the
-- token endpoint is a transfer of the job too, so a step never blocks on
-- it), and its failure handled by the one rule of graphql.after_failure
-- (refresh the token, resend later, or give up, in doubt when a mutation
-- may have run).
local cjson = require("cjson.safe")
local errors = require("ion.upload.errors")
local graphql = require("ion.upload.graphql")
local documents = require("ion.upload.documents")
local queries = require("ion.upload.queries")

local M = {}

-- A document from documents.build, with its kind and on_done(data, err).
function M.new_doc(_, kind, operation, name, entries)
  local doc = documents.build(operation, name, entries)
  doc.kind, doc.state = kind, { mutation = doc.mutation, attempts = 0 }
  return doc
end

-- Sends doc once a token is at hand: the token endpoint, when it is asked,
-- is a transfer of this job too, so a step never blocks on it.
function M.send(self, doc)
  if self.abort_err then return doc.on_done(nil, self:abort_error()) end
  self.gql_out = self.gql_out + 1
  local wait
  wait = self.ctx.auth:token_async(self.ctx, function(token, terr)
    if wait then self.token_waits[wait] = nil end
    if not token then
      self.gql_out = self.gql_out - 1
      self:stop_if_run_wide(terr)
      return doc.on_done(nil, terr)
    end
    self:post(doc, token)
  end)
  -- nil: answered already; else the run lets it go when it closes or cancels
  if wait then self.token_waits[wait] = true end
end

function M.post(self, doc, token)
  doc.body = doc.body or assert(cjson.encode({ query = doc.query, variables = doc.variables }))
  if self.abort_err or (doc.before_send and not doc.before_send()) then
    self.gql_out = self.gql_out - 1
    return doc.on_done(nil, self:abort_error())
  end
  self.counts.graphql = self.counts.graphql + 1
  self:add(doc.kind, "request", graphql.http_request(self.ctx, doc.body, token, doc.mutation), function(res, cerr)
    self.gql_out = self.gql_out - 1
    self:answered(doc, res, cerr)
  end)
end

-- The answer of a document: data to on_done, or the failure after the rules
-- of graphql.after_failure (refresh the token, resend later, or give up).
function M.answered(self, doc, res, cerr)
  local data, err = graphql.answer(res, cerr)
  -- data, or errors[] of GraphQL: this endpoint speaks ION's protocol
  if data or type(err.errors) == "table" then self.ion_answered = true end
  if data then return doc.on_done(data) end
  if err.status == 200 and type(err.data) == "table" then
    self.independent = true -- this server answers alias by alias
  end
  if self.abort_err then return doc.on_done(nil, self:stopped_error(doc, err)) end
  local move, delay = graphql.after_failure(self.ctx, err, doc.state)
  if move == "refresh" then return self:send(doc) end
  if move == "resend" then
    -- not in flight while it waits: an abort ends the wait (cancel_for_abort)
    self:later(delay, function() self:send(doc) end).resend = true
    return
  end
  self:stop_if_run_wide(err)
  return doc.on_done(nil, err)
end

-- The error of a document that failed once the run was stopping. The stop
-- itself (its transfer cancelled: code `aborted`) is told as the abort's
-- reason, what job:cancel(reason) promises; a mutation whose request went
-- out may still have run, so it is in doubt as well. Any other failure is
-- the server's or the network's own and is kept, in doubt when a mutation
-- may have been processed.
function M.stopped_error(self, doc, err)
  if err.code == "aborted" then
    local e = self:abort_error()
    if doc.mutation then
      e = errors.in_doubt(e.code, e.message .. " while its registration was in flight")
    end
    return e
  end
  if doc.mutation and graphql.maybe_processed(err) then errors.mark_in_doubt(err) end
  return err
end

---------------------------------------------------------------------------
-- How this server fails an alias. The first query document also asks the
-- schema (one more field, no more requests) whether createFileAttachment is
-- NON_NULL; until a yes or no arrives, registrations are planned as if it were.

function M.ask_nullability(self, entries)
  if self.independent ~= nil or self.asked or self.W == 1 then return false end
  self.asked = true
  entries[#entries + 1] = { field = queries.fields.mutation_fields }
  return true
end

function M.learn_nullability(self, out)
  if out and out.value ~= nil then
    local independent = documents.independent_aliases(out.value)
    if independent ~= nil then self.independent = independent end
  end
end

-- Sends an aliased query document of `entries` (asking the schema along,
-- the first time); on_outcomes(outs) gets one outcome per entry, in order.
function M.send_query(self, kind, name, entries, on_outcomes)
  local ask = self:ask_nullability(entries)
  local doc = self:new_doc(kind, "query", name, entries)
  doc.on_done = function(data, err)
    local outs = documents.outcomes(doc, data, err)
    on_outcomes(outs)
    if ask then self:learn_nullability(outs[#entries]) end
  end
  self:send(doc)
end

return M
