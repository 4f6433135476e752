-- `ion-upload watch DIR`: the command line over client:watch. Lines for a
-- person on stderr (or JSON lines on stdout with --json); SIGINT/SIGTERM stop
-- taking files and starting uploads, and let the PUTs and registrations in
-- flight finish within `grace` seconds (a second signal, of either kind,
-- ends the process at once: the journal's records of registrations sent say
-- what is in doubt); SIGHUP reloads the rules. Exit 0 after a stop, 1 for
-- --once with a failure, 2 for a usage or configuration error (a bad rules
-- file names the rule, a move folder that cannot take the files says why;
-- a rejected token or an endpoint that is not ION stops the watch, said once).
local argparse = require("argparse")
local cjson = require("cjson")
local help = require("ion.upload.cli.help")
local hints = require("ion.upload.cli.hints")
local flags = require("ion.upload.cli.flags")
local output = require("ion.upload.cli.output")
local walk = require("ion.upload.cli.walk")
local watch_status = require("ion.upload.cli.watch_status")

local watch_cli = {}

-- Seconds the uploads in flight get after a stop signal.
watch_cli.grace = 10

local FAILED, OK, USAGE_ERROR = 1, 0, 2

local EPILOG = [[
Globs (--include, --exclude, --exclude-from, --take-temporary) are read as
`ion-upload -r` reads them: a glob without / matches the name at any depth,
one with / the path relative to DIR, one ending in / folders only; exclusion
wins. Names a writer is still busy with (*.tmp, *.part, ~x, and .x unless
--hidden) are skipped unless --take-temporary matches them.

Exit status: 0 after a stop (SIGTERM, SIGINT), or --once with every file
attached; 1 --once with a failure; 2 usage or configuration error.]]

function watch_cli.parser()
  local p = argparse("ion-upload watch", "Upload the files that appear in a folder (a hot folder).")
  p:usage("Usage: ion-upload watch DIR (--run-step ID | --run ID | ... | --entity-id ID | --rules FILE) [options]")
  p:add_help(false)
  p:epilog(EPILOG)
  p:argument("dir", "The folder to watch.")
  flags.group(p, "watch", "Target (exactly one, or --rules)", { "targets",
    p:option("--rules", "A Lua rules file mapping paths to targets (see README)."):argname("FILE") })
  flags.group(p, "watch", "Where", { "profile", "endpoint", "environment", "proxy", "ca_file" })
  flags.group(p, "watch", "Which files", {
    p:option("--settle", "Seconds a file must stay unchanged before it is taken (default 2)."):argname("S"),
    p:option("--poll", "Scan the folder every S seconds instead of inotify (NFS, SMB)."):argname("S"),
    "include", "exclude", "exclude_from", "hidden",
    p:option("--take-temporary", "Also take temporary names (*.tmp, *.part, ~x) matching GLOB (repeatable).")
      :argname("GLOB"):count("*"),
    p:flag("--once", "Take what is there, upload it and exit (for cron)."),
  })
  flags.group(p, "watch", "How", { "concurrency", "window", "journal", "shard", "receipts", "limit_rate", "no_validate",
    "no_verify_md5", "timeout", "stall_timeout", "retries",
    p:option("--after", "After a confirmed upload: keep (default), move:DIR or delete."):argname("WHAT"),
    p:option("--failed", "Move files that failed for good into DIR."):argname("DIR"),
    p:option("--target-wait", "Seconds a target found by name that matches nothing is waited for (default 3600; "
      .. "0: fail at once)."):argname("S") })
  flags.group(p, "watch", "Status server (off by default)", {
    p:option("--status", "Serve /metrics, /healthz and a status page on ADDR (HOST:PORT; loopback unless "
      .. "another interface is named, then with --status-token-file)."):argname("ADDR"),
    p:option("--status-token-file", "The token (mode 0600) the status server asks for."):argname("FILE"),
    p:option("--unhealthy-after", "Seconds of waiting for ION before /healthz says 503 (default 600).")
      :argname("S") })
  flags.group(p, "watch", "Output", { "json", "quiet", "verbose", "help" })
  return p
end

local function number(s, flag, min)
  local n = tonumber(s)
  if not n or n < min then return nil, flag .. " expects a number >= " .. min .. ", got '" .. tostring(s) .. "'" end
  return n
end

