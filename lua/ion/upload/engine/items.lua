-- A job's input: options checked, each item checked on its own (a bad item
-- fails alone, before any traffic), and its journal key.
local check = require("ion.upload.check")
local config = require("ion.upload.config")
local errors = require("ion.upload.errors")
local files = require("ion.upload.files")
local shard = require("ion.upload.shard")
local targets = require("ion.upload.targets")

local items = {}

-- Files per aliased document when the caller does not say. Measured with
-- bench/batch.sh (20 ms per GraphQL request): 50 keeps GraphQL requests
-- under 0.1 per file while a window's registrations (run one after another
-- by the server) still finish before the next window's PUTs do.
items.default_window = 50
items.max_window = 1000

--- A window checked: v | nil, why ("expected …"); the CLI's --window too.
function items.check_window(v)
  if not check.whole(v, 1, items.max_window) then
    return nil, "expected a whole number from 1 to " .. items.max_window
  end
  return v
end

-- The options of upload_many; start_many also takes `open`.
local known_options = { concurrency = true, window = true, journal = true, on_event = true, validate = true,
  sha256 = true, on_result = true, shard = true }
-- keep_results = false only where the caller may step the job itself:
-- upload_many's answer is its results array (the contract).
local open_options = { open = true, keep_results = true }
for k in pairs(known_options) do open_options[k] = true end

-- The numeric options, each with the one check the CLI's flag uses too.
local counts = { { "concurrency", function(v) return config.field("concurrency", v) end },
  { "window", items.check_window } }

local function bad(field, message)
  return nil, check.bad(field, message, "Fix the option " .. field .. " given to upload_many")
end

--- The options of upload_many with defaults: { concurrency, window, journal,
-- on_event, on_result, validate, keep_results, open, shard } | nil, err (bad_input naming the option).
-- `defaults` is the client's configuration; `may_open`: start_many's call.
function items.options(defaults, opts, may_open)
  local out = {
    concurrency = defaults.concurrency,
    window = items.default_window,
    validate = true,
  }
  local ok, err = check.options(opts, may_open and open_options or known_options, function(k)
    return k .. ": unknown option"
  end)
  if not ok then
    if err.field == "keep_results" then
      return bad("keep_results", "upload_many returns every result; for large inputs use start_many with "
        .. "keep_results = false and on_result")
    end
    return bad(err.field, "unknown option")
  end
  for _, c in ipairs(counts) do
    local k = c[1]
    if opts[k] ~= nil then
      local v, why = c[2](opts[k])
      if not v then return bad(k, why) end
      out[k] = v
    end
  end
  if opts.journal ~= nil then
    if not check.nonempty(opts.journal) then return bad("journal", "expected a file path") end
    out.journal = opts.journal
  end
  if opts.shard ~= nil then
    local s, serr = shard.check(opts.shard)
    if not s then return nil, serr end
    out.shard = s
  end
  if opts.on_event ~= nil then
    if type(opts.on_event) ~= "function" then return bad("on_event", "expected a function") end
    out.on_event = opts.on_event
  end
  if opts.validate ~= nil then
    if type(opts.validate) ~= "boolean" then return bad("validate", "expected a boolean") end
    out.validate = opts.validate
  end
  if opts.sha256 ~= nil then
    if type(opts.sha256) ~= "boolean" then return bad("sha256", "expected a boolean") end
    out.sha256 = opts.sha256
  end
  if opts.on_result ~= nil then
    if type(opts.on_result) ~= "function" then return bad("on_result", "expected a function") end
    out.on_result = opts.on_result
  end
  out.keep_results = true
  if opts.keep_results ~= nil then
    if type(opts.keep_results) ~= "boolean" then return bad("keep_results", "expected a boolean") end
    out.keep_results = opts.keep_results
  end
  if opts.open ~= nil then
    if type(opts.open) ~= "boolean" then return bad("open", "expected a boolean") end
    out.open = opts.open
  end
  return out
end

local function item_error(message, field)
  return errors.new("bad_input", message, { field = field })
end

--- One input item checked: a record { index, path, filename, kind, id,
-- target_key, size, mtime } or { index, path, err }.
function items.check(core, index, input)
  if type(input) ~= "table" then
    return { index = index, path = tostring(input),
      err = item_error("item " .. index .. ": expected a table { path =, target = }", "item") }
  end
  local rec = { index = index, path = input.path }
  if type(input.path) ~= "string" or input.path == "" then
    rec.path = tostring(input.path)
    rec.err = item_error("item " .. index .. ": path must be a non-empty string", "path")
    return rec
  end
  for k in pairs(input) do
    if k ~= "path" and k ~= "target" and k ~= "filename" and k ~= "sha256" and k ~= "shard_key" then
      rec.err = item_error("item " .. index .. ": unknown field " .. tostring(k), tostring(k))
      return rec
    end
  end
  if type(input.target) ~= "table" then
    rec.err = item_error(input.path .. ": target must be a table such as { run_step = 123 }", "target")
    return rec
  end
  local kind, id = targets.parse(input.target)
  if not kind then
    id.message = input.path .. ": " .. id.message
    rec.err = id
    return rec
  end
  if input.sha256 ~= nil and type(input.sha256) ~= "boolean" then
    rec.err = item_error(input.path .. ": sha256 must be a boolean", "sha256")
    return rec
  end
  rec.sha256 = input.sha256
  rec.kind, rec.id = kind, id
  rec.target_key = targets.cache_key(kind, id)
  local filename = input.filename
  if filename == nil then filename = files.basename(input.path) end
  if type(filename) ~= "string" or filename == "" then
    rec.err = item_error(input.path .. ": filename must be a non-empty string", "filename")
    return rec
  end
  local nok, nerr = files.check_name(filename)
  if not nok then
    nerr.message = input.path .. ": " .. nerr.message
    rec.err = nerr
    return rec
  end
  rec.filename = filename
  rec.url_name = files.key_name(filename) -- what requestFileUploadUrl is asked for
  -- with its realpath (the journal key's) from the same call: fewer system calls a file
  local info, ferr = files.check(input.path, core.stat, true)
  if not info then
    rec.err = ferr
    return rec
  end
  rec.size, rec.mtime, rec.real = info.size, info.mtime, info.real
  rec.read_unchecked = info.readable == nil or nil -- engine/resume.lua asks if it will read it
  return rec
end

--- Whether the run's shard (o.shard; none: all) takes `input`, an item
-- as given: by its shard_key, or else its path. An item too malformed to
-- have either is taken (it fails alone, in its place).
function items.in_shard(o, input)
  if not o.shard or type(input) ~= "table" then return true end
  local key = input.shard_key
  if key == nil then key = input.path end
  return type(key) ~= "string" or shard.takes(o.shard, key)
end

--- The journal key of a checked item (absolute path, size, mtime, target).
-- The size, mtime and realpath are those items.check read: one stat per
-- file (the realpath names the same file, symlinks followed as stat follows
-- them).
function items.journal_key(core, journal, rec)
  local abs, aerr = rec.real, nil
  if not abs then abs, aerr = core.realpath(rec.path) end
  if not abs then return nil, item_error(rec.path .. ": " .. tostring(aerr and aerr.message or aerr), "path") end
  local info = rec.mtime and rec
  if not info then
    local serr
    info, serr = core.stat(abs)
    if not info then return nil, item_error(rec.path .. ": " .. tostring(serr and serr.message or serr), "path") end
  end
  -- a target found by name: the key names the object found (engine/resume.lua)
  return journal.key(abs, info, rec.journal_target or rec.target_key)
end

return items
