-- The flags that ion-upload, `watch` and `verify` share, declared once: the
-- flag, its argument's name, its help and the check that turns its text into
-- a value (the library's own check where the library has one). A command's
-- parser adds those it takes (flags.group), and flags.read checks them, so a
-- flag cannot mean one thing in one command and another in the next.
local config = require("ion.upload.config")
local environments = require("ion.upload.environments")
local rate = require("ion.upload.cli.rate_value")
local shard = require("ion.upload.shard")
local target_text = require("ion.upload.cli.target_text")
local targets = require("ion.upload.targets")
local upload = require("ion.upload")

local flags = {}

local function shown(text)
  return (tostring(text):gsub("%c", "?"))
end

-- A number as a person writes it ("30", "0.5"), checked by one of the
-- library's checks (value | nil, "expected …").
local function number(check)
  return function(text, flag)
    local n = (text:match("^%d+%.?%d*$") or text:match("^%.%d+$")) and tonumber(text)
    local v, why = check(n or nil)
    if v == nil then
      return nil, flag .. " expects " .. why:gsub("^expected ", "") .. ", got '" .. shown(text) .. "'"
    end
    return math.tointeger and math.tointeger(v) or v
  end
end

local function setting(name)
  return number(function(v) return config.field(name, v) end)
end

local NAMES = table.concat(environments.names(), ", ")

local function environment(text)
  if environments.get(text) then return text end
  return nil, "unknown --environment '" .. shown(text) .. "' (one of " .. NAMES .. ")"
end

local function ca_file(text, flag)
  local v, why = config.field("ca_file", text)
  if not v then return nil, flag .. ": " .. why end
  return v
end

-- key = { flag(s), argname (false: a flag without value), help (a string, or
-- one per command with "*" for the others), check =, many = repeatable,
-- dash = its value may start with "-" (as curl: "--retries -1" is a bad count) }
flags.defs = {
  profile = { "--profile", "NAME", { upload = "A profile of the config file (default: $ION_PROFILE); see below.",
    ["*"] = "A profile of the config file (default: $ION_PROFILE)." } },
  endpoint = { "--endpoint", "URL", "GraphQL endpoint URL (default: $ION_API_URL)." },
  environment = { "--environment", "NAME", "A named ION environment: " .. NAMES .. ".", check = environment },
  proxy = { "--proxy", "URL", "Proxy for every request, e.g. http://proxy:3128 ('' for none; default: from "
    .. "https_proxy etc.)." },
  ca_file = { "--ca-file", "FILE", "Also trust the CA certificates in FILE (PEM): a private CA, or a proxy that "
    .. "inspects TLS.", check = ca_file },
  timeout = { "--timeout", "S", "Seconds a GraphQL (or token) request may take (default 30).",
    check = setting("timeout"), dash = true },
  stall_timeout = { "--stall-timeout", "S", "Abort a transfer that moves no byte for S seconds (default 60).",
    check = setting("stall_timeout"), dash = true },
  retries = { "--retries", "N", "Retries of a failure that may pass (network, 5xx, 429), with backoff (default 4).",
    check = setting("retries"), dash = true },
  concurrency = { "--concurrency", "N", "Files uploaded at once (default 4).", check = setting("concurrency"),
    dash = true },
  window = { "--window", "N", "Files per GraphQL document (default 50; 1 turns aliasing off).",
    check = number(upload.check_window), dash = true },
  journal = { "--journal", "FILE", { upload = "Resume journal: run again with the same file to finish a stopped batch "
    .. "(%k, %n: the shard's K and N).", watch = "The journal: what is done survives a restart." } },
  receipts = { "--receipts", "FILE", "Append one JSON line per file attached (MD5, SHA-256, ids; see README)." },
  shard = { "--shard", "K/N", { verify = "The shard K of N whose journal %k names (default: $ION_UPLOAD_SHARD).",
    ["*"] = "Only the files of shard K of N (K from 0), by a hash of each file's path relative to its folder "
    .. "(default: $ION_UPLOAD_SHARD; see README)." }, check = shard.parse, dash = true },
  limit_rate = { "--limit-rate", "RATE", "Cap on all transfers together, per second, as curl: 500K, 2M, 1G.",
    check = rate.parse, dash = true },
  no_validate = { "--no-validate", false, "Do not ask ION to check the stored object (validateUpload)." },
  no_verify_md5 = { "--no-verify-md5", false,
    "Do not compare the MD5 of the bytes sent with the ETag (SSE-KMS buckets)." },
  include = { "--include", "GLOB", "Only files matching GLOB (repeatable; see below).", many = true },
  exclude = { "--exclude", "GLOB", "Leave out files and folders matching GLOB (repeatable).", many = true },
  exclude_from = { "--exclude-from", "FILE", "Leave out what matches a glob of FILE (one a line; # comments).",
    many = true },
  hidden = { "--hidden", false, "Also take names starting with a dot." },
  json = { "--json", false, { upload = "One JSON object per file on stdout, in input order.",
    watch = "One JSON object per event on stdout.", verify = "One JSON object per file on stdout." } },
  quiet = { "--quiet", false, { upload = "No progress display and no per-file lines: only failures (and then the "
    .. "summary).", watch = "Only failures (no status line).", verify = "Only the files that are not ok (and the "
    .. "summary)." } },
  verbose = { "-v --verbose", false, "One line per HTTP request on stderr: method, host, status, seconds." },
  help = { "-h --help", false, "Show this help and exit." },
}

-- What each target is called in the help, and what its flag takes.
local NOUNS = target_text.nouns
local ARGNAME = { run_step = "ID|TITLE", run = "ID|F=V", procedure = "ID|F=V", step = "ID|F=V", part = "ID|F=V",
  run_step_field = "ID|NAME", entity_id = "ID" }

-- The flags that say which run step a title or position is in (not targets
-- themselves): added after the target flags.
local function run_step_options(p)
  return { p:option("--in-run", "The run of --run-step TITLE or --run-step-position N: its id or field=value "
    .. "filters."):argname("RUN"),
    p:option("--run-step-position", "Attach to the run step at this position of --in-run RUN."):argname("N") }
end

--- Adds a group to parser p for `command` ("upload", "watch", "verify"):
-- list holds keys of flags.defs ("targets": every target flag) and the
-- command's own argparse options, in the order the help lists them.
function flags.group(p, command, title, list)
  p._shared = p._shared or {}
  local elements = {}
  for _, e in ipairs(list) do
    if e == "targets" then
      for _, t in ipairs(targets.list) do
        elements[#elements + 1] = p:option(t.flag, (command == "watch" and "Attach every file to this "
          or "Attach to this ") .. NOUNS[t.key] .. "."):argname(ARGNAME[t.key])
      end
      for _, o in ipairs(run_step_options(p)) do elements[#elements + 1] = o end
    elseif type(e) == "string" then
      local d = assert(flags.defs[e], e)
      local help = type(d[3]) == "table" and (d[3][command] or d[3]["*"]) or d[3]
      local o = d[2] and p:option(d[1], help):argname(d[2]) or p:flag(d[1], help)
      if d.many then o:count("*") end
      elements[#elements + 1] = o
      p._shared[#p._shared + 1] = e
    else
      elements[#elements + 1] = e
    end
  end
  p:group(title, (unpack or table.unpack)(elements))
end

--- argv with the flags whose value may start with "-" joined to it
-- ("--retries=-1", "--part=-3"), so that the value is the one refused.
function flags.join(argv)
  for _, d in pairs(flags.defs) do
    if d.dash then argv = rate.join_value(argv, d[1]) end
  end
  for _, t in ipairs(targets.list) do argv = rate.join_value(argv, t.flag) end
  argv = rate.join_value(argv, "--in-run")
  return rate.join_value(argv, "--run-step-position")
end

--- The shared flags of parser p's result a, checked, set in out (which it
-- returns) | nil, message. --no-validate is out.validate = false, and so on.
function flags.read(p, a, out)
  for _, key in ipairs(p._shared or {}) do
    local d, v = flags.defs[key], a[key]
    if v ~= nil and d.check then
      local err
      v, err = d.check(v, d[1])
      if v == nil then return nil, err end
    end
    local negated = key:match("^no_(.*)")
    if negated then out[negated] = not v else out[key] = v end
  end
  if out.endpoint and out.environment then
    return nil, "--endpoint and --environment both name the endpoint: give one"
  end
  return out
end

--- The target flags given in a, in the usage's order: { flag, key, value }...
function flags.targets_given(a)
  local named = {}
  for _, t in ipairs(targets.list) do
    if a[t.key] ~= nil then named[#named + 1] = { flag = t.flag, key = t.key, value = a[t.key] } end
  end
  return named
end

--- One target flag's value, checked as the library checks it (ids from 1 to
-- 2^31-1), or read as field=value filters: { [key] = value } | nil, message.
function flags.target(t)
  local v, why = target_text.object(t.key, t.value)
  if v == nil then return nil, t.flag .. " " .. why end
  return { [t.key] = v }
end

local function numeric(text)
  return text ~= nil and text:match("^%-?%d+%.?%d*$") ~= nil
end

local IN_RUN = "--in-run RUN (the run's id, or field=value filters such as 'title=SN004512 final test')"

-- The run step of --run-step TITLE or --run-step-position N with --in-run RUN
-- (nil when neither names one by title or position) | nil, message.
local function run_step_in_run(a)
  if a.run_step_position and a.run_step then
    return nil, "--run-step and --run-step-position both name the run step: give one"
  end
  if not a.in_run then
    if a.run_step_position then return nil, "--run-step-position N needs " .. IN_RUN end
    if a.run_step and not numeric(a.run_step) then
      return nil, "--run-step " .. target_text.shown(a.run_step) .. " names a run step by its title: add " .. IN_RUN
    end
    return nil
  end
  if not (a.run_step or a.run_step_position) then
    return nil, "--in-run names the run of --run-step TITLE or --run-step-position N: add one"
  end
  local step, why
  if a.run_step_position then
    local n = a.run_step_position:match("^%d+$") and targets.object_id(a.run_step_position)
    if not n then
      return nil, "--run-step-position expects a position (1, 2, ...), got " .. target_text.shown(a.run_step_position)
    end
    step = { position = n }
  else
    step, why = target_text.title(a.run_step, "--run-step's title")
    if not step then return nil, why end
    step = { title = step }
  end
  local v
  v, why = target_text.run_step(a.in_run, step)
  if v == nil then return nil, "--in-run " .. why end
  return v
end

--- The target of the target flags given in a: { kind = value } | nil (none
-- given) | nil, message (a usage error). `instead` ends the message when two
-- are given ("or use --manifest …"). A run step is found by title or
-- position with --in-run; a run step field by name with the run step flags.
function flags.target_of(a, instead)
  local step, why = run_step_in_run(a)
  if why then return nil, why end
  local named = flags.targets_given(a)
  local by_name = a.run_step_field ~= nil and not numeric(a.run_step_field)
  if step or by_name then -- the run step flags say which run step: no target of their own
    local kept = {}
    for _, t in ipairs(named) do
      if not (t.key == "run_step" and (step or by_name)) then kept[#kept + 1] = t end
    end
    named = kept
  end
  if by_name then
    local container = step or (a.run_step and targets.object_id(a.run_step:match("^%d+$") and a.run_step))
    if not container then
      return nil, "--run-step-field " .. target_text.shown(a.run_step_field) .. " names a field by its name: add "
        .. "its run step, --run-step ID or --run-step TITLE (or --run-step-position N) with --in-run RUN"
    end
    local name
    name, why = target_text.title(a.run_step_field, "--run-step-field's name")
    if not name then return nil, why end
    return { run_step_field = { run_step = container, name = name } }
  end
  if step then
    if #named > 0 then
      return nil, "two targets (--run-step and " .. named[1].flag .. "): name exactly one" .. (instead or "")
    end
    return { run_step = step }
  end
  if #named == 0 then return nil end
  if #named > 1 then
    return nil, "two targets (" .. named[1].flag .. " and " .. named[2].flag .. "): name exactly one" .. (instead or "")
  end
  return flags.target(named[1])
end

return flags
