-- ion-upload: the command line on top of client:upload_many. run() returns
-- the exit status (0 all attached, 1 any failed or interrupted, 2 usage or
-- configuration); bin/ion-upload passes it to os.exit.
local cli_args = require("ion.upload.cli.cli_args")
local output = require("ion.upload.cli.cli_output")
local progress = require("ion.upload.cli.cli_progress")
local log_progress = require("ion.upload.cli.log_progress")
local summary_out = require("ion.upload.cli.summary")
local manifest = require("ion.upload.cli.manifest")
local profiles = require("ion.upload.cli.profiles")
local walk = require("ion.upload.cli.walk")

local cli = {}

local USAGE_ERROR, FAILED, OK = 2, 1, 0

-- `ion-upload profiles`: each profile of the config file, without secrets.
local function list_profiles(argv, env)
  if #argv > 1 then return env.usage_error("profiles takes no arguments") end
  local path, perr = profiles.config_path(env.getenv)
  if not path then return env.usage_error(perr) end
  local config, err = profiles.load(path, env.core)
  if not config then return env.usage_error(err) end
  env.stdout:write("profiles in ", path, ":\n")
  for _, line in ipairs(profiles.describe(config, env.getenv)) do
    env.stdout:write("  ", output.printable(line), "\n")
  end
  return OK
end

-- The profile named by --profile or ION_PROFILE, secrets read: profile |
-- nil (none named) | false, message.
local function chosen_profile(args, getenv, core)
  local name = args.profile
  if name == nil or name == "" then name = getenv("ION_PROFILE") end
  if name == nil or name == "" then return nil end
  local path, perr = profiles.config_path(getenv)
  if not path then return false, perr end
  local config, err = profiles.load(path, core)
  if not config then return false, "profile '" .. name .. "': " .. err end
  local profile, rerr = profiles.resolve(config, name, { core = core, getenv = getenv })
  if not profile then return false, rerr end
  return profile
end

