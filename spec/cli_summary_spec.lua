-- Unit spec: ion-upload's closing summary (summary.lua): the table on a
-- terminal, the line in a log, the --json line. Sinks stand in for stdout
-- and stderr; the real CLI's summary is in spec/integration/cli_progress_spec.lua.
local cjson = require("cjson")
local summary = require("ion.upload.cli.summary")

local function sink()
  local s = { text = "" }
  function s.write(_, ...) s.text = s.text .. table.concat({ ... }) end
  function s.flush() end
  return s
end

local function total(t)
  local base = { files = 12, ok = 9, skipped = 1, failed = 2, in_doubt = 0, doubtful = 1,
    bytes = 3 * 1024 * 1024, seconds = 2 }
  for k, v in pairs(t or {}) do base[k] = v end
  return base
end

describe("ion.upload.cli.summary", function()
  it("draws a short table: attached, skipped, failed, in doubt, bytes, time, rate", function()
    assert.same({
      "  attached  skipped  failed  in doubt    bytes   time       rate",
      "         9        1       2         1  3.0 MiB  2.0 s  1.5 MiB/s",
    }, summary.table(total()))
    local lines = summary.table(total({ ok = 12345, seconds = 0 }))
    assert.matches("^ +12345 ", lines[2])
    assert.equal(#lines[1], #lines[2])
    assert.matches("0 B/s$", lines[2])
  end)

  it("writes one JSON summary line, told apart from the files' lines", function()
    local line = summary.json_line(total({ in_doubt = 3 }), false)
    assert.equal('{"summary":{"files":12,"attached":9,"skipped":1,"failed":2,"in_doubt":1,"was_in_doubt":3,'
      .. '"bytes":3145728,"seconds":2.000,"rate":1572864}}', line)
    local s = cjson.decode(line).summary
    assert.equal(12, s.files)
    assert.is_nil(cjson.decode(line).path)
    assert.is_true(cjson.decode(summary.json_line(total(), true)).summary.interrupted)
  end)

  it("counts the failures in doubt", function()
    assert.equal(2, summary.count_doubtful({ { ok = true }, { ok = false, err = { in_doubt = true } },
      { ok = false, err = { code = "http" } }, { ok = false, err = { in_doubt = true } }, { ok = false, err = "x" } }))
  end)

  it("prints the table on a terminal, the line otherwise, and the JSON line with --json", function()
    local cases = {
      { o = { tty = true }, err = "attached  skipped", out = "" },
      { o = { tty = false }, err = "^ion%-upload: 9 attached, 1 skipped, 2 failed; 3%.0 MiB in 2%.0 s\n$", out = "" },
      { o = { tty = false, quiet = true }, t = { failed = 0 }, err = "^$", out = "" },
      { o = { tty = false, quiet = true }, err = "2 failed", out = "" },
      { o = { tty = false, quiet = true, json = true }, t = { failed = 0 }, err = '^{"summary":{.*}}\n$', out = "^$" },
      { o = { tty = true, json = true }, interrupted = true,
        err = 'interrupted: run the same command again.*\n{"summary":{.*"interrupted":true}}\n$', out = "^$" },
      { o = { tty = true }, t = { in_doubt = 2 }, err = "2 in doubt from an earlier run registered again", out = "" },
    }
    for n, c in ipairs(cases) do
      local out, err = sink(), sink()
      c.o.stdout, c.o.stderr = out, err
      summary.print(total(c.t), c.interrupted, c.o)
      assert.matches(c.err, err.text, 1, false, "case " .. n)
      assert.matches(c.out, out.text)
      if c.out == "" then assert.equal("", out.text, "case " .. n) end
      assert.not_matches("\27", err.text .. out.text)
    end
  end)
end)
