-- Bytes a file of the CLI's inputs held in memory (issue 16): the manifest
-- parsed to rows and the journal's index, after a full collection.
--   lua5.4 bench/scale_parts.lua MANIFEST JOURNAL
-- (bench/scale.sh leaves both under bench/out/scale/N/).
package.path = "lua/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local manifest = require("ion.upload.cli.manifest")
local journal = require("ion.upload.journal.file")

local function kib()
  collectgarbage()
  collectgarbage()
  return collectgarbage("count")
end

local base = kib()
local rows = assert(manifest.read(arg[1]))
local after_rows = kib()
local jnl = assert(journal.open(arg[2], {}))
local after_journal = kib()
print(string.format("%d rows: manifest %.0f bytes a row, journal index %.0f bytes an entry", #rows,
  (after_rows - base) * 1024 / #rows, (after_journal - after_rows) * 1024 / #rows))
jnl:close()
