-- `ion-upload verify`: reads attachments back from ION and says, per file,
-- ok / mismatch / missing / local file changed (client:verify). The bytes
-- are hashed as they stream, never written, unless --download DIR. Exit 0
-- when every file is ok, 1 when any is not (or could not be checked), 2 for
-- a usage or configuration error.
local argparse = require("argparse")
local cjson = require("cjson")
local errors = require("ion.upload.errors")
local cli_args = require("ion.upload.cli.args")
local flags = require("ion.upload.cli.flags")
local output = require("ion.upload.cli.output")
local inputs = require("ion.upload.cli.verify_inputs")
local receipts = require("ion.upload.cli.receipts")
local shard_args = require("ion.upload.cli.shard_args")

local verify_cli = {}

local FAILED, OK, USAGE_ERROR, INTERRUPTED = 1, 0, 2, 130

-- What a person reads for each status (JSON keeps the status word).
local WORDS = { ok = "ok", mismatch = "mismatch", missing = "missing", local_changed = "local file changed",
  error = "error" }

function verify_cli.parser()
  local p = argparse("ion-upload verify", "Check that what ION holds is what was uploaded.")
  p:usage("Usage: ion-upload verify [options] (--journal FILE | --receipts FILE | --manifest FILE"
    .. " (--journal FILE | --receipts FILE) | ID...)")
  p:add_help(false)
  p:argument("ids", "Attachment ids to read back (instead of a file)."):args("*")
  p:group("What",
    p:option("--journal", "The journal of the uploads: every file attached per it (a glob in its last part, "
      .. "'uploads.*.journal', reads every shard's)."):argname("FILE"),
    p:option("--receipts", "The receipts of the uploads (ion-upload --receipts)."):argname("FILE"),
    p:option("--manifest", "Only the files of this manifest, found in the journal or receipts."):argname("FILE"),
    p:option("--download", "Also keep what ION holds: DIR/<id>-<name> (nothing is written otherwise).")
      :argname("DIR"))
  flags.group(p, "verify", "Where", { "profile", "endpoint", "environment", "proxy", "ca_file", "timeout",
    "stall_timeout", "retries" })
  flags.group(p, "verify", "Shard", { "shard" })
  flags.group(p, "verify", "Output", { "json", "quiet", "verbose", "help" })
  p:epilog([[
Per file: ok, mismatch (ION's bytes, or its storage key, differ from the record;
or storage's ETag is not the MD5 of what it serves), missing (no such
attachment, or storage has no object for it), local file changed (ION matches
the record, the local file no longer does). The record is the journal's or the
receipt's: its MD5, SHA-256 (receipts), size and key. Attachment ids alone are
checked against storage's own ETag.

Exit status: 0 every file ok, 1 any other verdict or a file that could not be
checked, 2 usage or configuration error.]])
  return p
end

--- The parsed flags: args | nil, message.
function verify_cli.parse(argv)
  local p = verify_cli.parser()
  local ok, a = p:pparse(flags.join(argv))
  if not ok then return nil, a .. "\n(see ion-upload verify --help)" end
  if a.help then return { help = true, parser = p } end
  if a.journal and a.receipts then return nil, "give --journal or --receipts, not both" end
  local source = a.journal or a.receipts
  if #a.ids > 0 and (source or a.manifest) then
    return nil, "give attachment ids or a file (--journal, --receipts, --manifest), not both"
  end
  if a.manifest and not source then
    return nil, "--manifest names the files; add --journal FILE or --receipts FILE to say where they went"
  end
  if #a.ids == 0 and not source then
    return nil, "nothing to verify: give --journal FILE, --receipts FILE or attachment ids"
  end
  return flags.read(p, a, { ids = a.ids, journal = a.journal, receipts = a.receipts, manifest = a.manifest,
    download = a.download, verify_md5 = true })
end

-- The entries to check | nil, message.
local function load(args, env)
  if #args.ids > 0 then return inputs.from_ids(args.ids) end
  local records, err
  if args.journal then -- one journal, or those a glob names (one a shard)
    local paths
    paths, err = shard_args.journals(args.journal, env.core)
    records, err = paths and inputs.from_journals(paths), err
  else
    records, err = inputs.from_receipts(args.receipts)
  end
  if not records then return nil, err end
  if args.manifest then return inputs.from_manifest(args.manifest, records, env.core, env.getenv) end
  return records
end