-- The parsed flags: args | nil, message.
function watch_cli.parse(argv)
  local p = watch_cli.parser()
  if help.wanted(argv) then return { help = true, parser = p } end -- before DIR is missed
  -- "--target-wait -1" is a bad number, not an unknown option
  local ok, a = p:pparse(require("ion.upload.cli.rate_value").join_value(flags.join(argv), "--target-wait"))
  if not ok then return nil, a .. "\n(see ion-upload watch --help)" end
  local out = { dir = a.dir, rules = a.rules, once = a.once, failed = a.failed, after = a.after or "keep",
    take_temporary = a.take_temporary }
  local err
  out.target, err = flags.target_of(a, ", or use --rules")
  if err then return nil, err end
  if (out.target == nil) == (out.rules == nil) then
    return nil, "name one target (--run-step ID, ...) or --rules FILE"
  end
  out, err = flags.read(p, a, out)
  if not out then return nil, err end
  if a.settle then
    out.settle, err = number(a.settle, "--settle", 0)
    if not out.settle then return nil, err end
  end
  if a.target_wait then
    out.target_wait, err = number(a.target_wait, "--target-wait", 0)
    if not out.target_wait then return nil, err end
  end
  out.status, out.status_token_file = a.status, a.status_token_file
  if a.unhealthy_after then
    out.unhealthy_after, err = number(a.unhealthy_after, "--unhealthy-after", 1)
    if not out.unhealthy_after then return nil, err end
  end
  if a.poll then
    out.poll, err = number(a.poll, "--poll", 0.01)
    if not out.poll then return nil, err end
  end
  if out.after ~= "keep" and out.after ~= "delete" and not out.after:match("^move:.") then
    return nil, "--after expects keep, delete or move:DIR"
  end
  -- the globs of --exclude-from join --exclude (a bad one is named by its file and line)
  local filter, ferr = walk.filter(out)
  if not filter then return nil, ferr end
  local excludes = walk.excludes(out)
  out.exclude = {}
  for i, e in ipairs(excludes) do out.exclude[i] = e.glob end
  return out
end

-- One line per event worth a line; nil for progress and the like.
local function plain(ev)
  local rel = output.printable(ev.rel or ev.path or "")
  if ev.type == "done" then
    return output.plain_line(ev.rel or ev.path, { ok = true, attachment = ev.attachment, skipped = ev.skipped })
  elseif ev.type == "error" then
    return output.plain_line(ev.rel or ev.path, { ok = false, err = ev.err }, ev.path)
  elseif ev.type == "taken" then
    return "take  " .. rel .. (ev.rewritten and " (rewritten: uploaded again as a new attachment)" or "")
  elseif ev.type == "waiting_for_target" then
    return string.format("wait  %s: %s (looked up again for up to %.0f s)", rel, output.printable(ev.message),
      ev.wait or 0)
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
    error = e and { code = e.code, message = e.message, hint = hints.of(e), in_doubt = e.in_doubt } or nil,
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
  local sok, serr = require("ion.upload.cli.shard_args").resolve(args, env.getenv or os.getenv, core)
  if not sok then return env.usage_error(serr) end
  local status = watch_status.new({ out = stderr, tty = core.isatty(2), width = core.terminal_width() })
  local client, cerr = env.make_client(args, function(line) status:print(line) end)
  if not client then return env.usage_error(cerr) end
  local receipts, rcerr -- --receipts: one line per file attached (cli/receipts.lua)
  if args.receipts then receipts, rcerr = require("ion.upload.cli.receipts").open(args.receipts, core) end
  if rcerr then
    client:close()
    return env.usage_error(rcerr)
  end

  local failures, left = 0, 0
  local w
  local function person(ev)
    status:transfer(ev, w and w:queued() or 0) -- the file uploading, on a terminal
    if ev.type == "error" and w and output.same_failure(ev.err, w:stop_reason()) then
      return -- the watch stops on it: said once, at the end
    elseif ev.type == "waiting_for_ion" or (ev.type == "waiting" and w) then
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
    hidden = args.hidden, take_temporary = args.take_temporary, sha256 = receipts and true or nil,
    notify = true, -- under systemd ($NOTIFY_SOCKET): READY, STATUS, the watchdog (watch/notify.lua)
    target_wait = args.target_wait, shard = args.shard, status = args.status,
    status_token_file = args.status_token_file, unhealthy_after = args.unhealthy_after,
    on_event = function(ev)
      if ev.type == "error" or ev.type == "failed" then failures = failures + 1 end
      if receipts and ev.type == "done" then
        receipts:done({ path = ev.path, target = ev.target }, ev.attachment, ev.skipped)
      end
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
    if receipts then receipts:close() end
    return env.usage_error(output.printable(hints.text(werr)))
  end
  core.catch_interrupt()
  core.catch_hangup()
  if not args.quiet and not args.json then
    stderr:write("watching ", output.printable(args.dir), args.once and " (once)" or "", "\n")
    if w.status_server then
      stderr:write("status page on ", output.printable(args.status), " (port ", w.status_server:port(), ")\n")
    end
  end
  local deadline, why
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
  if not deadline then why = w:stop_reason() end -- not the grace's end: a failure no file escapes
  status:close()
  client:close()
  if left > 0 and not args.quiet and not args.json then
    stderr:write(string.format("stopped: %d file%s not uploaded stay%s in the folder (the next start takes %s)\n",
      left, left == 1 and "" or "s", left == 1 and "s" or "", left == 1 and "it" or "them"))
  end
  local receipts_ok, receipts_err = true, nil
  if receipts then receipts_ok, receipts_err = receipts:close() end
  if not receipts_ok then stderr:write("ion-upload: ", output.printable(receipts_err), "\n") end
  if why then
    stderr:write(output.stopped_line(why), "\n")
    return output.configuration[why.code] and USAGE_ERROR or FAILED
  end
  if (args.once and failures > 0) or not receipts_ok then return FAILED end
  return OK
end

return watch_cli
