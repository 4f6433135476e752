-- ion-upload's command line (docs/api.md, "ion-upload (command line)"): flags by
-- lua-argparse, then the checks argparse can't express. A usage problem comes
-- back as a message that says what to fix (the CLI exits 2 with it).
local argparse = require("argparse")
local environments = require("ion.upload.environments")
local help = require("ion.upload.cli.help")
local targets = require("ion.upload.targets")
local rate = require("ion.upload.cli.rate")

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
    "       ion-upload [options] --manifest FILE",
    "       ion-upload watch DIR (--run-step ID | ... | --rules FILE) [options]",
    "       ion-upload verify (--journal FILE | --receipts FILE | ID...)",
    "       ion-upload profiles",
  }, "\n"))
  p:add_help(false)
  p:epilog(EPILOG)
  p:argument("files", "Files to upload (and folders, with -r)."):args("*")
  p:group("Target (exactly one, or --manifest)",
    p:option("--run-step", "Attach to this run step."):argname("ID"),
    p:option("--run", "Attach to this run."):argname("ID"),
    p:option("--procedure", "Attach to this procedure."):argname("ID"),
    p:option("--step", "Attach to this procedure step."):argname("ID"),
    p:option("--part", "Attach to this part."):argname("ID"),
    p:option("--run-step-field", "Attach to this run step field."):argname("ID"),
    p:option("--entity-id", "Attach to this entity id, used as is."):argname("ID"),
    p:option("--manifest", "CSV mapping each file to its own target."):argname("FILE")
  )
  p:group("Where",
    p:option("--profile", "A profile of the config file (default: $ION_PROFILE); see below."):argname("NAME"),
    p:option("--endpoint", "GraphQL endpoint URL (default: $ION_API_URL)."):argname("URL"),
    p:option("--environment", "A named ION environment: " .. table.concat(environments.names(), ", ") .. ".")
      :argname("NAME"),
    p:option("--proxy", "Proxy for every request, e.g. http://proxy:3128 ('' for none; default: "
      .. "from https_proxy etc., see below)."):argname("URL")
  )
  p:group("Folders",
    p:flag("-r --recursive", "Upload the files in the folders given, and in their subfolders."),
    p:option("--include", "Only files matching GLOB (repeatable; see below)."):argname("GLOB"):count("*"),
    p:option("--exclude", "Leave out files and folders matching GLOB (repeatable)."):argname("GLOB"):count("*"),
    p:option("--exclude-from", "Leave out what matches a glob of FILE (one a line; # comments)."):argname("FILE")
      :count("*"),
    p:flag("--hidden", "Also take names starting with a dot."),
    p:flag("--follow", "Enter symlinks to folders (loops are detected)."),
    p:flag("--relative-names", "Name each file by its path relative to the folder, not its basename.")
  )
  p:group("How",
    p:option("--concurrency", "Files uploaded at once (default 4)."):argname("N"),
    p:option("--window", "Files per GraphQL document (default 50; 1 turns aliasing off)."):argname("N"),
    p:option("--journal", "Resume journal: run again with the same file to finish a stopped batch."):argname("FILE"),
    p:flag("--dry-run", "Check every file and look up every target, print the plan, send nothing (exit 1 if any "
      .. "file would fail)."),
    p:option("--receipts", "Append one JSON line per file attached (MD5, SHA-256, ids; see README)."):argname("FILE"),
    p:option("--limit-rate", "Cap on all transfers together, per second, as curl: 500K, 2M, 1G."):argname("RATE"),
    p:flag("--no-validate", "Do not ask ION to check the stored object (validateUpload)."),
    p:flag("--no-verify-md5", "Do not compare the MD5 of the bytes sent with the ETag (SSE-KMS buckets).")
  )
  p:group("Output",
    p:flag("--json", "One JSON object per file on stdout, in input order."),
    p:flag("--quiet", "No progress display and no per-file lines: only failures (and then the summary)."),
    p:option("--progress-interval", "Seconds between progress lines when stderr is not a terminal (default 10).")
      :argname("S"),
    p:flag("--version", "Print the version and exit."),
    p:flag("-h --help", "Show this help and exit.")
  )
  p._version_string = version
  return p
end

local function whole(s, min, max)
  local n = tonumber(s)
  if not n or n ~= math.floor(n) or n < min or n > max or not tostring(s):match("^%s*%d+%s*$") then return nil end
  return math.tointeger and math.tointeger(n) or n