-- The files of the FILE arguments, a folder (with -r) walked into its files:
-- entries | nil, usage message. notes: function(path, message).
local function expand_files(args, core, notes)
  local entries, filter = {}, nil
  for _, path in ipairs(args.files) do
    local st = core.stat(path)
    if st and st.type == "directory" then
      if not args.recursive then
        return nil, path .. " is a folder: add -r (--recursive) to upload the files in it"
      end
      if not filter then
        local ferr
        filter, ferr = walk.filter({ include = args.include, exclude = args.exclude,
          exclude_from = args.exclude_from })
        if not filter then return nil, ferr end
      end
      local found = 0
      for rec in walk.files(path, { hidden = args.hidden, follow = args.follow, filter = filter,
        list_dir = core.list_dir }) do
        if rec.kind == "file" then
          found = found + 1
          entries[#entries + 1] = { path = rec.path, item = { path = rec.path, target = args.target,
            filename = args.relative_names and rec.rel or nil } }
        elseif rec.kind == "error" then
          entries[#entries + 1] = { path = rec.path, err = rec.err }
        else
          notes(rec.path, rec.message)
        end
      end
      if found == 0 then notes(path, "no file to upload in this folder") end
    else
      entries[#entries + 1] = { path = path, item = { path = path, target = args.target } }
    end
  end
  if args.recursive and not filter then
    -- -r without a folder: still check the globs (a typo should not pass silently)
    local _, ferr = walk.filter({ include = args.include, exclude = args.exclude, exclude_from = args.exclude_from })
    if ferr then return nil, ferr end
  end
  return entries
end

-- env: { getenv =, stdout =, stderr =, core =, now = (the progress clock) } (the real ones by default).
function cli.run(argv, env)
  env = env or {}
  local upload = require("ion.upload")
  local core = env.core or require("ion.upload.core")
  local stdout, stderr = env.stdout or io.stdout, env.stderr or io.stderr
  local getenv = env.getenv or os.getenv

  local function usage_error(message)
    stderr:write("ion-upload: ", message, "\n")
    return USAGE_ERROR
  end

  if argv[1] == "profiles" then
    return list_profiles(argv, { getenv = getenv, core = core, stdout = stdout, usage_error = usage_error })
  end

  if argv[1] == "watch" then
    return require("ion.upload.cli.watch").run(argv, { core = core, stdout = stdout, stderr = stderr,
      usage_error = usage_error,
      make_client = function(args)
        local profile, prerr = chosen_profile(args, getenv, core)
        if profile == false then return nil, prerr end
        local cfg, cerr = cli_args.client_config(args, getenv, profile)
        if not cfg then return nil, cerr end
        local client, nerr = upload.new(cfg)
        if not client then return nil, tostring(nerr) end
        return client
      end })
  end

  if argv[1] == "verify" then
    return require("ion.upload.cli.verify").run(argv, { core = core, stdout = stdout, stderr = stderr,
      getenv = getenv, usage_error = usage_error })
  end

  local args, perr = cli_args.parse(argv, upload.VERSION)
  if not args then return usage_error(perr) end
  if args.help then
    stdout:write(args.parser:get_help(), "\n")
    return OK
  end
  if args.version then
    stdout:write("ion-upload ", upload.VERSION, " (libcurl ", tostring(core.curl_version), ")\n")
    return OK
  end

  local profile, prerr = chosen_profile(args, getenv, core)
  if profile == false then return usage_error(prerr) end
  local cfg, cerr = cli_args.client_config(args, getenv, profile)
  if not cfg then return usage_error(cerr) end
  local client, nerr = upload.new(cfg)
  if not client then return usage_error(tostring(nerr)) end
  local receipts, rcerr -- --receipts: one line per file attached (cli/receipts.lua)
  if args.receipts then receipts, rcerr = require("ion.upload.cli.receipts").open(args.receipts, core) end
  if rcerr then
    client:close()
    return usage_error(rcerr)
  end

  -- The list of files: from the arguments, or the manifest (whose bad rows
  -- are those files' errors, reported in their place).
  local entries = {}
  if args.manifest then
    local rows, merr = manifest.read(args.manifest)
    if not rows then return usage_error(tostring(merr)) end
    if #rows == 0 then return usage_error("manifest " .. args.manifest .. " lists no files") end
    for _, row in ipairs(rows) do
      entries[#entries + 1] = { path = row.path, err = row.err,
        item = not row.err and { path = row.path, target = row.target, filename = row.filename } or nil }
    end
  else
    local eerr
    entries, eerr = expand_files(args, core, function(path, message)
      if not args.quiet then stderr:write("note  ", output.printable(path), ": ", message, "\n") end
    end)
    if not entries then
      client:close()
      return usage_error(eerr)
    end
  end
  local items, where = {}, {}
  for i, e in ipairs(entries) do
    if e.item then
      items[#items + 1] = e.item
      where[#items] = i
    end
  end
  if args.dry_run then -- checks and lookups only, nothing sent (cli/dry_run.lua)
    return require("ion.upload.cli.dry_run").run(client, entries, items, where, args,
      { stdout = stdout, stderr = stderr, usage_error = usage_error })
  end

  -- Output: JSON lines in input order; a progress display or plain lines.
  local results = {}
  local tty = not args.quiet and core.isatty(2)
  local display, ticker -- the terminal's bars, or the log's progress lines (log_progress.lua)
  if not args.quiet then
    local sizes, total = progress.sizes(items, where, core.stat)
    local opts = { out = stderr, now = env.now or core.now, files = #entries, bytes = total,
      interval = args.progress_interval }
    if tty then
      opts.width = core.terminal_width()
      display = progress.new(opts)
    else
      ticker = log_progress.new(opts)
    end
    for i, size in pairs(sizes) do (display or ticker):set_size(i, size) end
  end
  local emit = output.in_order(#entries, function(i)
    if args.json then
      stdout:write(output.json_line(entries[i].path, results[i]), "\n")
      stdout:flush()
    end
  end)
  local function finished(i)
    local r = results[i]
    if display then
      if not r.ok then display:message(output.plain_line(entries[i].path, r)) end
    elseif not args.quiet then
      stderr:write(output.plain_line(entries[i].path, r), "\n")
    elseif not r.ok and not args.json then
      stderr:write(output.plain_line(entries[i].path, r), "\n")
    end
    emit(i)
  end

  for i, e in ipairs(entries) do
    if e.err then
      results[i] = { ok = false, err = e.err }
      if display then display:event({ type = "error", index = i, path = e.path }, i) end
      if ticker then ticker:event({ type = "error", index = i, path = e.path }, i) end
      finished(i)
    end
  end

  core.catch_interrupt()
  local batch_results, summary = client:upload_many(items, {
    concurrency = args.concurrency, window = args.window, journal = args.journal, validate = args.validate,
    sha256 = receipts and true or nil,
    on_event = function(ev)
      local i = where[ev.index]
      if display then display:event(ev, i) end
      if ticker then ticker:event(ev, i) end
      if ev.type == "done" then
        results[i] = { ok = true, attachment = ev.attachment, skipped = ev.skipped, was_in_doubt = ev.was_in_doubt }
        if receipts then receipts:done(items[ev.index], ev.attachment, ev.skipped) end
        finished(i)
      elseif ev.type == "error" then
        results[i] = { ok = false, err = ev.err }
        finished(i)
      end
    end,
  })
  client:close()
  if not batch_results then
    if display then display:finish() end
    return usage_error(output.printable(summary))
  end
  -- Anything the events did not report (they always do; this is the safety net).
  for k, r in ipairs(batch_results) do
    local i = where[k]
    if not results[i] then
      results[i] = r
      finished(i)
    end
  end
  if display then display:finish() end

  local failed = summary.failed
  for _, e in ipairs(entries) do if e.err then failed = failed + 1 end end
  local total = { ok = summary.ok, skipped = summary.skipped, failed = failed, in_doubt = summary.in_doubt,
    bytes = summary.bytes, seconds = summary.seconds, files = #entries, doubtful = summary_out.count_doubtful(results) }
  local interrupted = core.interrupted()
  local receipts_ok, receipts_err = true, nil
  if receipts then receipts_ok, receipts_err = receipts:close() end
  if not receipts_ok then stderr:write("ion-upload: ", output.printable(receipts_err), "\n") end
  summary_out.print(total, interrupted, { stdout = stdout, stderr = stderr, tty = tty, quiet = args.quiet,
    json = args.json })
  if failed > 0 or interrupted or not receipts_ok then return FAILED end
  return OK
end

return cli
