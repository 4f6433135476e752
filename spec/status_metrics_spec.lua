-- The /metrics text (status/metrics.lua): read back by a strict parser of
-- our own (spec/support/prom_text.lua) and by `promtool check metrics`
-- where Debian's prometheus is installed.
local metrics = require("ion.upload.status.metrics")
local engine_stats = require("ion.upload.engine.stats")
local prom = require("support.prom_text")
local files = require("support.files")

local function sample_stats()
  local st = engine_stats.new()
  st:failed_with("network")
  st:failed_with("network")
  st:failed_with('we"ird\\co\nde') -- never a real code: the escaping is what is tested
  st:retried()
  st:attached(0.3)
  st:attached(42)
  local s = st:snapshot({ ok = 2, failed = 3, skipped = 1, in_doubt = 1, bytes = 12345 }, 9)
  s.waiting_for_ion, s.waiting_since = 1, 1700000000
  return s
end

describe("status metrics", function()
  it("renders every figure of job:stats() under its documented name", function()
    local s = sample_stats()
    local p = prom.parse(metrics.render(s, "0.1.0"))
    assert.equal(2, prom.value(p, "ion_upload_files_attached_total"))
    assert.equal(2, prom.value(p, "ion_upload_files_failed_total", { code = "network" }))
    assert.equal(1, prom.value(p, "ion_upload_files_failed_total", { code = 'we"ird\\co\nde' }))
    assert.equal(1, prom.value(p, "ion_upload_files_skipped_total"))
    assert.equal(1, prom.value(p, "ion_upload_files_in_doubt_total"))
    assert.equal(12345, prom.value(p, "ion_upload_sent_bytes_total"))
    assert.equal(9, prom.value(p, "ion_upload_graphql_requests_total"))
    assert.equal(1, prom.value(p, "ion_upload_retries_total"))
    assert.equal(0, prom.value(p, "ion_upload_files_queued"))
    assert.equal(1, prom.value(p, "ion_upload_waiting_for_ion"))
    assert.equal(1700000000, prom.value(p, "ion_upload_waiting_for_ion_since_seconds"))
    assert.equal(s.last_success, prom.value(p, "ion_upload_last_success_timestamp_seconds"))
    assert.equal(1, prom.value(p, "ion_upload_build_info", { version = "0.1.0" }))
    assert.equal(2, prom.value(p, "ion_upload_attach_duration_seconds_count"))
    assert.near(42.3, prom.value(p, "ion_upload_attach_duration_seconds_sum"), 1e-9)
    assert.equal(1, prom.value(p, "ion_upload_attach_duration_seconds_bucket", { le = "0.5" }))
    assert.equal(2, prom.value(p, "ion_upload_attach_duration_seconds_bucket", { le = "60" }))
    assert.equal(2, prom.value(p, "ion_upload_attach_duration_seconds_bucket", { le = "+Inf" }))
    for name, f in pairs(p.families) do
      assert.is_string(f.help, name)
      if f.type == "counter" then assert.matches("_total$", name) end
    end
  end)

  it("says 0 for a gauge with no value yet and renders fractions exactly enough", function()
    local s = engine_stats.new():snapshot({ ok = 0, failed = 0, skipped = 0, in_doubt = 0, bytes = 0 }, 0)
    local text = metrics.render(s, "x")
    local p = prom.parse(text)
    assert.equal(0, prom.value(p, "ion_upload_last_success_timestamp_seconds"))
    assert.equal(0, prom.value(p, "ion_upload_waiting_for_ion_since_seconds"))
    assert.is_nil(prom.value(p, "ion_upload_files_failed_total")) -- no code yet: no sample
    assert.equal("0.1", metrics.num(0.1))
    assert.equal("3", metrics.num(3.0))
    assert.equal("+Inf", metrics.num(math.huge))
    assert.is_truthy(text:find('le="0.25"', 1, true))
  end)

  it("the parser of the specs refuses what Prometheus refuses", function()
    assert.has_error(function() prom.parse("x 1\n") end) -- no TYPE
    assert.has_error(function() prom.parse('# TYPE x counter\nx{a="b} 1\n') end)
    assert.has_error(function() prom.parse('# TYPE x counter\nx{a="\\q"} 1\n') end)
    assert.has_error(function() prom.parse("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
      .. "h_count 1\n") end)
  end)

  it("passes promtool check metrics", function()
    local promtool = "/usr/bin/promtool"
    local fh = io.open(promtool, "r")
    if not fh then
      print("status metrics spec: promtool skipped: " .. promtool .. " is missing (Debian's prometheus)")
      return
    end
    fh:close()
    local dir = files.tmpdir()
    local path = files.write(dir, "metrics.txt", metrics.render(sample_stats(), "0.1.0"))
    local p = io.popen("env -u LD_PRELOAD " .. promtool .. " check metrics < " .. path .. " 2>&1; echo \"rc=$?\"")
    local out = p:read("*a")
    p:close()
    files.rmdir(dir)
    assert.equal("rc=0\n", out)
  end)
end)
