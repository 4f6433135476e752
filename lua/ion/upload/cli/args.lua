-- ion-upload's command line (docs/api.md, "ion-upload (command line)"): flags by
-- lua-argparse, then the checks argparse can't express. A usage problem comes
-- back as a message that says what to fix (the CLI exits 2 with it).
local argparse = require("argparse")
local environments = require("ion.upload.environments")
local help = require("ion.upload.cli.help")
local targets = require("ion.upload.targets")
local flags = require("ion.upload.cli.flags")
local output = require("ion.upload.cli.output")
local profiles = require("ion.upload.cli.profiles")

local cli_args = {}

-- Target flags in the order the usage lists them, with their target key
-- (ion.upload.targets).
cli_args.targets = targets.list

local EPILOG = [[
Credentials and endpoint come from a profile (--profile NAME or ION_PROFILE,
in $XDG_CONFIG_HOME/ion-upload/config.lua; `ion-upload profiles` lists them)
or from the environment; flags win over the profile, the profile over these:
  ION_API_URL        the GraphQL endpoint (or give --endpoint / --environment)
  ION_TOKEN          an API token (sent as a bearer token), or else
  ION_CLIENT_ID, ION_CLIENT_SECRET (+ ION_AUTH_URL)  OAuth2 client credentials
  https_proxy, HTTPS_PROXY (https endpoint) or http_proxy (http endpoint),
  then all_proxy, ALL_PROXY: the proxy when --proxy is not given, as curl reads
  them; no_proxy or NO_PROXY: hosts that bypass it

The manifest is CSV with a header row: path,target,id,filename
(filename may be empty; target is run_step, run, procedure, step, part,
run_step_field or entity_id; relative paths are relative to the current
folder; quote fields holding commas as in RFC 4180).

Targets by name: a target flag's value that is not a number is a set of
equality filters, field=value[,field=value...] (values are strings; \, \=
\\ for a comma, = or backslash in a value): --run 'title=SN004512 final
test', --part 'partNumber=PN-77,revision=B'. A run step by its title or
position in a run: --run-step TITLE --in-run RUN, --run-step-position N
--in-run RUN (RUN: an id or filters); a run step field by name:
--run-step-field NAME with the run step flags. In a manifest the id column
takes the same text; a run step is RUN/TITLE or RUN/#N (\/ for a / in a
title). Exactly one object must match.

With --journal, a run that stopped (a crash, Ctrl-C) can be run again with the
same journal: files already attached are skipped, files already in storage
are only registered, the rest are uploaded.

Folders (-r): files are taken in sorted order, depth first. A glob without
a / matches a name at any depth (*.tmp); one with a / matches the path
relative to the folder (drafts/**); ** crosses folders. A file is uploaded
when it matches no --exclude and, if any --include is given, an --include:
exclusion wins. Hidden names (.x) are skipped unless --hidden.

Exit status: 0 every file attached (or already attached per the journal),
1 any file failed, 2 usage or configuration error (a rejected token or an
endpoint that is not ION included: said once, not per file), 130 interrupted.

Examples:
  export ION_API_URL=https://api.buildwithion.com/graphql ION_TOKEN=...
  ion-upload --run-step 123 inspection-photo.jpg
  ion-upload --part 42 --journal parts.journal --concurrency 8 scans/*.pdf
  ion-upload --run-step 'Final test' --in-run 'title=SN004517 final test' log.csv
  ion-upload --manifest shift-photos.csv --journal shift.journal --json > results.jsonl
  ion-upload --environment staging --entity-id 9876 --no-validate log.txt
  ion-upload --profile prod --run 7 -r --include '*.pdf' --exclude 'drafts/' scans/
  ion-upload profiles]]

function cli_args.parser(version)
  local p = argparse("ion-upload", "Upload files to ION as attachments: signed URL, PUT to storage, registration."
    .. help.commands)
  p:usage(table.concat({
    "Usage: ion-upload [options] (--run-step ID | --run ID | --procedure ID | --step ID |",
    "                             --part ID | --run-step-field ID | --entity-id ID) FILE...",
    "       ion-upload [options] (--run-step TITLE | --run-step-position N) --in-run RUN FILE...",
    "       ion-upload [options] --manifest FILE",
    "       ion-upload watch DIR (--run-step ID | ... | --rules FILE) [options]",
    "       ion-upload verify (--journal FILE | --receipts FILE | ID...)",
    "       ion-upload profiles",
  }, "\n"))
  p:add_help(false)
  p:epilog(EPILOG)
  p:argument("files", "Files to upload (and folders, with -r)."):args("*")
  flags.group(p, "upload", "Target (exactly one, or --manifest)", { "targets",
    p:option("--manifest", "CSV mapping each file to its own target."):argname("FILE") })
  flags.group(p, "upload", "Where", { "profile", "endpoint", "environment", "proxy", "ca_file" })
  flags.group(p, "upload", "Folders", {
    p:flag("-r --recursive", "Upload the files in the folders given, and in their subfolders."),
    "include", "exclude", "exclude_from", "hidden",
    p:flag("--follow", "Enter symlinks to folders (loops are detected)."),
    p:flag("--relative-names", "Name each file by its path relative to the folder, not its basename."),
  })
  flags.group(p, "upload", "How", { "concurrency", "window", "journal", "shard",
    p:flag("--dry-run", "Check every file and look up every target, print the plan, send nothing (exit 1 if any "
      .. "file would fail)."),
    "receipts", "limit_rate", "no_validate", "no_verify_md5", "timeout", "stall_timeout", "retries" })
  flags.group(p, "upload", "Output", { "json", "quiet",
    p:option("--progress-interval", "Seconds between progress lines when stderr is not a terminal (default 10).")
      :argname("S"),
    "verbose",
    p:flag("--version", "Print the version and exit."),
    "help" })
  p._version_string = version
  return p
end

--- Parses argv: { ... } (see below) | nil, message. The result has help or
-- version set when those were asked for; otherwise target (one kind) or
-- manifest, files, and the options.
function cli_args.parse(argv, version)
  local p = cli_args.parser(version)
  local ok, a = p:pparse(flags.join(argv))
  if not ok then return nil, a .. "\n(see ion-upload --help)", p end
  local out = { help = a.help, version = a.version, parser = p }
  if a.help or a.version then return out end

  local named = flags.targets_given(a)
  if a.manifest then
    if #named > 0 or a.in_run or a.run_step_position then
      return nil, "--manifest gives each file its own target: drop "
        .. (named[1] and named[1].flag or a.in_run and "--in-run" or "--run-step-position")
    end
    if #a.files > 0 then
      return nil, "--manifest lists the files: drop the FILE arguments (" .. a.files[1] .. ")"
    end
    if a.recursive then return nil, "--manifest lists the files itself: drop -r (it walks FILE arguments)" end
    out.manifest = a.manifest
  else
    local terr
    out.target, terr = flags.target_of(a, ", or use --manifest to send files to different targets")
    if terr then return nil, terr end
    if not out.target then
      return nil, "no target: name one with --run-step ID, --run ID, --procedure ID, --step ID, --part ID, "
        .. "--run-step-field ID or --entity-id ID (or use --manifest FILE)"
    end
    if #a.files == 0 then
      return nil, "no files: list the files to upload after the options"
    end
    out.files = a.files
  end
  local _, ferr = flags.read(p, a, out)
  if ferr then return nil, ferr end
  out.recursive, out.follow, out.relative_names = a.recursive, a.follow, a.relative_names
  if not a.recursive then
    for _, f in ipairs({ { "include", "--include" }, { "exclude", "--exclude" }, { "exclude_from", "--exclude-from" },
      { "hidden", "--hidden" }, { "follow", "--follow" }, { "relative_names", "--relative-names" } }) do
      local v = a[f[1]]
      if v == true or (type(v) == "table" and #v > 0) then
        return nil, f[2] .. " applies to folders: add -r (--recursive) and name a folder"
      end
    end
  end
  out.dry_run = a.dry_run
  if a.progress_interval then
    local perr
    out.progress_interval, perr = require("ion.upload.cli.progress_log").parse_interval(a.progress_interval)
    if not out.progress_interval then return nil, perr end
  end
  return out
end

-- curl's reading of the proxy variables for a URL's scheme: the lowercase
-- name first, the uppercase one except HTTP_PROXY (curl ignores it: a CGI
-- program gets it from a request's Proxy header), then all_proxy.
local function proxy_variables(url)
  local scheme = (url:match("^(%a+)://") or "http"):lower()
  if scheme == "https" then return { "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" } end
  return { "http_proxy", "all_proxy", "ALL_PROXY" }
end

-- As curl: a proxy given without a scheme is an http proxy.
local function with_scheme(proxy)
  if proxy:find("://", 1, true) then return proxy end
  return "http://" .. proxy
end

--- The upload.new configuration from the parsed flags, the profile (if any:
-- profiles.resolve's result) and the environment (getenv: a function like
-- os.getenv): cfg | nil, message. Flags win over the profile, the profile
-- over the environment.
function cli_args.client_config(args, getenv, profile)
  profile = profile or {}
  local function env(name)
    local v = getenv(name)
    if v == "" then return nil end
    return v
  end
  local cfg = { verify_md5 = args.verify_md5 }
  if args.concurrency then cfg.concurrency = args.concurrency end
  for _, k in ipairs({ "limit_rate", "ca_file", "timeout", "stall_timeout", "retries" }) do
    if args[k] ~= nil then cfg[k] = args[k] else cfg[k] = profile[k] end
  end
  if args.endpoint then
    cfg.endpoint = args.endpoint
  elseif args.environment then
    cfg.environment = args.environment
  elseif profile.endpoint then
    cfg.endpoint = profile.endpoint
  elseif profile.environment then
    cfg.environment = profile.environment
  elseif env("ION_API_URL") then
    cfg.endpoint = env("ION_API_URL")
  else
    return nil, "no endpoint: set ION_API_URL to the GraphQL URL, or pass --endpoint URL or --environment NAME"
  end
  local token, id, secret = env("ION_TOKEN"), env("ION_CLIENT_ID"), env("ION_CLIENT_SECRET")
  if profile.token or profile.client_secret then
    token, id, secret = profile.token, profile.client_id, profile.client_secret
  end
  if token then
    cfg.token = token
  elseif id or secret then
    if not (id and secret) then
      return nil, "incomplete client credentials: set both ION_CLIENT_ID and ION_CLIENT_SECRET"
    end
    cfg.client_id, cfg.client_secret = id, secret
    cfg.auth_url = profile.client_secret and profile.auth_url or env("ION_AUTH_URL")
    if not cfg.auth_url and not cfg.environment then
      return nil, "client credentials need the token endpoint: set ION_AUTH_URL or pass --environment NAME"
    end
  else
    return nil, "no credentials: set ION_TOKEN, or ION_CLIENT_ID and ION_CLIENT_SECRET"
  end
  -- The library reads no environment variable and uses no proxy unless told:
  -- the CLI reads the ones a curl user expects. --proxy '' means none.
  local proxy = args.proxy
  if proxy == nil then
    local endpoint = cfg.endpoint or environments.get(cfg.environment).endpoint
    for _, name in ipairs(proxy_variables(endpoint)) do
      proxy = env(name)
      if proxy then break end
    end
  end
  if proxy and proxy ~= "" then cfg.proxy = with_scheme(proxy) end
  cfg.no_proxy = env("no_proxy") or env("NO_PROXY")
  return cfg
end

--- The client of a command: its flags, the profile (--profile or
-- ION_PROFILE) and the environment (cli_args.client_config): client | nil,
-- message. With -v, say(line) gets a line per request.
function cli_args.new_client(args, getenv, core, say)
  local profile, perr = profiles.chosen(args.profile, getenv, core)
  if profile == false then return nil, perr end
  local cfg, cerr = cli_args.client_config(args, getenv, profile)
  if not cfg then return nil, cerr end
  if args.verbose then cfg.on_request = function(info) say(output.request_line(info)) end end
  local client, nerr = require("ion.upload").new(cfg)
  if not client then return nil, require("ion.upload.cli.hints").text(nerr) end
  return client
end

return cli_args
