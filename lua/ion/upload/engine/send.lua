-- The engine's GraphQL documents: each sent once a token is at hand (the
-- token endpoint is a transfer of the job too, so a step never blocks on
-- it), and its failure handled by the one rule of graphql.after_failure
-- (refresh the token, resend later, or give up, in doubt when a mutation
-- may have run). One object per run, shared by the stages.
local cjson = require("cjson.safe")
local errors = require("ion.upload.errors")
local graphql = require("ion.upload.graphql.request")
local documents = require("ion.upload.graphql.documents")
local queries = require("ion.upload.graphql.queries")

local M = {}

local Sender = {}
Sender.__index = Sender

--- ctx: the client's context (auth, cfg); traffic: the run's transfers and
-- timers; outcomes: the run's (whether it stops, and why); opts: window and
-- concurrency (documents in flight at most), ask_schema (false: never ask
-- how the server fails an alias; client:plan sends lookups only).
function M.new(ctx, traffic, outcomes, opts)
  return setmetatable({ ctx = ctx, traffic = traffic, out = outcomes, W = opts.window, C = opts.concurrency,
    in_flight = 0, sent = 0, token_waits = {}, asked = opts.ask_schema == false }, Sender)
end

-- Room for one more document in flight.
function Sender:room()
  return self.in_flight < self.C
end

-- GraphQL requests sent.
function Sender:requests()
  return self.sent
end

-- Documents wait for the client's token fetch.
function Sender:waiting_for_token()
  return next(self.token_waits) ~= nil
end

-- A document from documents.build, with its kind and on_done(data, err).
function Sender.new_doc(_, kind, operation, name, entries)
  local doc = documents.build(operation, name, entries)
  doc.kind, doc.state = kind, { mutation = doc.mutation, attempts = 0 }
  return doc
end

-- Sends doc once a token is at hand: the token endpoint, when it is asked,
-- is a transfer of this job too, so a step never blocks on it.
function Sender:send(doc)
  if self.out:stopped() then return doc.on_done(nil, self.out:abort_error()) end
  self.in_flight = self.in_flight + 1
  local wait
  wait = self.ctx.auth:token_async(self.ctx, function(token, terr)
    if wait then self.token_waits[wait] = nil end
    if not token then
      self.in_flight = self.in_flight - 1
      self:stop_if_run_wide(terr)
      return doc.on_done(nil, terr)
    end
    self:post(doc, token)
  end)
  -- nil: answered already; else the run lets it go when it closes or cancels
  if wait then self.token_waits[wait] = true end
end

function Sender:post(doc, token)
  doc.body = doc.body or assert(cjson.encode({ query = doc.query, variables = doc.variables }))
  if self.out:stopped() or (doc.before_send and not doc.before_send()) then
    self.in_flight = self.in_flight - 1
    return doc.on_done(nil, self.out:abort_error())
  end
  self.sent = self.sent + 1
  self.traffic:add(doc.kind, "request", graphql.http_request(self.ctx, doc.body, token, doc.mutation),
    function(res, cerr)
      self.in_flight = self.in_flight - 1
      self:answered(doc, res, cerr)
    end)
end

-- The answer of a document: data to on_done, or the failure after the rules
-- of graphql.after_failure (refresh the token, resend later, or give up).
function Sender:answered(doc, res, cerr)
  local data, err = graphql.answer(res, cerr)
  -- data, or errors[] of GraphQL: this endpoint speaks ION's protocol
  if data or type(err.errors) == "table" then self.ion_answered = true end
  if data then return doc.on_done(data) end
  if err.status == 200 and type(err.data) == "table" then
    self.independent = true -- this server answers alias by alias
  end
  if self.out:stopped() then return doc.on_done(nil, self:stopped_error(doc, err)) end
  local move, delay = graphql.after_failure(self.ctx, err, doc.state)
  if move == "refresh" then return self:send(doc) end
  if move == "resend" then
    self.out:retried()
    -- not in flight while it waits: a stop ends the wait (Traffic:cancel)
    return self.traffic:later(delay, function() self:send(doc) end, true)
  end
  self:stop_if_run_wide(err)
  return doc.on_done(nil, err)
