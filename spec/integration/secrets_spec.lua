-- integration: credentials never escape. The scanner CI runs over the whole
-- test output (scripts/scan_secrets.sh) is checked on planted leaks, then
-- applied here to everything a run of failures writes: the CLI's stdout and
-- stderr (plain and --json), its journal, and the library's error strings,
-- against every token, client secret and X-Amz-Signature the sandbox issued;
-- and the -v lines (one per request) of such runs.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")

local q = files.quote

-- Runs the scanner: exit code, its output.
local function scan(secrets_file, ...)
  local logs = {}
  for _, l in ipairs({ ... }) do logs[#logs + 1] = q(l) end
  local out = os.tmpname()
  local p = io.popen(string.format("bash %s/scripts/scan_secrets.sh %s %s >%s 2>&1; echo $?", q(sandbox.root),
    q(secrets_file), table.concat(logs, " "), q(out)))
  local code = tonumber(p:read("*l"))
  p:close()
  local text = files.read(out)
  os.remove(out)
  return code, text
end

describe("integration: secrets", function()
  local dir

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  it("the scanner finds a planted token and signature without printing them; a clean log passes", function()
    local secret = "sbx_rw_" .. string.rep("Zq9", 8)
    local sig = string.rep("ab", 32)
    local secrets = files.write(dir, "planted.txt", secret .. "\n" .. sig .. "\n")
    local leak = files.write(dir, "leak.log", "ok\nAuthorization: Bearer " .. secret .. "\n")
    local url = files.write(dir, "url.log", "PUT http://h/k?X-Amz-Signature=" .. string.rep("cd", 32) .. "\n")
    local clean = files.write(dir, "clean.log", "nothing to see\n")
    local code, text = scan(secrets, leak)
    assert.equal(1, code)
    assert.matches("leak.log:2", text, 1, true)
    assert.is_nil(text:find(secret, 1, true))
    code, text = scan(secrets, url) -- any signature, logged or not
    assert.equal(1, code)
    assert.is_nil(text:find(string.rep("cd", 32), 1, true))
    code = scan(secrets, clean)
    assert.equal(0, code)
    code = scan(dir .. "/no-such-file", clean) -- scanning for nothing proves nothing
    assert.equal(2, code)
  end)

  it("a run of failures leaks nothing: CLI output, journal and error strings scanned", function()
    local state = sandbox.get()
    local photo = files.write(dir, "photo.jpg", string.rep("s", 70000))
    local journal = dir .. "/run.journal"
    local outputs = {}
    local function cli(args, env)
      local r = run.cli(args, env)
      outputs[#outputs + 1] = r.stdout .. r.stderr
      return r
    end
    sandbox.faults({ seed = 4, storage_503_rate = 0.3, storage_expire_rate = 0.3, strip_etag_rate = 0.2,
      graphql_5xx_rate = 0.2, retry_after_s = 0.01 })
    for _, args in ipairs({
      { "--run", "1", "--journal", journal, photo, photo },
      { "--json", "--run", "2", "--journal", journal, photo },
      { "--json", "--part", "41", photo },           -- released part: permission_denied
      { "--json", "--run-step", "99999", photo },     -- not_found
    }) do
      cli(args)
    end
    cli({ "--json", "--run", "3", photo }, { ION_TOKEN = state.tokens.expired })
    cli({ "--json", "--run", "3", photo }, { ION_TOKEN = state.tokens.ro })
    cli({ "--json", "--run", "3", photo }, { ION_TOKEN = "sbx_rw_not-a-real-token-at-all" })
    sandbox.faults({ storage_expire_rate = 1, storage_503_rate = 0, strip_etag_rate = 0, graphql_5xx_rate = 0 })
    -- the client-credentials flow too, so an issued token is among the secrets
    local r = run.cli({ "--json", "--run", "4", photo }, {
      ION_TOKEN = false, ION_CLIENT_ID = state.oauth.client_id, ION_CLIENT_SECRET = state.oauth.client_secret,
      ION_AUTH_URL = state.oauth.token_url })
    outputs[#outputs + 1] = r.stdout .. r.stderr
    assert.matches('"code":"url_expired"', r.stdout, 1, true)
    -- the library's own error strings, from hostile answers that echo a URL
    sandbox.faults({ storage_expire_rate = 0 })
    for _, mode in ipairs({ "upload_url_ftp", "content_type_crlf", "redirect_put", "etag_huge", "html_200" }) do
      sandbox.admin("POST", "/hostile", { mode = mode, count = 1 })
      local c = sandbox.client({ retries = 0 })
      local att, err = c:upload(photo, { run = 5 })
      outputs[#outputs + 1] = att and "" or tostring(err)
    end
    outputs[#outputs + 1] = files.read(journal) or ""
    local log = files.write(dir, "outputs.log", table.concat(outputs, "\n"))

    local secrets = sandbox.secrets()
    local sigs, issued = 0, 0
    for _, s in ipairs(secrets) do
      if s:match("^%x+$") and #s == 64 then sigs = sigs + 1 end
      if s:match("^[%w_-]+%.[%w_-]+%.[%w_-]+$") then issued = issued + 1 end
    end
    assert.is_true(sigs >= 10, "only " .. sigs .. " signatures issued")
    assert.is_true(issued >= 1, "no token issued by the token endpoint")
    local list = files.write(dir, "secrets.txt", table.concat(secrets, "\n") .. "\n")
    local code, text = scan(list, log)
    assert.equal(0, code, text)
    -- and the scan would have seen them: the log is not empty of what matters
    assert.truthy(table.concat(outputs):find('"ok":false', 1, true))
  end)

  it("-v lines leak nothing: no token, no signature, no query string, through failures and retries", function()
    local state = sandbox.get()
    local photo = files.write(dir, "v.jpg", string.rep("v", 70000))
    local inbox = dir .. "/v-in"
    assert(os.execute("mkdir -p '" .. inbox .. "'"))
    files.write(inbox, "w.txt", "watched")
    local receipts = dir .. "/v.receipts"
    sandbox.faults({ seed = 5, storage_503_rate = 0.3, storage_expire_rate = 0.3, graphql_5xx_rate = 0.2,
      retry_after_s = 0.01 })
    local outputs, lines = {}, 0
    local function cli(args, env)
      local r = run.cli(args, env)
      outputs[#outputs + 1] = r.stdout .. r.stderr
      for line in r.stderr:gmatch("[^\n]+") do
        if line:find(" s %((%a+)%)$") then
          lines = lines + 1
          assert.is_nil(line:find("?", 1, true), "a -v line holds a query string (not printed here)")
        end
      end
    end
    cli({ "-v", "--run", "1", "--receipts", receipts, photo, photo })
    cli({ "-v", "--json", "--run", "2", photo }, {
      ION_TOKEN = false, ION_CLIENT_ID = state.oauth.client_id, ION_CLIENT_SECRET = state.oauth.client_secret,
      ION_AUTH_URL = state.oauth.token_url })
    cli({ "-v", "--run", "3", photo }, { ION_TOKEN = "sbx_rw_not-a-real-token-at-all" })
    cli({ "watch", inbox, "-v", "--run", "4", "--once", "--settle", "0" })
    sandbox.faults({ storage_503_rate = 0, storage_expire_rate = 0, graphql_5xx_rate = 0 })
    cli({ "verify", "-v", "--receipts", receipts })
    assert.is_true(lines >= 15, lines .. " -v lines")
    local log = files.write(dir, "verbose.log", table.concat(outputs, "\n"))
    local list = files.write(dir, "secrets-v.txt", table.concat(sandbox.secrets(), "\n") .. "\n")
    local code, text = scan(list, log)
    assert.equal(0, code, text)
  end)
end)
