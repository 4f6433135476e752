-- job:stats() as Prometheus' text exposition format 0.0.4 (GET /metrics of
-- `ion-upload watch --status`). The names follow Prometheus' conventions:
-- ion_upload_ prefix, _total on counters, base units (seconds, bytes).
-- docs/api.md ("job:stats()") lists them beside the fields they come from.
local M = {}

M.content_type = "text/plain; version=0.0.4; charset=utf-8"

-- A label value: backslash, double quote and line feed escaped.
function M.label(v)
  return (tostring(v):gsub("[\\\"\n]", { ["\\"] = "\\\\", ["\""] = "\\\"", ["\n"] = "\\n" }))
end

-- A sample value: integers without a fraction, others in up to 10 digits.
local function num(v)
  if v == nil then return "0" end
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" end
  if v == -math.huge then return "-Inf" end
  if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return string.format("%.0f", v) end
  return string.format("%.10g", v)
end
M.num = num

local function family(out, name, kind, help)
  out[#out + 1] = "# HELP " .. name .. " " .. help
  out[#out + 1] = "# TYPE " .. name .. " " .. kind
end

local function sample(out, name, value)
  out[#out + 1] = name .. " " .. num(value)
end

local COUNTERS = {
  { "ion_upload_files_attached_total", "files_attached", "Files attached to ION." },
  { "ion_upload_files_skipped_total", "files_skipped", "Files the journal showed attached already." },
  { "ion_upload_files_in_doubt_total", "files_in_doubt", "Registrations whose answer was lost (in doubt)." },
  { "ion_upload_sent_bytes_total", "bytes_sent", "Bytes of the completed PUTs to storage." },
  { "ion_upload_graphql_requests_total", "graphql_requests", "GraphQL requests sent to ION." },
  { "ion_upload_retries_total", "retries", "Attempts made again after a failure." },
}

local GAUGES = {
  { "ion_upload_files_queued", "files_queued", "Files taken and not yet attached or failed." },
  { "ion_upload_waiting_for_ion", "waiting_for_ion", "1 while the watch waits for ION to answer again." },
  { "ion_upload_waiting_for_ion_since_seconds", "waiting_since",
    "Unix time the wait for ION began, 0 when not waiting." },
  { "ion_upload_last_success_timestamp_seconds", "last_success", "Unix time of the last attachment, 0 before." },
}

local function histogram(out, name, h, help)
  family(out, name, "histogram", help)
  for _, b in ipairs(h.buckets) do
    out[#out + 1] = name .. '_bucket{le="' .. num(b.le) .. '"} ' .. num(b.count)
  end
  out[#out + 1] = name .. '_bucket{le="+Inf"} ' .. num(h.count)
  sample(out, name .. "_sum", h.sum)
  sample(out, name .. "_count", h.count)
end

--- The text of /metrics from a job:stats() table and the version.
function M.render(s, version)
  local out = {}
  for _, c in ipairs(COUNTERS) do
    family(out, c[1], "counter", c[3])
    sample(out, c[1], s[c[2]])
  end
  family(out, "ion_upload_files_failed_total", "counter", "Files that failed, by error code.")
  local codes = {}
  for code in pairs(s.files_failed_by_code or {}) do codes[#codes + 1] = code end
  table.sort(codes)
  for _, code in ipairs(codes) do
    out[#out + 1] = 'ion_upload_files_failed_total{code="' .. M.label(code) .. '"} '
      .. num(s.files_failed_by_code[code])
  end
  for _, g in ipairs(GAUGES) do
    family(out, g[1], "gauge", g[3])
    sample(out, g[1], s[g[2]])
  end
  histogram(out, "ion_upload_attach_duration_seconds", s.attach_seconds,
    "Seconds from a file queued (a watch: settled) to its attachment.")
  family(out, "ion_upload_build_info", "gauge", "The version of ion-upload; always 1.")
  out[#out + 1] = 'ion_upload_build_info{version="' .. M.label(version or "unknown") .. '"} 1'
  out[#out + 1] = ""
  return table.concat(out, "\n")
end

return M
