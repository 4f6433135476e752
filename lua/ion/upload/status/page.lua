-- The status page (GET /): plain HTML for a person at the station, every
-- value escaped, no script, no external resource (the plot is inline SVG),
-- refreshed by the browser itself every `refresh` seconds.
local M = {}

M.refresh = 5

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

--- Text made safe inside HTML (element content and quoted attributes).
function M.escape(s)
  return (tostring(s == nil and "" or s):gsub("[&<>\"']", ESC))
end
local esc = M.escape

local function clock(t) return t and os.date("%Y-%m-%d %H:%M:%S", t) or "never" end

local function size(n)
  if type(n) ~= "number" then return "" end
  if n < 1024 then return string.format("%d B", n) end
  if n < 1024 * 1024 then return string.format("%.1f KiB", n / 1024) end
  return string.format("%.1f MiB", n / 1048576)
end

local STYLE = [[
body{font-family:sans-serif;margin:1.5em;color:#222}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;font-size:.9em}
.state{font-size:1.2em;font-weight:bold}.bad{color:#b00}.good{color:#070}progress{width:8em}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dd{margin:0}]]

local function rows(out, header, list, row)
  if #list == 0 then
    out[#out + 1] = "<p>none</p>"
    return
  end
  out[#out + 1] = "<table><tr><th>" .. table.concat(header, "</th><th>") .. "</th></tr>"
  for _, v in ipairs(list) do
    local cells = row(v)
    for i, c in ipairs(cells) do cells[i] = "<td>" .. c .. "</td>" end
    out[#out + 1] = "<tr>" .. table.concat(cells) .. "</tr>"
  end
  out[#out + 1] = "</table>"
end

-- A polyline of values over the plot's width (0 at the bottom).
local function line(values, w, h, color)
  local max = 0
  for _, v in ipairs(values) do if v > max then max = v end end
  local pts = {}
  for i, v in ipairs(values) do
    local y = max > 0 and h - v / max * (h - 4) or h
    pts[#pts + 1] = string.format("%.1f,%.1f", (i - 1) * w / math.max(1, #values - 1), y)
  end
  return string.format('<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>', color,
    table.concat(pts, " ")), max
end

--- The plot of the last hour: files per minute and bytes per minute.
function M.plot(series)
  local files, bytes = {}, {}
  for i, s in ipairs(series) do files[i], bytes[i] = s.files, s.bytes end
  local w, h = 600, 120
  local fl, fmax = line(files, w, h, "#07c")
  local bl, bmax = line(bytes, w, h, "#c70")
  return string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
    .. 'role="img" aria-label="files and bytes per minute, last hour"><rect width="%d" height="%d" fill="#f8f8f8" '
    .. 'stroke="#ccc"/>%s%s</svg><p><span style="color:#07c">files/minute (peak %d)</span> · '
    .. '<span style="color:#c70">throughput (peak %s/min)</span> · last 60 minutes</p>',
    w, h + 2, w, h + 2, w, h + 2, fl, bl, fmax, esc(size(bmax)))
end

--- The page from v = { folder, state, stats, queue, files, errors, series, version }.
function M.render(v)
  local s = v.stats
  local out = { '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    '<meta http-equiv="refresh" content="' .. M.refresh .. '">',
    "<title>ion-upload: " .. esc(v.state) .. "</title><style>" .. STYLE .. "</style></head><body>",
    "<h1>ion-upload watch</h1><dl><dt>folder</dt><dd id=\"folder\">" .. esc(v.folder) .. "</dd>",
    '<dt>state</dt><dd id="state" class="state ' .. (v.healthy and "good" or "bad") .. '">' .. esc(v.state)
      .. "</dd>" }
  local figures = {
    { "attached", "files_attached" }, { "failed", "files_failed" }, { "skipped", "files_skipped" },
    { "in doubt", "files_in_doubt" }, { "queued", "files_queued" }, { "bytes sent", "bytes_sent" },
    { "GraphQL requests", "graphql_requests" }, { "retries", "retries" },
  }
  for _, f in ipairs(figures) do
    out[#out + 1] = "<dt>" .. f[1] .. '</dt><dd id="' .. f[2] .. '">' .. esc(string.format("%.0f", s[f[2]] or 0))
      .. "</dd>"
  end
  out[#out + 1] = "<dt>last success</dt><dd id=\"last_success\">" .. esc(clock(s.last_success)) .. "</dd></dl>"
  out[#out + 1] = "<h2>Queue</h2>"
  rows(out, { "file", "state", "progress" }, v.queue, function(q)
    local total = q.size or 0
    return { esc(q.rel), esc(q.state), string.format('<progress max="%d" value="%d"></progress> %s of %s',
      math.max(total, 1), math.min(q.bytes or 0, total), esc(size(q.bytes or 0)), esc(size(total))) }
  end)
  out[#out + 1] = "<h2>Last files</h2>"
  local files = {}
  for i = #v.files, 1, -1 do files[#files + 1] = v.files[i] end -- newest first
  rows(out, { "file", "target", "attachment id", "size", "time", "outcome" }, files, function(f)
    return { esc(f.rel), esc(f.target), esc(f.id), esc(size(f.size)), esc(clock(f.time)), esc(f.outcome) }
  end)
  out[#out + 1] = "<h2>Errors</h2>"
  local errs = {}
  for i = #v.errors, 1, -1 do errs[#errs + 1] = v.errors[i] end
  rows(out, { "time (last)", "file", "times", "error", "hint" }, errs, function(e)
    return { esc(clock(e.time)), esc(e.rel), esc(e.times), esc((e.code or "?") .. ": " .. tostring(e.message)),
      esc(e.hint) }
  end)
  out[#out + 1] = "<h2>Last hour</h2>" .. M.plot(v.series)
  out[#out + 1] = "<p>ion-upload " .. esc(v.version) .. " · <a href=\"metrics\">metrics</a> · "
    .. "<a href=\"healthz\">health</a> · this page refreshes every " .. M.refresh .. " s</p></body></html>\n"
  return table.concat(out, "\n")
end

return M
