-- ion-upload --dry-run: the plan of client:plan (ion.upload.plan) printed,
-- for the same files an upload would take (FILE arguments, -r folders or a
-- manifest). Every file is checked and every target looked up; nothing is
-- uploaded or attached. Exit 1 when any file would fail, 0 otherwise.
--
-- Without --json, stdout gets one line per file, the totals, then what would
-- fail and why. With --json, stdout gets one JSON object per file, in input
-- order, then one totals object (docs/api.md, "--dry-run"); the totals line
-- and the failures go to stderr (with --quiet only when something fails).
-- Everything a server or a file name gave is escaped (output.printable)
-- before it reaches a terminal; JSON escapes it its own way.
local cjson = require("cjson")
local output = require("ion.upload.cli.output")
local plan_mod = require("ion.upload.plan")
local target_words = require("ion.upload.cli.target_text")

local dry_run = {}

local OK, FAILED, USAGE_ERROR = 0, 1, 2
local printable = output.printable
local describe = target_words.describe

-- JSON object text with the keys in the order given (nil values left out);
-- "/" is not escaped, so paths read as they are.
local function object(list)
  local parts = {}
  for _, kv in ipairs(list) do
    if kv[2] ~= nil then
      local v = kv[3] and kv[2] or cjson.encode(kv[2]):gsub("\\/", "/")
      parts[#parts + 1] = cjson.encode(kv[1]) .. ":" .. v
    end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- The words of a target found by name: from the item's own target (the CLI's
-- syntax), else from the plan entry's (the library's words, or its table).
local function lookup_of(e)
  if e.lookup_text then return e.lookup_text end
  if type(e.lookup) == "string" then return e.lookup end
  if type(e.target_id) == "table" and e.target_kind then return describe({ [e.target_kind] = e.target_id }) end
end

-- The id a lookup resolved to (nil while it has none).
local function resolved_id(e)
  if type(e.target_id) ~= "table" then return e.target_id end
end

--- The --json line of one plan entry.
function dry_run.json_line(e)
  local head = { { "path", e.path }, { "ok", e.ok } }
  local target = { { "target", e.target_kind }, { "targetId", resolved_id(e) }, { "lookup", lookup_of(e) } }
  if not e.ok then
    local err = e.err or {}
    local fields = head
    for _, kv in ipairs(target) do fields[#fields + 1] = kv end
    fields[#fields + 1] = { "error", object({ { "code", err.code }, { "message", err.message },
      { "hint", err.hint } }), true }
    return object(fields)
  end
  local fields = head
  fields[#fields + 1] = { "action", e.action }
  for _, kv in ipairs(target) do fields[#fields + 1] = kv end
  for _, kv in ipairs({ { "entityId", e.entity_id }, { "filename", e.filename }, { "size", e.size },
    { "attachmentId", e.attachment_id }, { "inDoubt", e.in_doubt } }) do
    fields[#fields + 1] = kv
  end
  return object(fields)
end

--- The --json line of the totals.
function dry_run.json_totals(t)
  local fields = {}
  for _, k in ipairs({ "files", "bytes", "targets", "failing", "upload", "register", "skip", "requests" }) do
    fields[#fields + 1] = { k, t[k] }
  end
  return object({ { "totals", object(fields), true } })
end

local function target_text(e)
  if not e.target_kind then return "" end
  local lookup, id = lookup_of(e), resolved_id(e)
  local s = " -> " .. (lookup and printable(lookup) or (e.target_kind .. " " .. printable(id)))
  if lookup and id ~= nil then s = s .. " = " .. e.target_kind .. " " .. printable(id) end
  if e.entity_id ~= nil then s = s .. " (entity " .. printable(e.entity_id) .. ")" end
  return s
end

--- The plain line of one plan entry.
function dry_run.plain_line(e)
  local path = printable(e.path)
  if not e.ok then
    return string.format("FAIL  %s%s: %s", path, target_text(e), printable(e.err and e.err.code or "?"))
  end
  if e.action == "skip" then
    return string.format("skip  %s%s: already attachment %s, per the journal", path, target_text(e),
      printable(e.attachment_id))
  end
  local s = string.format("plan  %s%s, %s, as \"%s\"", path, target_text(e), output.size(e.size),
    printable(e.filename))
  if e.action == "register" then
    s = s .. "; in storage per the journal: registered without a second upload"
    if e.in_doubt then s = s .. " (its last registration ended in doubt: check for a duplicate)" end
  end
  return s
end

--- The totals in words.
function dry_run.totals_line(t)
  local s = string.format("ion-upload: dry run: %d file%s to %d target%s: %d to upload (%s), ", t.files,
    t.files == 1 and "" or "s", t.targets, t.targets == 1 and "" or "s", t.upload, output.size(t.bytes))
  s = s .. string.format("%d to register only, %d already attached, %d would fail", t.register, t.skip, t.failing)
  return s .. string.format("; %d lookup request%s, nothing uploaded or attached", t.requests or 0,
    t.requests == 1 and "" or "s")
end

-- The plan of every entry of the command line, in its order: the CLI's own
-- refusals (a manifest row, a folder it could not read) where they stand. A
-- target found by name gets its words (lookup_text) from the item's target.
local function full_plan(entries, items, p, where)
  local out = {}
  for i, e in ipairs(entries) do
    if e.err then out[i] = { path = e.path, ok = false, err = e.err } end
  end
  for k, e in ipairs(p.items) do
    local target = items[k] and items[k].target
    if type(target) == "table" and target_words.is_lookup(target) then e.lookup_text = describe(target) end
    out[where[k]] = e
  end
  return out
end

--- Runs the dry run: the exit status. entries, items, where: cli_main's
-- list (entries with their item or their error; where[k] = the entry of
-- items[k]). env: { stdout, stderr, usage_error }.
function dry_run.run(client, entries, items, where, args, env)
  local p, err = client:plan(items, { concurrency = args.concurrency, window = args.window, journal = args.journal,
    shard = args.shard })
  client:close()
  if not p then return env.usage_error(printable(err)) end
  local list = full_plan(entries, items, p, where)
  local totals = plan_mod.totals(list)
  totals.requests = p.totals.requests

  -- a failure no file escapes (a rejected token, an endpoint that is not
  -- ION) stopped the plan: said once, as an upload says it (exit 2)
  local why = p.stopped and output.configuration[p.stopped.code] and p.stopped
  if why then
    if args.json then -- every file still gets its line, so a script sees every path
      for _, e in ipairs(list) do env.stdout:write(dry_run.json_line(e), "\n") end
      env.stdout:write(dry_run.json_totals(totals), "\n")
      env.stdout:flush()
    end
    env.stderr:write(output.stopped_line(why), "\n", dry_run.totals_line(totals), "\n")
    return USAGE_ERROR
  end

  local out, report = env.stdout, env.stdout
  if args.json then
    for _, e in ipairs(list) do out:write(dry_run.json_line(e), "\n") end
    out:write(dry_run.json_totals(totals), "\n")
    report = (not args.quiet or totals.failing > 0) and env.stderr or nil
  else
    for _, e in ipairs(list) do
      if not args.quiet or not e.ok then out:write(dry_run.plain_line(e), "\n") end
    end
  end
  if report then
    report:write(dry_run.totals_line(totals), "\n")
    if totals.failing > 0 then
      report:write("would fail:\n")
      for _, e in ipairs(list) do
        if not e.ok then report:write("  ", output.plain_line(e.path, e), "\n") end
      end
    end
  end
  out:flush()
  return totals.failing > 0 and FAILED or OK
end

return dry_run
