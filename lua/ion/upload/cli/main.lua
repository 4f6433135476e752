-- ion-upload: the command line on top of client:start_many (cli/stream.lua). run() returns
-- the exit status (0 all attached, 1 any failed, 2 usage or configuration,
-- 130 interrupted); bin/ion-upload passes it to os.exit.
local cli_args = require("ion.upload.cli.args")
local help = require("ion.upload.cli.help")
local output = require("ion.upload.cli.output")
local inputs = require("ion.upload.cli.inputs")
local profiles = require("ion.upload.cli.profiles")
local stream = require("ion.upload.cli.stream")

local cli = {}

local USAGE_ERROR, OK = 2, 0

-- `ion-upload profiles`: each profile of the config file, without secrets.
local function list_profiles(argv, env)
  if help.wanted(argv) then
    env.stdout:write(help.profiles, "\n")
    return OK
  end
  if #argv > 1 then return env.usage_error("profiles takes no arguments (see ion-upload profiles --help)") end
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
      usage_error = usage_error, getenv = getenv,
      make_client = function(args, say) return cli_args.new_client(args, getenv, core, say) end })
  end

  if argv[1] == "verify" then
    return require("ion.upload.cli.verify").run(argv, { core = core, stdout = stdout, stderr = stderr,
      getenv = getenv, usage_error = usage_error })
  end

  if #argv == 0 then -- a first try: how to call it, not a complaint about a missing target
    stderr:write(cli_args.parser(upload.VERSION):get_usage(), "\n(see ion-upload --help)\n")
    return USAGE_ERROR
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

  local sharded, sherr = require("ion.upload.cli.shard_args").resolve(args, getenv, core)
  if not sharded then return usage_error(sherr) end

  -- -v lines: on stderr, above the progress bars once they are drawn (stream.run)
  -- Notes and -v lines go to stderr, or above the bars on a terminal (stream.run points say.line there).
  local say = { line = function(line) stderr:write(line, "\n") end }
  local client, nerr = cli_args.new_client(args, getenv, core, function(line) say.line(line) end)
  if not client then return usage_error(nerr) end
  local receipts, rcerr -- --receipts: one line per file attached (cli/receipts.lua)
  if args.receipts then receipts, rcerr = require("ion.upload.cli.receipts").open(args.receipts, core) end
  if rcerr then
    client:close()
    return usage_error(rcerr)
  end

  -- The files: from the arguments (folders walked as they go) or the
  -- manifest (read a chunk at a time; its bad rows are those files' errors,
  -- reported in their place), taken as the run has room (cli/stream.lua).
  local source, serr = inputs.open(args, core, function(path, message)
    if not args.quiet then say.line("note  " .. output.printable(path) .. ": " .. message) end
  end)
  if not source then
    client:close()
    if receipts then receipts:close() end
    return usage_error(serr)
  end
  if args.dry_run then
    -- checks and lookups only, nothing sent (cli/dry_run.lua): client:plan
    -- wants the whole list, so a dry run reads every entry first
    local entries, rerr = source:all()
    source:close()
    if rerr then
      client:close()
      return usage_error(tostring(rerr))
    end
    if #entries == 0 and not args.quiet then stderr:write(output.nothing_selected, "\n") end
    local items, where = {}, {}
    for i, e in ipairs(entries) do
      if e.item then
        items[#items + 1] = e.item
        where[#items] = i
      end
    end
    return require("ion.upload.cli.dry_run").run(client, entries, items, where, args,
      { stdout = stdout, stderr = stderr, usage_error = usage_error })
  end
  return stream.run(client, source, args, { stdout = stdout, stderr = stderr, core = core, now = env.now,
    usage_error = usage_error, receipts = receipts, say = say })
end

return cli
