-- The options of client:watch, checked once at start: the rules (loaded
-- from their file), the after-action, the include, exclude and
-- take_temporary globs (read as `ion-upload -r` reads them: glob.rule).
local check = require("ion.upload.check")
local errors = require("ion.upload.errors")
local rules_mod = require("ion.upload.watch.rules")
local glob = require("ion.upload.glob")
local targets = require("ion.upload.targets")

local options = {}

options.KNOWN = {
  rules = true, target = true, settle = true, poll = true, after = true, failed = true,
  journal = true, include = true, exclude = true, once = true, on_event = true,
  concurrency = true, window = true, retry_cap = true, validate = true,
  hidden = true, take_temporary = true, sha256 = true, target_wait = true, shard = true,
  status = true, status_token_file = true, unhealthy_after = true, -- (ion.upload.status checks them)
}
options.KNOWN.notify = true -- systemd's notify protocol (watch/notify.lua)

local function bad(message, field, hint)
  return nil, errors.new("bad_input", "watch: " .. message, { field = field, hint = hint })
end
options.bad = bad

local function compile_globs(list, field)
  local out = {}
  if list == nil then return out end
  if type(list) == "string" then list = { list } end
  if type(list) ~= "table" then return nil, field .. " must be a glob or a list of globs" end
  for _, g in ipairs(list) do
    local m, why = glob.rule(g)
    if not m then return nil, field .. ": " .. why end
    out[#out + 1] = m
  end
  return out
end

local function check_rules(o)
  if (o.rules == nil) == (o.target == nil) then return bad("give rules or target (one of them)", "rules") end
  if o.target ~= nil then
    if type(o.target) ~= "table" then return bad("target must be a table such as { run_step = 123 }", "target") end
    -- the one target check (upload_many's, the CLI's): a bad id fails here, not on every file
    local kind, err = targets.parse(o.target)
    if not kind then
      return bad(err.message, "target", "Fix the option target given to client:watch: one kind and its id, "
        .. "such as { run_step = 123 }")
    end
  end
  if o.rules ~= nil then
    if type(o.rules) == "string" then
      local set, rerr = rules_mod.load(o.rules)
      if not set then return nil, rerr end
      o.rules = set
    elseif type(o.rules) ~= "table" or type(o.rules.rules) ~= "table" then
      return bad("rules must be a rules file's path or a set from watch.rules.load", "rules")
    end
  end
  return o
end

local function check_after(o)
  o.after = o.after or "keep"
  if o.after ~= "keep" and o.after ~= "delete" then
    local d = type(o.after) == "string" and o.after:match("^move:(.+)$")
    if not d then return bad("after must be keep, delete or move:DIR", "after") end
    o.move_to = d
  end
  if o.failed ~= nil and (type(o.failed) ~= "string" or o.failed == "") then
    return bad("failed must be a folder", "failed")
  end
  return o
end

--- options.check(opts, defaults) -> o | nil, err: a checked copy of opts,
-- defaults = { settle =, retry_cap =, target_wait = } for what opts leaves out.
function options.check(opts, defaults)
  local ok, err = check.options(opts, options.KNOWN)
  if not ok then return nil, err end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.settle = o.settle == nil and defaults.settle or o.settle
  if type(o.settle) ~= "number" or o.settle < 0 then return bad("settle must be a number >= 0", "settle") end
  if o.poll ~= nil and (type(o.poll) ~= "number" or o.poll <= 0) then
    return bad("poll must be a number > 0 (seconds)", "poll")
  end
  if o.target_wait == nil then o.target_wait = defaults.target_wait end
  if type(o.target_wait) ~= "number" or o.target_wait < 0 or o.target_wait ~= o.target_wait then
    return bad("target_wait must be a number of seconds >= 0", "target_wait")
  end
  o.retry_cap = o.retry_cap or defaults.retry_cap
  if type(o.retry_cap) ~= "number" or o.retry_cap <= 0 then
    return bad("retry_cap must be a number > 0", "retry_cap")
  end
  local cerr
  o, cerr = check_after(o)
  if not o then return nil, cerr end
  o, cerr = check_rules(o)
  if not o then return nil, cerr end
  if o.on_event ~= nil and type(o.on_event) ~= "function" then return bad("on_event must be a function", "on_event") end
  for _, k in ipairs({ "hidden", "sha256", "notify" }) do
    if o[k] ~= nil and type(o[k]) ~= "boolean" then return bad(k .. " must be a boolean", k) end
  end
  if o.shard ~= nil then -- the files of one shard, by their path under dir (lua/ion/upload/shard.lua)
    local s, serr = require("ion.upload.shard").check(o.shard, "watch")
    if not s then return nil, serr end
    o.shard = s
  end
  -- the filter of `ion-upload -r`: glob.take_file, glob.skip_folder
  o.filter = {}
  for _, k in ipairs({ "include", "exclude", "take_temporary" }) do
    local why
    o.filter[k], why = compile_globs(o[k], k)
    if not o.filter[k] then return bad(why, k) end
  end
  return o
end

--- The options of the watch's one open engine job (start_many), its
-- outcomes going to on_event.
function options.engine(o, on_event)
  return {
    open = true, journal = o.journal, concurrency = o.concurrency, window = o.window,
    validate = o.validate, sha256 = o.sha256, shard = o.shard,
    -- a watch runs for months: its events tell each file's outcome, and a
    -- results array would grow by one entry per file for as long as it runs
    keep_results = false, on_event = on_event,
  }
end

return options