-- DIR/<id>-<name>, name the local file's, or else the attachment's (the
-- server's: only its last part is kept, without control characters or a
-- leading dot, so it can't leave DIR).
local function download_path(client, dir, entry)
  local name = entry.expect and entry.expect.path
  if not name then
    local att = client:attachment(entry.id)
    name = att and att.filename or "attachment"
  end
  name = tostring(name):match("([^/]*)$"):gsub("[%c\\]", "_"):gsub("^%.+", "")
  if name == "" then name = "attachment" end
  return (dir:gsub("/+$", "")) .. "/" .. tostring(entry.id) .. "-" .. name
end

-- One entry checked: { status, reasons, notes, ... }.
local function check_one(client, entry, args)
  if entry.err then return { status = "error", reasons = { entry.err }, notes = {} } end
  if entry.missing then return { status = "missing", reasons = { entry.missing }, notes = {} } end
  local opts = args.download and { download = download_path(client, args.download, entry) } or nil
  local r, err = client:verify(entry.id, entry.expect, opts)
  if not r then return { status = "error", reasons = { tostring(err) }, notes = {}, err = err } end
  return r
end

local function plain_line(entry, r)
  local s = string.format("%-18s %s", WORDS[r.status] or r.status, output.printable(entry.label))
  if entry.id ~= nil and not entry.label:find("^attachment ") then
    s = s .. " (attachment " .. output.printable(entry.id) .. ")"
  end
  local said = {}
  for _, m in ipairs(r.reasons or {}) do said[#said + 1] = m end
  for _, m in ipairs(r.notes or {}) do said[#said + 1] = m end
  if #said > 0 then s = s .. ": " .. output.printable(table.concat(said, "; ")) end
  return s
end

local function json_line(entry, r)
  local remote, expect = r.remote or {}, entry.expect or {}
  local function list(t) return { raw = #t > 0 and (cjson.encode(t):gsub("\\/", "/")) or "[]" } end
  return receipts.object({
    { "path", expect.path }, { "id", entry.id }, { "status", r.status }, { "reasons", list(r.reasons) },
    { "notes", list(r.notes) }, { "size", remote.size }, { "md5", remote.md5 }, { "sha256", remote.sha256 },
    { "expected", entry.expect and { raw = receipts.object({ { "size", expect.size }, { "md5", expect.md5 },
      { "sha256", expect.sha256 } }) } or nil },
    { "download", r.download },
  })
end

-- env: { core, stdout, stderr, getenv, usage_error }.
function verify_cli.run(argv, env)
  local rest = {}
  for i = 2, #argv do rest[#rest + 1] = argv[i] end
  local args, perr = verify_cli.parse(rest)
  if not args then return env.usage_error(perr) end
  if args.help then
    env.stdout:write(args.parser:get_help(), "\n")
    return OK
  end
  if args.download then
    local st = env.core.stat(args.download)
    if not st or st.type ~= "directory" then
      return env.usage_error("--download " .. args.download .. ": no such folder (create it first)")
    end
  end
  local sharded, sherr = shard_args.resolve(args, env.getenv, env.core)
  if not sharded then return env.usage_error(sherr) end
  local entries, lerr = load(args, env)
  if not entries then return env.usage_error(lerr) end
  local client, cerr = cli_args.new_client(args, env.getenv, env.core, function(line)
    env.stderr:write(line, "\n")
  end)
  if not client then return env.usage_error(cerr) end
  local counts = { ok = 0, mismatch = 0, missing = 0, local_changed = 0, error = 0 }
  local interrupted, why, answered = false, nil, false
  env.core.catch_interrupt()
  for _, entry in ipairs(entries) do
    if env.core.interrupted() then
      interrupted = true
      break
    end
    local r = check_one(client, entry, args)
    -- every id would meet it (errors.run_wide): said once, and the run stops
    local e = r.err
    if e and errors.run_wide(e, answered) then
      why = e
      break
    end
    answered = answered or r.status ~= "error"
    counts[r.status] = (counts[r.status] or 0) + 1
    if args.json then
      env.stdout:write(json_line(entry, r), "\n")
      env.stdout:flush()
    elseif r.status ~= "ok" or not args.quiet then
      env.stdout:write(plain_line(entry, r), "\n")
      env.stdout:flush()
    end
  end
  client:close()
  if why then env.stderr:write(output.stopped_line(why), "\n") end
  env.stderr:write(string.format("ion-upload verify: %d ok, %d mismatch, %d missing, %d local file changed, "
    .. "%d could not be checked%s\n", counts.ok, counts.mismatch, counts.missing, counts.local_changed, counts.error,
    interrupted and "; interrupted" or (why and "; stopped" or "")))
  if why then return USAGE_ERROR end
  if interrupted then return INTERRUPTED end
  if counts.ok == #entries then return OK end
  return FAILED
end

return verify_cli
