-- `ion-upload watch DIR`: the command line over client:watch. Lines for a
-- person on stderr (or JSON lines on stdout with --json); SIGINT/SIGTERM stop
-- taking files and starting uploads, and let the PUTs and registrations in
-- flight finish within `grace` seconds (a second signal, of either kind,
-- ends the process at once: the journal's records of registrations sent say
-- what is in doubt); SIGHUP reloads the rules. Exit 0 after a stop, 1 for
-- --once with a failure, 2 for a usage or configuration error (a bad rules
-- file names the rule, a move folder that cannot take the files says why).
local argparse = require("argparse")
local cjson = require("cjson")
local output = require("ion.upload.cli.cli_output")
local targets = require("ion.upload.targets")
local watch_status = require("ion.upload.cli.watch_status")

local watch_cli = {}

-- Seconds the uploads in flight get after a stop signal.
watch_cli.grace = 10

local FAILED, OK = 1, 0

function watch_cli.parser()
  local p = argparse("ion-upload watch", "Upload the files that appear in a folder (a hot folder).")
  p:add_help(false)
  p:argument("dir", "The folder to watch.")
  for _, t in ipairs(targets.list) do
    p:option(t.flag, "Attach every file to this " .. t.key:gsub("_", " ") .. "."):argname("ID")
  end
  p:option("--rules", "A Lua rules file mapping paths to targets (see README)."):argname("FILE")
  p:option("--settle", "Seconds a file must stay unchanged before it is taken (default 2)."):argname("S")
  p:option("--poll", "Scan the folder every S seconds instead of inotify (NFS, SMB)."):argname("S")
  p:option("--after", "After a confirmed upload: keep (default), move:DIR or delete."):argname("WHAT")
  p:option("--failed", "Move files that failed for good into DIR."):argname("DIR")
  p:option("--journal", "The journal: what is done survives a restart."):argname("FILE")
  p:option("--include", "Also take names matching GLOB (temporary names too)."):argname("GLOB"):count("*")
  p:option("--exclude", "Leave out names matching GLOB."):argname("GLOB"):count("*")
  p:flag("--once", "Take what is there, upload it and exit (for cron).")
  p:option("--concurrency", "Files uploaded at once (default 4)."):argname("N")
  p:option("--window", "Files per GraphQL document (default 50)."):argname("N")
  p:option("--profile", "A profile of the config file."):argname("NAME")
  p:option("--endpoint", "GraphQL endpoint URL (default: $ION_API_URL)."):argname("URL")
  p:option("--environment", "A named ION environment."):argname("NAME")
  p:option("--proxy", "Proxy for every request ('' for none)."):argname("URL")
  p:flag("--no-validate", "Do not ask ION to check the stored object.")
  p:flag("--no-verify-md5", "Do not compare the MD5 of the bytes sent with the ETag.")
  p:flag("--json", "One JSON object per event on stdout.")
  p:flag("--quiet", "Only failures.")
  p:flag("-h --help", "Show this help and exit.")
  return p
end

local function number(s, flag, min)
  local n = tonumber(s)
  if not n or n < min then return nil, flag .. " expects a number >= " .. min .. ", got '" .. tostring(s) .. "'" end
  return n
end

local function whole(s, flag)
  local n = tonumber(s)
  if not n or n ~= math.floor(n) or n < 1 or n > 1000 then
    return nil, flag .. " expects a whole number from 1 to 1000"
  end
  return n
end

-- The parsed flags: args | nil, message.
function watch_cli.parse(argv)
  local p = watch_cli.parser()
  local ok, a = p:pparse(argv)
  if not ok then return nil, a .. "\n(see ion-upload watch --help)" end
  if a.help then return { help = true, parser = p } end
  local out = { dir = a.dir, rules = a.rules, journal = a.journal, once = a.once, json = a.json, quiet = a.quiet,
    include = a.include, exclude = a.exclude, failed = a.failed, after = a.after or "keep",
    endpoint = a.endpoint, environment = a.environment, profile = a.profile, proxy = a.proxy,
    validate = not a.no_validate, verify_md5 = not a.no_verify_md5 }
  for _, t in ipairs(targets.list) do
    local v = a[t.key]
    if v ~= nil then
      if out.target then return nil, "two targets: name exactly one, or use --rules" end
      if t.key == "entity_id" then
        out.target = { entity_id = v }
      else
        local n = tonumber(v)
        if not n or n ~= math.floor(n) or n < 1 then return nil, t.flag .. " expects a positive whole number" end
        out.target = { [t.key] = n }
      end
    end
  end
  if (out.target == nil) == (out.rules == nil) then
    return nil, "name one target (--run-step ID, ...) or --rules FILE"
  end
  local err
  if a.settle then
    out.settle, err = number(a.settle, "--settle", 0)
    if not out.settle then return nil, err end
  end
  if a.poll then
    out.poll, err = number(a.poll, "--poll", 0.01)
    if not out.poll then return nil, err end
  end
  if a.concurrency then
    out.concurrency, err = whole(a.concurrency, "--concurrency")
    if not out.concurrency then return nil, err end
  end
  if a.window then
    out.window, err = whole(a.window, "--window")
    if not out.window then return nil, err end
  end
  if out.after ~= "keep" and out.after ~= "delete" and not out.after:match("^move:.") then
    return nil, "--after expects keep, delete or move:DIR"
  end
  return out
end

