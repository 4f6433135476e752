-- integration: the status page in a real browser. `ion-upload watch
-- --status` runs against the sandbox; Debian's headless Chromium loads the
-- page (--dump-dom: the DOM after it was parsed and laid out) and takes a
-- screenshot. With ION_STATUS_SCREENSHOT=PATH the screenshot is kept there
-- (docs/screens/status.png was made so).
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local prom = require("support.prom_text")

local CHROMIUM = "/usr/bin/chromium"
local XSS = "<img src=x onerror=alert(1)>.csv"
local q = run.quote

local function have(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function chromium(args)
  local profile = os.tmpname()
  os.remove(profile)
  -- (env -u LD_PRELOAD: not under the sanitizers of `make sanitize`)
  local p = io.popen("env -u LD_PRELOAD timeout 90 " .. CHROMIUM .. " --headless --no-sandbox --disable-gpu "
    .. "--no-first-run --user-data-dir=" .. q(profile) .. " " .. args .. " 2>/dev/null")
  local out = p:read("*a")
  p:close()
  os.execute("rm -rf " .. q(profile))
  return out
end

local function curl(url)
  local p = io.popen("env -u LD_PRELOAD curl -s --max-time 10 " .. q(url))
  local out = p:read("*a")
  p:close()
  return out
end

-- The text of the element of the dumped DOM with this id.
local function by_id(dom, id)
  local at = dom:find('id="' .. id .. '"', 1, true)
  if not at then return nil end
  local open_end = dom:find(">", at, true)
  local close = dom:find("<", open_end, true)
  return dom:sub(open_end + 1, close - 1)
end

describe("integration: the status page in headless Chromium", function()
  it("shows the last file with its attachment id, the outage and back, names as text, the numbers of /metrics",
    function()
      if not have(CHROMIUM) then
        print("status browser spec skipped: " .. CHROMIUM .. " is missing (Debian's chromium)")
        return
      end
      sandbox.get()
      sandbox.reset()
      local dir = files.tmpdir()
      local pid, _, errfile = run.background({ "watch", dir, "--run-step", "12", "--settle", "0.1",
        "--retries", "0", "--status", "127.0.0.1:0" })
      local port
      assert(run.wait_for(function()
        port = run.read(errfile):match("status page on [^\n]* %(port (%d+)%)")
        return port ~= nil
      end, 20), "no status line: " .. run.read(errfile))
      local base = "http://127.0.0.1:" .. port
      local ok, err = pcall(function()
        files.write(dir, XSS, "a,b\n1,2\n")
        files.write(dir, "first.txt", "first file")
        local dom
        assert(run.wait_for(function()
          dom = chromium("--dump-dom " .. q(base .. "/"))
          return by_id(dom, "files_attached") == "2" and by_id(dom, "files_queued") == "0"
        end, 60), "the page never showed 2 files attached:\n" .. tostring(dom))
        -- the file name is text: escaped in the DOM, no element made of it
        assert.is_nil(dom:find("<img", 1, true))
        assert.is_truthy(dom:find("&lt;img src=x onerror=alert(1)&gt;.csv", 1, true))
        local id
        for _, a in ipairs(sandbox.attachments()) do
          if a.filename == XSS then id = string.format("%d", a.id) end
        end
        assert.is_truthy(dom:find("<td>" .. id .. "</td>", 1, true), "attachment id " .. tostring(id))
        assert.equal("idle", by_id(dom, "state"))
        for _, secret in ipairs(sandbox.secrets()) do assert.is_nil(dom:find(secret, 1, true)) end
        -- the numbers on the page are those of /metrics
        local p = prom.parse(curl(base .. "/metrics"))
        for field, metric in pairs({ files_attached = "ion_upload_files_attached_total",
          files_skipped = "ion_upload_files_skipped_total", files_in_doubt = "ion_upload_files_in_doubt_total",
          files_queued = "ion_upload_files_queued", bytes_sent = "ion_upload_sent_bytes_total",
          graphql_requests = "ion_upload_graphql_requests_total", retries = "ion_upload_retries_total" }) do
          assert.equal(prom.value(p, metric), tonumber(by_id(dom, field)), field)
        end

        -- an outage: the state says so, then comes back
        sandbox.admin("POST", "/outage", { target = "both", mode = "refuse", seconds = 8 })
        files.write(dir, "during-outage.txt", "written while ION is down")
        assert(run.wait_for(function()
          dom = chromium("--dump-dom " .. q(base .. "/"))
          return (by_id(dom, "state") or ""):match("^waiting for ION since %d%d:%d%d:%d%d$") ~= nil
        end, 30), "the page never said waiting for ION:\n" .. dom)
        assert.is_truthy(dom:find("during-outage.txt", 1, true)) -- in the queue
        assert(run.wait_for(function()
          dom = chromium("--dump-dom " .. q(base .. "/"))
          return by_id(dom, "state") == "idle" and by_id(dom, "files_attached") == "3"
        end, 60), "the page never came back from the outage:\n" .. dom)

        local shot = os.getenv("ION_STATUS_SCREENSHOT") or (os.tmpname() .. ".png")
        chromium("--window-size=1100,1250 --hide-scrollbars --screenshot=" .. q(shot) .. " " .. q(base .. "/"))
        assert.equal("\137PNG", files.read(shot):sub(1, 4))
        if not os.getenv("ION_STATUS_SCREENSHOT") then os.remove(shot) end
      end)
      os.execute("kill " .. pid)
      run.wait_for(function() return not run.alive(pid) end, 20)
      files.rmdir(dir)
      assert(ok, err)
    end)
end)
