-- The CLI's side of `--shard K/N` (lua/ion/upload/shard.lua): the shard
-- from the flag or else ION_UPLOAD_SHARD, the journal's name expanded
-- (%k, %n, %%), a family of journals kept to one N, and the journals a
-- glob names (`verify --journal 'uploads.*.journal'`).
local cjson = require("cjson.safe")
local glob = require("ion.upload.glob")
local shard = require("ion.upload.shard")

local shard_args = {}

local function split(path)
  local folder, base = path:match("^(.*)/([^/]*)$")
  if not folder then return ".", path end
  return folder == "" and "/" or folder, base
end

local function escaped(text)
  return (text:gsub("[%*%?%[%]\\]", "\\%0"))
end

-- The shard a journal's first line records ("K/N") | nil. The first run
-- of a shard writes that record first, and compaction keeps lines in order.
local function first_record(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local line = fh:read(200) or ""
  fh:close()
  local rec = cjson.decode(line:match("^[^\n]*"))
  return type(rec) == "table" and rec.k == "shard" and type(rec.shard) == "string" and rec.shard or nil
end

-- The journals of the family of `pattern` (its %k as any K) beside this
-- shard's: nil | message when one of them is split in another N. Only the
-- journal's own folder is looked in (a %k in a folder name: a folder each,
-- as a volume per Kubernetes index is, and nothing to compare).
local function family_check(pattern, s, core, mine)
  local folder, base = split(pattern)
  if not base:find("%k", 1, true) or base:find("%n", 1, true) or folder:find("%", 1, true) then return nil end
  local m = glob.compile((escaped(base):gsub("%%(.?)", function(c) return c == "k" and "*" or "%" .. c end)
    :gsub("%%%%", "%%")))
  local list = m and core.list_dir(folder)
  for _, e in ipairs(list or {}) do
    local path = folder .. "/" .. e.name
    if e.type == "file" and m:match(e.name) and e.name ~= select(2, split(mine)) then
      local had = first_record(path)
      local n = had and tonumber(had:match("/(%d+)$"))
      if n and n ~= s.n then
        return "journal " .. path .. " is shard " .. had .. "'s: the journals of '" .. pattern .. "' split the "
          .. "files in " .. n .. ", not " .. s.n .. " (a file would be in two shards' journals); keep --shard K/"
          .. n .. ", or name a new family with %n (e.g. 'uploads.%k-of-%n.journal')"
      end
    end
  end
  return nil
end

--- Sets args.shard from ION_UPLOAD_SHARD when no --shard was given (the
-- flag wins), and expands args.journal for it: true | nil, message.
function shard_args.resolve(args, getenv, core)
  if args.shard == nil then
    local text = getenv("ION_UPLOAD_SHARD")
    if text and text ~= "" then
      local s, err = shard.parse(text, "ION_UPLOAD_SHARD")
      if not s then return nil, err end
      args.shard = s
    end
  end
  if args.journal then
    local path, err = shard.journal_path(args.journal, args.shard)
    if not path then return nil, err end
    local ferr = args.shard and family_check(args.journal, args.shard, core, path)
    if ferr then return nil, ferr end
    args.journal = path
  end
  return true
end

--- The journals `pattern` names: itself, or when its last part is a glob
-- (`uploads.*.journal`), the files of its folder that match, sorted |
-- nil, message (a bad glob, or one no file matches).
function shard_args.journals(pattern, core)
  local folder, base = split(pattern)
  if not base:find("[%*%?%[]") then return { pattern } end
  local m, why = glob.compile(base)
  if not m then return nil, "--journal: " .. why end
  local list, lerr = core.list_dir(folder)
  if not list then return nil, "--journal " .. pattern .. ": " .. tostring(lerr and lerr.message or lerr) end
  local out = {}
  for _, e in ipairs(list) do
    if e.type == "file" and m:match(e.name) then out[#out + 1] = (folder == "." and "" or folder .. "/") .. e.name end
  end
  if #out == 0 then
    return nil, "--journal '" .. pattern .. "' matches no file in " .. folder
  end
  return out
end

return shard_args