-- One line per event worth a line; nil for progress and the like.
local function plain(ev)
  local rel = output.printable(ev.rel or ev.path or "")
  if ev.type == "done" then
    return output.plain_line(ev.rel or ev.path, { ok = true, attachment = ev.attachment, skipped = ev.skipped })
  elseif ev.type == "error" then
    return output.plain_line(ev.rel or ev.path, { ok = false, err = ev.err })
  elseif ev.type == "taken" then
    return "take  " .. rel .. (ev.rewritten and " (rewritten: uploaded again as a new attachment)" or "")
  elseif ev.type == "unmatched" then
    return "skip  " .. rel .. ": no rule matches (left alone)"
  elseif ev.type == "failed" then
    return "FAIL  " .. rel .. ": " .. output.printable(ev.err)
  elseif ev.type == "moved" then
    return "move  " .. rel .. " -> " .. output.printable(ev.to)
  elseif ev.type == "deleted" then
    return "del   " .. rel
  elseif ev.type == "after_error" then
    return "WARN  " .. rel .. ": " .. output.printable(ev.message)
  elseif ev.type == "rules_error" then
    return "WARN  the rules were not reloaded (the old ones stay): " .. output.printable(ev.err)
  elseif ev.type == "rules_reloaded" then
    return "rules reloaded"
  elseif ev.type == "watch_error" then
    return "WARN  " .. rel .. ": " .. output.printable(ev.err)
  end
end

local QUIET_TYPES = { error = true, failed = true, rules_error = true, after_error = true, watch_error = true }

local function json(ev)
  if ev.type == "progress" or ev.type == "start" then return nil end
  local e = ev.err
  local a = ev.attachment
  local t = {
    event = ev.type, path = ev.rel, rewritten = ev.rewritten, skipped = ev.skipped, to = ev.to,
    retry_in = ev.retry_in, message = ev.message, since = ev.since, reason = ev.reason, queued = ev.queued,
    waited = ev.waited, was_in_doubt = ev.was_in_doubt,
    error = e and { code = e.code, message = e.message, hint = e.hint, in_doubt = e.in_doubt } or nil,
    attachment = a and { id = a.id, entityId = a.entityId, filename = a.filename, size = a.size, md5 = a.md5 } or nil,
  }
  return (cjson.encode(t):gsub("\\/", "/"))
end

-- env: { core, stdout, stderr, make_client = function(args) -> client | nil, message, usage_error }
function watch_cli.run(argv, env)
  local core, stdout, stderr = env.core, env.stdout, env.stderr
  local args, perr = watch_cli.parse({ (unpack or table.unpack)(argv, 2) })
  if not args then return env.usage_error(perr) end
  if args.help then
    stdout:write(args.parser:get_help(), "\n")
    return OK
  end
  local client, cerr = env.make_client(args)
  if not client then return env.usage_error(cerr) end

  local failures, left = 0, 0
  local w
  local status = watch_status.new({ out = stderr, tty = core.isatty(2), width = core.terminal_width() })
  local function person(ev)
    if ev.type == "waiting_for_ion" or (ev.type == "waiting" and w) then
      status:waiting(ev.type == "waiting" and w:waiting_message() or ev.message)
    elseif ev.type == "resumed" then
      status:resumed(string.format("ION is reachable again (waited %.0f s)", ev.waited))
    else
      local line = plain(ev)
      if line then status:print(line) end
    end
  end
  local werr
  w, werr = client:watch(args.dir, {
    rules = args.rules, target = args.target, settle = args.settle, poll = args.poll, after = args.after,
    failed = args.failed, journal = args.journal, include = args.include, exclude = args.exclude,
    once = args.once, concurrency = args.concurrency, window = args.window, validate = args.validate,
    on_event = function(ev)
      if ev.type == "error" or ev.type == "failed" then failures = failures + 1 end
      local e = ev.type == "error" and core.interrupted() and ev.err
      if e and e.code == "aborted" and not e.in_doubt then
        -- not uploaded, left where it is by the stop: one line at the end says how many
        left = left + 1
        if not args.json then return end
      end
      if args.json then
        local line = json(ev)
        if line then
          stdout:write(line, "\n")
          stdout:flush()
        end
      elseif not args.quiet or QUIET_TYPES[ev.type] then
        person(ev)
      end
    end,
  })
  if not w then
    client:close()
    return env.usage_error(output.printable(werr))
  end
  core.catch_interrupt()
  core.catch_hangup()
  if not args.quiet and not args.json then
    stderr:write("watching ", output.printable(args.dir), args.once and " (once)" or "", "\n")
  end
  local deadline
  while not w:step(math.huge) do
    if status.active then status:waiting(w:waiting_message()) end -- files arrive while ION is away
    if core.hangup() then w:reload_rules() end
    if core.interrupted() and not deadline then
      if not args.quiet and not args.json then
        status:print("stopping: no new file is taken; the uploads in flight finish (a second signal stops at once)")
      end
      w:stop()
      deadline = core.now() + watch_cli.grace
    end
    if deadline and core.now() > deadline then
      w:close()
      break
    end
  end
  status:close()
  client:close()
  if left > 0 and not args.quiet and not args.json then
    stderr:write(string.format("stopped: %d file%s not uploaded stay%s in the folder (the next start takes %s)\n",
      left, left == 1 and "" or "s", left == 1 and "s" or "", left == 1 and "it" or "them"))
  end
  if args.once and failures > 0 then return FAILED end
  return OK
end

return watch_cli
