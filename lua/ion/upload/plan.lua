-- ion.upload.plan: client:plan(items, opts), what upload_many would do with
-- these items, found out without doing it (docs/api.md, "client:plan").
--
-- It is a run of the one engine (ion.upload.engine.run) that stops after its
-- first stage: every item gets upload_many's own checks (engine/items.lua),
-- the journal's word on it (read, never written or locked) and its target
-- looked up by the engine's batched, cached lookups (engine/lookups.lua).
-- The run is made without the stages after that (its option lookups_only),
-- so no upload URL is asked, no PUT made and no mutation sent: the only
-- GraphQL documents are the lookups, many targets to a document.
local check = require("ion.upload.check")
local errors = require("ion.upload.errors")
local items_mod = require("ion.upload.engine.items")
local journal_mod = require("ion.upload.journal.file")
local run_mod = require("ion.upload.engine.run")
local targets = require("ion.upload.targets")

local plan = {}

-- The plan entry of one item once the run is over.
local function entry(run, item)
  local e = { path = item.path, target_kind = item.kind, target_id = item.id, filename = item.filename,
    size = item.size }
  e.entity_id = item.target_key and run:entity_id(item.target_key)
  if type(item.id) == "table" then
    -- found by name: the words of the lookup, and the object it found
    e.lookup, e.target_id = item.id.text, item.found_id
  end
  local res = run:result(item.index)
  if item.state == "planned" then
    e.ok = true
    -- the journal shows the bytes in storage: registered without a second PUT
    e.action = item.put and "register" or "upload"
    e.in_doubt = item.in_doubt_before or nil
  elseif res and res.ok then -- attached per the journal: its target is not even looked up
    local att = res.attachment or {}
    e.ok, e.action, e.attachment_id = true, "skip", att.id
    e.entity_id = att.entityId
  else
    e.ok = false
    e.err = res and res.err or run:stopping()
      or errors.new("aborted", item.path .. ": the plan stopped before this file was looked at")
    e.lookup_count = e.lookup and e.err.count or nil -- 0: nothing matched; 2: two or more
  end
  return e
end

--- The totals of a list of plan entries: { files, bytes (to be PUT), targets
-- (distinct, of the files to be attached), failing, upload, register, skip }.
-- upload + register + skip + failing == files. (The CLI adds the files it
-- refused itself, so this is a function of the entries alone.)
function plan.totals(entries)
  local t = { files = #entries, bytes = 0, targets = 0, failing = 0, upload = 0, register = 0, skip = 0 }
  local seen = {}
  for _, e in ipairs(entries) do
    if not e.ok then
      t.failing = t.failing + 1
    else
      t[e.action] = t[e.action] + 1
      if e.action == "upload" then t.bytes = t.bytes + (e.size or 0) end
      if e.action ~= "skip" then
        local key = targets.cache_key(e.target_kind, e.target_id)
        if not seen[key] then
          seen[key] = true
          t.targets = t.targets + 1
        end
      end
    end
  end
  return t
end

--- client:plan(items, opts) -> plan | nil, err (a bad option, a journal that
-- cannot be read). opts: those of upload_many, so one table serves both;
-- journal (read only), window (targets per lookup document) and concurrency
-- (lookup documents in flight) are the ones that matter. plan = { items =
-- { entry per item, in input order }, totals = plan.totals(items) plus
-- requests (GraphQL documents sent) }. level: as error()'s, for misuses.
function plan.make(ctx, list, opts, level)
  check.arg(type(list) == "table", 1, "plan", "table", list, level)
  check.arg(opts == nil or type(opts) == "table", 2, "plan", "table or nil", opts, level)
  local o, oerr = items_mod.options(ctx.cfg, opts or {}, false)
  if not o then return nil, oerr end
  local jnl
  if o.journal then
    local jerr
    jnl, jerr = journal_mod.peek(o.journal, o.shard or false)
    if not jnl then return nil, jerr end
  end
  -- a run of the engine that goes no further than the lookups (an item whose
  -- target is known is planned where upload_many would ask its URL); a plan
  -- has no events to tell
  o.lookups_only, o.on_event = true, nil
  local run = run_mod.new(ctx, o, jnl)
  local added, aerr = pcall(run.add_items, run, list)
  if not added then
    run:close()
    error(aerr, 0)
  end
  run:finish_input()
  local ok, perr = pcall(function()
    while not run:step(math.huge) do end
  end)
  if not ok then
    run:abort(errors.new("aborted", "the plan stopped on an internal error: " .. tostring(perr),
      { hint = "Please report this error" }))
  end
  run:close()
  local entries = {}
  for i, item in ipairs(run:items()) do entries[i] = entry(run, item) end
  local totals = plan.totals(entries)
  totals.requests = run:requests()
  return { items = entries, totals = totals, stopped = run:stopping() }
end

return plan
