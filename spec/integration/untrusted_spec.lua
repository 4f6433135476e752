-- integration: what a server sends is untrusted (sandbox hostile modes).
-- Text built to make patterns backtrack ends in its documented code within
-- seconds (each call runs in a child Lua under `timeout`, so a hang fails
-- instead of hanging the suite); ids no client can keep are `protocol`;
-- echoed credentials are scrubbed; nothing raw reaches the terminal.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local interpreter = require("support.interpreter")

local q = files.quote

-- Every string in v (keys too), for a scan.
local function strings(v, out, depth)
  out, depth = out or {}, depth or 0
  if type(v) == "string" then out[#out + 1] = v end
  if type(v) == "table" and depth < 30 then
    for k, x in pairs(v) do
      strings(k, out, depth + 1)
      strings(x, out, depth + 1)
    end
  end
  return out
end

describe("integration: untrusted server text", function()
  local dir, photo

  setup(function()
    sandbox.get()
    dir = files.tmpdir()
    photo = files.write(dir, "photo.jpg", string.rep("u", 100000))
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  -- Arms `mode`, then uploads photo in a child Lua (retries = 0): its error
  -- code, the seconds the call took, its message, or fails when the child
  -- did not finish within the guard.
  local GUARD = 30
  local function child_upload(mode, many)
    local s = sandbox.get()
    sandbox.admin("POST", "/hostile", { mode = mode, count = 1 })
    local script = files.write(dir, "child.lua", string.format([[
package.path = "lua/?.lua;" .. package.path
local upload = require("ion.upload")
local core = require("ion.upload.core")
local c = assert(upload.new({ endpoint = %q, token = %q, retries = 0, timeout = 20, stall_timeout = 20 }))
local t0 = core.now()
local att, err
if %s then
  local results = c:upload_many({ { path = %q, target = { run = 1 } } }, { window = 1 })
  att, err = results[1].attachment, results[1].err
else
  att, err = c:upload(%q, { run = 1 })
end
io.write(err and err.code or "ok", " ", string.format("%%.3f", core.now() - t0), "\n", tostring(err), "\n")
]], s.graphql, s.tokens.rw, tostring(many == true), photo, photo))
    local out = dir .. "/child.out"
    local p = io.popen(string.format("cd %s && LUA_CPATH=%s timeout %d %s %s >%s 2>&1; echo $?", q(sandbox.root),
      q(package.cpath), GUARD, interpreter, q(script), q(out)))
    local status = tonumber(p:read("*l"))
    p:close()
    local text = files.read(out) or ""
    assert.equal(0, status, mode .. ": the client did not return within " .. GUARD .. " s (124: killed): "
      .. text:sub(1, 500))
    local code, seconds, message = text:match("^(%S+) (%S+)\n(.*)$")
    return code, tonumber(seconds), message
  end

  for _, case in ipairs({
    { "s3_error_backtrack", "http" },                      -- 500, <Error><Code> + 1 MiB of spaces
    { "slowdown_retry_after_backtrack", "rate_limited" },  -- 503 SlowDown, Retry-After of 60,001 bytes
    { "retry_after_backtrack", "rate_limited" },           -- GraphQL 429, the same Retry-After
    { "error_message_backtrack", "graphql" },              -- GraphQL error message of 1 MiB of "eyJ"
  }) do
    local mode, want = case[1], case[2]
    for _, many in ipairs({ false, true }) do
      it(mode .. " -> " .. want .. " within seconds (" .. (many and "upload_many" or "upload") .. ")", function()
        local code, seconds, message = child_upload(mode, many)
        io.stderr:write(string.format("untrusted: %s (%s) -> %s in %.3f s\n", mode, many and "upload_many" or "upload",
          tostring(code), seconds or -1))
        assert.equal(want, code, message)
        assert.is_true(seconds < 5, mode .. " took " .. tostring(seconds) .. " s")
        assert.is_true(#message < 1500)
        assert.equal(0, #sandbox.attachments())
      end)
    end
  end

  for _, mode in ipairs({ "attachment_id_nan", "attachment_id_huge", "attachment_id_escape" }) do
    it(mode .. ": the registration's id is no id -> protocol, in doubt (it was recorded)", function()
      sandbox.admin("POST", "/hostile", { mode = mode, count = 1 })
      local c = sandbox.client({ retries = 0 })
      local ok, att, err = pcall(c.upload, c, photo, { run = 1 })
      assert.is_true(ok, tostring(att))
      assert.is_nil(att)
      assert.equal("protocol", err.code, tostring(err))
      assert.is_true(err.in_doubt)
      assert.equal(1, #sandbox.attachments())
    end)
  end

  it("attachment_id_huge in upload_many with a journal: no raise, protocol in doubt, the rerun finishes", function()
    local journal = dir .. "/ids.journal"
    os.remove(journal)
    sandbox.admin("POST", "/hostile", { mode = "attachment_id_huge", count = 1 })
    local c = sandbox.client({ retries = 0 })
    local items = { { path = photo, target = { run = 1 } } }
    local ok, results = pcall(c.upload_many, c, items, { journal = journal, window = 1 })
    assert.is_true(ok, tostring(results))
    assert.equal("protocol", results[1].err.code, tostring(results[1].err))
    assert.is_true(results[1].err.in_doubt)
    assert.matches('"e":"in_doubt"', files.read(journal), 1, true)
    local again, summary = c:upload_many(items, { journal = journal, window = 1 })
    assert.is_true(again[1].ok, tostring(again[1].err))
    assert.equal(1, summary.ok)
  end)

  it("entity_id_huge: an entity { id } of 1e999 -> protocol, in upload and upload_many", function()
    sandbox.admin("POST", "/hostile", { mode = "entity_id_huge", count = 1 })
    local c = sandbox.client({ retries = 0 })
    local att, err = c:upload(photo, { run_step = 2 })
    assert.is_nil(att)
    assert.equal("protocol", err.code, tostring(err))
    sandbox.admin("POST", "/hostile", { mode = "entity_id_huge", count = 1 })
    local results = sandbox.client({ retries = 0 }):upload_many({ { path = photo, target = { run_step = 3 } } })
    assert.equal("protocol", results[1].err.code, tostring(results[1].err))
    assert.equal(0, #sandbox.attachments())
  end)

  it("the CLI prints no ESC, CR or LF a server sent in an id", function()
    sandbox.admin("POST", "/hostile", { mode = "attachment_id_escape", count = 1 })
    local r = run.cli({ "--run", "1", photo })
    assert.equal(1, r.code, r.stderr)
    assert.not_matches("[\27\7]", r.stderr .. r.stdout)
    assert.not_matches("forged", r.stderr, 1, true)
    assert.matches("FAIL  " .. photo .. ": protocol", r.stderr, 1, true)
    local lines = 0
    for _ in r.stderr:gmatch("\n") do lines = lines + 1 end
    assert.equal(2, lines, r.stderr) -- the file's line and the summary
  end)

  it("echo_credentials: an echoed token, client secret and signed URL are scrubbed everywhere in err", function()
    local s = sandbox.get()
    local clients = {
      oauth = sandbox.client({ token = false, client_id = s.oauth.client_id, client_secret = s.oauth.client_secret,
        auth_url = s.oauth.token_url, retries = 0 }),
      token_function = sandbox.client({ token = function() return s.tokens.rw end, retries = 0 }),
    }
    for name, c in pairs(clients) do
      sandbox.admin("POST", "/hostile", { mode = "echo_credentials", count = 1 })
      local att, err = c:upload(photo, { run = 1 })
      assert.is_nil(att, name)
      assert.equal("graphql", err.code, name .. ": " .. tostring(err))
      assert.is_table(err.errors, name .. ": the server's errors[] are kept")
      local text = tostring(err) .. "\n" .. table.concat(strings(err), "\n")
      assert.matches("upload refused", text, 1, true)
      for _, secret in ipairs(sandbox.secrets()) do
        -- the token-function client cannot know the OAuth client secret
        if not (name == "token_function" and secret == s.oauth.client_secret) then
          assert.is_nil(text:find(secret, 1, true), name .. ": a secret of " .. #secret .. " bytes is shown")
        end
      end
      assert.not_matches("X-Amz-Signature=%x", text)
    end
  end)
end)