end

-- A failure every other file would meet too (errors.run_wide): the job
-- stops on it as on job:cancel, and the files not yet final fail with it,
-- under its own code (job:stopping() tells it, scrubbed like a file's error).
function Sender:stop_if_run_wide(err)
  if self.out:stopped() or not errors.run_wide(err, self.ion_answered) then return end
  local e = errors.new(err.code, err.message, { status = err.status, hint = not err.in_doubt and err.hint or nil })
  self.out:abort(errors.scrubbed(e, self.ctx.auth:secrets()))
end

-- The error of a document that failed once the run was stopping. The stop
-- itself (its transfer cancelled: code `aborted`) is told as the abort's
-- reason, what job:cancel(reason) promises; a mutation whose request went
-- out may still have run, so it is in doubt as well. Any other failure is
-- the server's or the network's own and is kept, in doubt when a mutation
-- may have been processed.
function Sender:stopped_error(doc, err)
  if err.code == "aborted" then
    local e = self.out:abort_error()
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

-- The server answers alias by alias (a failing field does not null the rest).
function Sender:alias_by_alias()
  return self.independent == true
end

function Sender:ask_nullability(entries)
  if self.independent ~= nil or self.asked or self.W == 1 then return false end
  self.asked = true
  entries[#entries + 1] = { field = queries.fields.mutation_fields }
  return true
end

function Sender:learn_nullability(out)
  if out and out.value ~= nil then
    local independent = documents.independent_aliases(out.value)
    if independent ~= nil then self.independent = independent end
  end
end

-- A document refused as a whole (it did not validate: HTTP 400, or 200
-- with errors of no field and no data) may have failed on the schema
-- question alone: ION may refuse introspection.
local function refused_whole(err)
  if not err or err.in_doubt or type(err.errors) ~= "table" or err.data ~= nil then return false end
  if err.status == 400 then return true end
  if err.status ~= 200 then return false end
  for _, e in ipairs(err.errors) do
    if type(e) == "table" and e.path ~= nil then return false end
  end
  return true
end

-- Sends an aliased query document of `entries` (asking the schema along,
-- the first time); on_outcomes(outs) gets one outcome per entry, in order.
-- Nothing depends on the schema question: a document that carried it and
-- was refused as a whole is sent once more without it (NON_NULL assumed).
function Sender:send_query(kind, name, entries, on_outcomes)
  local ask = self:ask_nullability(entries)
  local doc = self:new_doc(kind, "query", name, entries)
  doc.on_done = function(data, err)
    if ask and not data and refused_whole(err) and not self.out:stopped() then
      entries[#entries] = nil
      return self:send_query(kind, name, entries, on_outcomes)
    end
    local outs = documents.outcomes(doc, data, err)
    on_outcomes(outs)
    if ask then self:learn_nullability(outs[#entries]) end
  end
  self:send(doc)
end

---------------------------------------------------------------------------
-- The client's token fetch is no job's: any job waiting for it moves it.

-- Sends the fetch's retry once it is due (now: the clock's time).
function Sender:fire_due(now)
  if next(self.token_waits) then self.ctx.auth:fire_due(now) end
end

-- When the fetch's retry is due, while documents wait for it (or nil).
function Sender:next_at()
  if next(self.token_waits) then return self.ctx.auth:retry_at() end
end

-- The run stops: the waits for the token end too (at the next step, as a
-- cancelled transfer does); the fetch goes on for other jobs waiting.
function Sender:cancel()
  for wait in pairs(self.token_waits) do
    if self.ctx.auth:leave(self.ctx, wait) then
      self.traffic:later(0, function() wait.on_token(nil, self.out:abort_error()) end)
    end
  end
end

-- Lets go of the waits for the token (the run closes): their callbacks are
-- not called.
function Sender:close()
  for wait in pairs(self.token_waits) do self.ctx.auth:leave(self.ctx, wait) end
  self.token_waits = {}
end

return M