end

--- Parses argv: { ... } (see below) | nil, message. The result has help or
-- version set when those were asked for; otherwise target (one kind) or
-- manifest, files, and the options.
function cli_args.parse(argv, version)
  local p = cli_args.parser(version)
  argv = rate.join_value(argv, "--limit-rate")
  local ok, a = p:pparse(argv)
  if not ok then return nil, a .. "\n(see ion-upload --help)", p end
  local out = { help = a.help, version = a.version, parser = p }
  if a.help or a.version then return out end

  local named = {}
  for _, t in ipairs(cli_args.targets) do
    local v = a[t.key]
    if v ~= nil then named[#named + 1] = { flag = t.flag, key = t.key, value = v } end
  end
  if a.manifest then
    if #named > 0 then
      return nil, "--manifest gives each file its own target: drop " .. named[1].flag
    end
    if #a.files > 0 then
      return nil, "--manifest lists the files: drop the FILE arguments (" .. a.files[1] .. ")"
    end
    if a.recursive then return nil, "--manifest lists the files itself: drop -r (it walks FILE arguments)" end
    out.manifest = a.manifest
  else
    if #named == 0 then
      return nil, "no target: name one with --run-step ID, --run ID, --procedure ID, --step ID, --part ID, "
        .. "--run-step-field ID or --entity-id ID (or use --manifest FILE)"
    end
    if #named > 1 then
      return nil, "two targets (" .. named[1].flag .. " and " .. named[2].flag .. "): name exactly one, "
        .. "or use --manifest to send files to different targets"
    end
    if #a.files == 0 then
      return nil, "no files: list the files to upload after the options"
    end
    local t = named[1]
    if t.key == "entity_id" then
      if t.value == "" or t.value:find("[%s%c]") then return nil, "--entity-id expects an entity id" end
      out.target = { entity_id = t.value }
    else
      local n = whole(t.value, 1, 2 ^ 31 - 1)
      if not n then return nil, t.flag .. " expects a positive whole number, got '" .. t.value .. "'" end
      out.target = { [t.key] = n }
    end
    out.files = a.files
  end
  if a.endpoint and a.environment then
    return nil, "--endpoint and --environment both name the endpoint: give one"
  end
  if a.environment and not environments.get(a.environment) then
    return nil, "unknown --environment '" .. a.environment .. "' (one of " .. table.concat(environments.names(), ", ")
      .. ")"
  end
  out.endpoint, out.environment = a.endpoint, a.environment
  out.profile = a.profile
  out.recursive, out.hidden, out.follow, out.relative_names = a.recursive, a.hidden, a.follow, a.relative_names
  out.include, out.exclude, out.exclude_from = a.include, a.exclude, a.exclude_from
  if not a.recursive then
    for _, f in ipairs({ { "include", "--include" }, { "exclude", "--exclude" }, { "exclude_from", "--exclude-from" },
      { "hidden", "--hidden" }, { "follow", "--follow" }, { "relative_names", "--relative-names" } }) do
      local v = a[f[1]]
      if v == true or (type(v) == "table" and #v > 0) then
        return nil, f[2] .. " applies to folders: add -r (--recursive) and name a folder"
      end
    end
  end
  out.proxy = a.proxy
  if a.concurrency then
    out.concurrency = whole(a.concurrency, 1, 1000)
    if not out.concurrency then return nil, "--concurrency expects a whole number from 1 to 1000" end
  end
  if a.window then
    out.window = whole(a.window, 1, 1000)
    if not out.window then return nil, "--window expects a whole number from 1 to 1000" end
  end
  out.journal = a.journal
  out.dry_run = a.dry_run
  out.receipts = a.receipts
  if a.limit_rate then
    local rerr
    out.limit_rate, rerr = rate.parse(a.limit_rate, "--limit-rate")
    if not out.limit_rate then return nil, rerr end
  end
  out.validate = not a.no_validate
  out.verify_md5 = not a.no_verify_md5
  out.json, out.quiet = a.json, a.quiet
  if a.progress_interval then
    local perr
    out.progress_interval, perr = require("ion.upload.cli.log_progress").parse_interval(a.progress_interval)
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
  cfg.limit_rate = args.limit_rate or profile.limit_rate
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

return cli_args
