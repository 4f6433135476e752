-- The library's hints speak to a Lua caller: "set allow_http = true in
-- upload.new", "Fix the field endpoint of the table given to upload.new",
-- "pass ... as run_step". The CLI says the same with its own flags and
-- variables, or says that it has none (plain http to a remote host).
local errors = require("ion.upload.errors")
local environments = require("ion.upload.environments")

local hints = {}

local NO_HTTP = "the CLI has no flag for plain http to a host that is not loopback"
local CREDENTIALS = "Set both ION_CLIENT_ID and ION_CLIENT_SECRET (or a profile's client_id and client_secret_file)"

-- A bad_input error of upload.new names the field (err.field): how the CLI
-- sets that field.
hints.fields = {
  endpoint = "Give an https:// URL with --endpoint or ION_API_URL, or a name with --environment; " .. NO_HTTP,
  auth_url = "Give an https:// token URL in ION_AUTH_URL (or a profile's auth_url), or use --environment; "
    .. NO_HTTP,
  environment = "Give --environment one of " .. table.concat(environments.names(), ", "),
  token = "Set ION_TOKEN, or ION_CLIENT_ID and ION_CLIENT_SECRET, or name a profile with --profile",
  client_id = CREDENTIALS,
  client_secret = CREDENTIALS,
  proxy = "Give --proxy a URL such as http://proxy:3128 (or fix https_proxy, http_proxy, all_proxy); "
    .. "--proxy '' uses none",
  no_proxy = "Fix no_proxy (or NO_PROXY): host names or domains separated by commas",
  limit_rate = "Give --limit-rate as curl takes it: 500K, 2M, 1G",
  concurrency = "Give --concurrency a whole number from 1 to 1000",
  window = "Give --window a whole number from 1 to 1000",
  timeout = "Give --timeout seconds (a GraphQL request), e.g. 30",
  stall_timeout = "Give --stall-timeout seconds (a transfer that moves no byte), e.g. 60",
  retries = "Give --retries a whole number, e.g. 4",
  ca_file = "Give --ca-file (or a profile's ca_file) a readable PEM file of CA certificates",
}

-- The library's own hint of a code, where it names a Lua option.
hints.codes = {
  auth = "Check the token in ION_TOKEN, the client credentials in ION_CLIENT_ID and ION_CLIENT_SECRET, or the "
    .. "profile's: they are missing, rejected or expired",
  not_found = "Check the id: give the object's own id to --run-step, --run, --part, ... or in the manifest's id "
    .. "column, or its entity id to --entity-id",
  timeout = "Retry later: ION or storage was slow to answer; if it persists, check the network, or raise "
    .. "--timeout (GraphQL requests) or --stall-timeout (transfers)",
}

-- Phrases inside a longer hint.
hints.phrases = {
  { "set verify_md5 = false", "pass --no-verify-md5" },
  { "(the filename option)", "(the manifest's filename column)" },
}

--- The CLI's hint for err (the library's when it names no Lua option).
function hints.of(err)
  if type(err) ~= "table" then return nil end
  local h = err.hint
  if err.code == "bad_input" and err.field and hints.fields[err.field] then return hints.fields[err.field] end
  if h ~= nil and h == errors.hints[err.code] and hints.codes[err.code] then return hints.codes[err.code] end
  if type(h) == "string" then
    for _, p in ipairs(hints.phrases) do
      local a, b = h:find(p[1], 1, true)
      if a then h = h:sub(1, a - 1) .. p[2] .. h:sub(b + 1) end
    end
  end
  return h
end

--- err as the CLI tells it: "code: message (hint)", the hint in the CLI's
-- words; `message` (optional) replaces err.message (a line that names the
-- file already leaves the path out).
function hints.text(err, message)
  if type(err) ~= "table" or err.code == nil then return tostring(err) end
  local h = hints.of(err)
  local s = tostring(err.code) .. ": " .. tostring(message or err.message)
  if h and h ~= "" then s = s .. " (" .. h .. ")" end
  return s
end

return hints
