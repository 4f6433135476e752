-- The state of each file in a resume journal (journal/file.lua), read back
-- through the core's index. The records are folded there alone
-- (csrc/journal_index.c: which record wins); this module only decodes the
-- lines the index points at.
local cjson = require("cjson.safe")

local state = {}

-- Why an index in the core rather than a Lua table of keys: measured on
-- 20,000 entries of 75-byte keys (collectgarbage("count") deltas), the old
-- rich tables cost 736 bytes per entry and a bare Lua table of key -> one
-- offset 137 (the key strings, before any second offset or flags), while
-- the core's table keeps 32 bytes per key, at most 3/4 full: 43 to 85 bytes
-- per entry, and a million-file journal opens in under 3 s
-- (bench/journal_open.md). Lines are decoded only when a key is looked up.
-- Damaged lines (only the last one can be cut short by a crash) are
-- skipped: a record lost only means that step is done again. Two keys of
-- one hash each keep a slot of their own (the core tells them apart by
-- reading keys back). Returns the index and its stats, or nil, nil, err
-- when the file can't be read (the core's error).
function state.index_file(fh, hash_bits)
  local index, err = require("ion.upload.core").journal_index(fh, hash_bits)
  if not index then return nil, nil, err end
  return index, index:stats()
end

function state.record_at(index, offset)
  local line = offset and index:line(offset)
  local rec = line and cjson.decode(line)
  if type(rec) == "table" then return rec end
end

-- The state of `key` as the index folded it, read back from the lines it
-- points at.
function state.of(index, key)
  local put_at, att_at, registering, in_doubt = index:get(key)
  if put_at == nil then return nil end
  local st = {}
  local att = state.record_at(index, att_at)
  if att then st.attached = att.att end
  local put = state.record_at(index, put_at)
  if put then st.put = { s3Key = put.s3Key, etag = put.etag, md5 = put.md5, sha256 = put.sha256 } end
  st.registering = registering or nil
  st.in_doubt = in_doubt or nil
  return st
end

-- The state of `key` for resuming it: a file attached needs no more to be
-- skipped, so only its attached record is read (index:attached: one line
-- and one decode a file on a rerun, where state.of reads three lines and
-- decodes two);
-- any other key's state as state.of reads it.
function state.to_resume(index, key)
  local line, registering, in_doubt = index:attached(key)
  if line == nil then return nil end
  local rec = line and cjson.decode(line)
  if type(rec) == "table" and rec.att ~= nil then
    return { attached = rec.att, registering = registering or nil, in_doubt = in_doubt or nil }
  end
  return state.of(index, key)
end

return state
