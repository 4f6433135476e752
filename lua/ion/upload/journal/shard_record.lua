-- The journal's record of the shard it serves (`--shard K/N`):
--   {"v":1,"k":"shard","e":"shard","shard":"1/4"}
-- written once, by the first run of a shard on the journal. Its key is no
-- file's (those start with "/"), and the core's index keeps its line as it
-- keeps a "put" line, so compaction copies it (csrc/journal_index.c). A
-- journal without it (older than sharding, or of a run with no shard)
-- serves any run, and a shard's first run records itself in it.
local errors = require("ion.upload.errors")
local jstate = require("ion.upload.journal.state")
local shard_mod = require("ion.upload.shard")

local record = {}

record.KEY = "shard"

--- The shard a journal's index records ("K/N") | nil.
function record.of(index)
  local at = index and index:get(record.KEY)
  local rec = at and jstate.record_at(index, at)
  return rec and type(rec.shard) == "string" and rec.shard or nil
end

--- true | nil, err (bad_input): a journal of one shard serves no other
-- shard, and no run without a shard (each would skip files the other owns).
-- s: the run's shard, false for a run of none, nil to read without a check.
function record.matches(path, index, s)
  if s == nil then return true end
  s = s or nil
  local had, want = record.of(index), s and shard_mod.text(s)
  if had == nil or had == want then return true end
  return nil, errors.new("bad_input", "journal " .. path .. " is shard " .. had .. "'s; this run is "
    .. (want and "shard " .. want or "not sharded"), { hint = "Give each shard its own journal, e.g. --journal "
    .. "'uploads.%k.journal', and keep K/N for the journal's life (here: --shard " .. had .. ")" })
end

--- An open journal checked for shard s (false: none), and s recorded in it
-- when it records none yet: true | nil, err.
function record.claim(jnl, s)
  local ok, err = record.matches(jnl.path, jnl.index, s)
  if ok and s and not record.of(jnl.index) then
    ok, err = jnl:write_records({ { v = 1, k = record.KEY, e = "shard", shard = shard_mod.text(s) } })
  end
  return ok, err
end

--- The shard the journal at `path` serves, read without a lock: "K/N" | nil
-- (none recorded, or no journal there).
function record.of_file(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local index = jstate.index_file(fh)
  local had = index and record.of(index)
  if index then index:close() end
  fh:close()
  return had
end

return record
