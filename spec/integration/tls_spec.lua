-- integration: https. A second sandbox is started with --tls (a CA made for
-- the run, its file in the state). The client refuses the server without
-- ca_file (network, the certificate named), works with it, cannot be told to
-- skip verification, and refuses URLs that downgrade https to http. The
-- CLI's --ca-file does the same for ion-upload, watch and verify.
local sandbox = require("support.sandbox")
local files = require("support.files")
local upload = require("ion.upload")

describe("integration: TLS", function()
  local tls, dir, photo

  setup(function()
    tls = sandbox.spawn({ "--tls" })
    dir = files.tmpdir()
    photo = files.write(dir, "photo.jpg", string.rep("t", 300000))
  end)
  teardown(function()
    if tls then tls:stop() end
    files.rmdir(dir)
  end)
  before_each(function() tls:admin("POST", "/reset") end)

  local function counters() return tls:admin("GET", "/counters") end

  it("serves https with the run's CA", function()
    assert.matches("^https://", tls.state.graphql)
    assert.matches("^https://", tls.state.storage)
    assert.truthy(files.read(tls.state.ca_file):find("BEGIN CERTIFICATE", 1, true))
  end)

  it("without ca_file: refused as network, the certificate named, nothing sent", function()
    local c = tls:client({ retries = 0 })
    local att, err = c:upload(photo, { run = 1 })
    assert.is_nil(att)
    assert.equal("network", err.code, tostring(err))
    assert.matches("certificate", err.message)
    assert.equal(0, counters().graphql.requests)
    -- and the core alone, on storage
    local res, cerr = require("ion.upload.core").request({ url = tls.state.storage .. "/", timeout = 5 })
    assert.is_nil(res)
    assert.equal("network", cerr.code)
    assert.matches("certificate", cerr.message)
  end)

  it("with ca_file: the three steps over https, the object's MD5 checked, read back", function()
    local c = tls:client({ ca_file = tls.state.ca_file })
    local att = assert(c:upload(photo, { run_step = 1 }))
    assert.equal(files.md5(photo), att.md5)
    local stored = tls:admin("GET", "/attachments")
    assert.equal(1, #stored)
    assert.equal(att.md5, stored[1].md5)
    local copy = dir .. "/copy.jpg"
    assert(c:download(att.id, copy))
    assert.equal(att.md5, files.md5(copy))
    local results = c:upload_many({ { path = photo, target = { run = 2 } }, { path = photo, target = { part = 3 } } })
    assert.is_true(results[1].ok and results[2].ok)
  end)

  it("another CA's file does not help", function()
    local other = dir .. "/other-ca.pem"
    assert.truthy(os.execute(string.format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      .. "-keyout %s/other.key -out %s -subj /CN=other-ca -days 1 >/dev/null 2>&1", dir, other)))
    local c = tls:client({ ca_file = other, retries = 0 })
    local att, err = c:upload(photo, { run = 1 })
    assert.is_nil(att)
    assert.equal("network", err.code)
    assert.matches("certificate", err.message)
  end)

  it("verification cannot be turned off: no option for it in upload.new or the core", function()
    local s = tls.state
    for _, opt in ipairs({ "insecure", "verify", "ssl_verify", "verify_peer", "verify_host", "tls_verify",
      "ssl_verifypeer", "no_verify", "skip_verify" }) do
      for _, v in ipairs({ false, true, 0 }) do
        local c, err = upload.new({ endpoint = s.graphql, token = s.tokens.rw, [opt] = v })
        assert.is_nil(c, opt)
        assert.equal("bad_input", err.code)
        assert.equal(opt, err.field)
      end
    end
    for _, bad in ipairs({ "", false, 0 }) do
      local c, err = upload.new({ endpoint = s.graphql, token = s.tokens.rw, ca_file = bad })
      assert.is_nil(c)
      assert.equal("ca_file", err.field)
    end
    -- the core raises on an unknown request option (a misuse), and sets
    -- CURLOPT_SSL_VERIFYPEER/HOST unconditionally (csrc/request.c)
    local core = require("ion.upload.core")
    for _, opt in ipairs({ "insecure", "verify", "ssl_verifypeer", "verify_peer" }) do
      local ok, e = pcall(core.request, { url = s.storage .. "/", [opt] = false, timeout = 5 })
      assert.is_false(ok, opt)
      assert.matches(opt, tostring(e), 1, true)
    end
    local src = files.read(sandbox.root .. "/csrc/request.c")
    assert.truthy(src:find("SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);", 1, true))
    assert.truthy(src:find("SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);", 1, true))
    local ls = io.popen("ls " .. sandbox.root .. "/csrc/*.c")
    local n = 0
    for f in ls:lines() do
      local text = assert(files.read(f))
      assert.is_nil(text:find("VERIFYPEER, 0", 1, true), f)
      assert.is_nil(text:find("VERIFYHOST, 0", 1, true), f)
      n = n + 1
    end
    ls:close()
    assert.is_true(n > 10)
  end)

  it("the CLI's --ca-file: ion-upload, watch and verify over https; without it the certificate is named", function()
    local run = require("support.cli_run")
    local env = { ION_API_URL = tls.state.graphql, ION_TOKEN = tls.state.tokens.rw }
    local r = run.cli({ "--run-step", "1", "--retries", "0", photo }, env)
    assert.equal(1, r.code)
    assert.matches("certificate", r.stderr)
    local receipts = dir .. "/tls.receipts"
    r = run.cli({ "--run-step", "1", "--ca-file", tls.state.ca_file, "--receipts", receipts, photo }, env)
    assert.equal(0, r.code, r.stderr)
    local inbox = dir .. "/in"
    assert(os.execute("mkdir -p '" .. inbox .. "'"))
    files.write(inbox, "w.txt", "over https")
    r = run.cli({ "watch", inbox, "--run", "2", "--once", "--settle", "0", "--retries", "0" }, env)
    assert.equal(1, r.code)
    assert.matches("certificate", r.stderr)
    r = run.cli({ "watch", inbox, "--run", "2", "--once", "--settle", "0", "--ca-file", tls.state.ca_file }, env)
    assert.equal(0, r.code, r.stderr)
    r = run.cli({ "verify", "--receipts", receipts, "--retries", "0" }, env)
    assert.equal(1, r.code)
    r = run.cli({ "verify", "--receipts", receipts, "--ca-file", tls.state.ca_file }, env)
    assert.equal(0, r.code, r.stdout .. r.stderr)
    assert.equal(2, #tls:admin("GET", "/attachments"))
  end)

  it("an uploadUrl that downgrades https to http -> protocol, nothing PUT", function()
    tls:admin("POST", "/hostile", { mode = "upload_url_http_downgrade", count = 10 })
    local c = tls:client({ ca_file = tls.state.ca_file })
    local att, err = c:upload(photo, { run = 1 })
    assert.is_true(att == nil, "uploaded") -- (never print an attachment: its downloadUrl is signed)
    assert.equal("protocol", err.code, tostring(err))
    assert.matches("downgrade", err.message)
    local results = c:upload_many({ { path = photo, target = { run = 2 } } })
    assert.equal("protocol", results[1].err.code, tostring(results[1].err))
    assert.equal(0, counters().storage.puts)
    assert.equal(0, #tls:admin("GET", "/attachments"))
  end)

  it("a downloadUrl that downgrades https to http -> protocol, nothing fetched", function()
    local c = tls:client({ ca_file = tls.state.ca_file })
    local att = assert(c:upload(photo, { run = 1 }))
    tls:admin("POST", "/hostile", { mode = "download_url_http_downgrade", count = 10 })
    local a, err = c:attachment(att.id)
    assert.is_true(a == nil, "answered")
    assert.equal("protocol", err.code, tostring(err))
    local ok, derr = c:download(att.id, dir .. "/never.jpg")
    assert.is_nil(ok)
    assert.equal("protocol", derr.code)
    assert.is_nil(files.read(dir .. "/never.jpg"))
    assert.equal(0, counters().storage.gets)
  end)
end)
