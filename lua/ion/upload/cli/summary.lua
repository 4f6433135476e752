-- ion-upload's last words about a batch: a short table on a terminal, one
-- line otherwise (a log), and with --json one more JSON line, {"summary":{…}},
-- as the last line of stderr. Not on stdout: docs/api.md ("--json") gives
-- stdout one JSON object per file, and scripts read every line as a file.
local output = require("ion.upload.cli.output")

local summary = {}

-- total: upload_many's summary (ok, skipped, failed, in_doubt, bytes,
-- seconds) with files (how many were asked) and doubtful (the failed files
-- whose registration may have been recorded: summary.count_doubtful). Its
-- in_doubt counts the files registered again after an earlier run left them
-- in doubt ("was_in_doubt" on their --json lines).
local function rate(total)
  return total.seconds > 0 and total.bytes / total.seconds or 0
end

--- The table's lines: a header row and a row of figures, right-aligned.
function summary.table(total)
  local cols = {
    { "attached", tostring(total.ok) }, { "skipped", tostring(total.skipped) },
    { "failed", tostring(total.failed) }, { "in doubt", tostring(total.doubtful or 0) },
    { "bytes", output.size(total.bytes) }, { "time", string.format("%.1f s", total.seconds) },
    { "rate", output.size(rate(total)) .. "/s" },
  }
  local head, row = {}, {}
  for k, c in ipairs(cols) do
    local w = math.max(#c[1], #c[2])
    head[k] = string.rep(" ", w - #c[1]) .. c[1]
    row[k] = string.rep(" ", w - #c[2]) .. c[2]
  end
  return { "  " .. table.concat(head, "  "), "  " .. table.concat(row, "  ") }
end

--- How many results failed in doubt (their registration may have been
-- recorded: check the entity, or run again with the journal).
function summary.count_doubtful(results)
  local n = 0
  for _, r in pairs(results) do
    if not r.ok and type(r.err) == "table" and r.err.in_doubt then n = n + 1 end
  end
  return n
end

--- The --json summary line, keys in a fixed order: in_doubt counts the
-- failed files in doubt (among "failed"), was_in_doubt those registered
-- again after an earlier run (among "attached"); rate is bytes per second.
function summary.json_line(total, interrupted)
  local s = string.format('{"summary":{"files":%d,"attached":%d,"skipped":%d,"failed":%d,"in_doubt":%d,'
    .. '"was_in_doubt":%d,"bytes":%d,"seconds":%.3f,"rate":%d', total.files, total.ok, total.skipped, total.failed,
    total.doubtful or 0, total.in_doubt, total.bytes, total.seconds, math.floor(rate(total) + 0.5))
  if interrupted then s = s .. ',"interrupted":true' end
  return s .. "}}"
end

--- Prints the summary. o: { stdout =, stderr =, tty = (a terminal shows the
-- display), quiet =, json = }. Quiet prints the line only after a failure.
function summary.print(total, interrupted, o)
  if o.tty then
    o.stderr:write(table.concat(summary.table(total), "\n"), "\n")
    if total.in_doubt > 0 then
      o.stderr:write(string.format("ion-upload: %d in doubt from an earlier run registered again: check for a "
        .. "duplicate\n", total.in_doubt))
    end
    if interrupted then
      o.stderr:write("ion-upload: interrupted: run the same command again to finish\n")
    end
  elseif not o.quiet or total.failed > 0 then
    o.stderr:write(output.summary_line(total, interrupted), "\n")
  end
  if o.json then
    o.stderr:write(summary.json_line(total, interrupted), "\n")
    o.stderr:flush()
  end
end

return summary
