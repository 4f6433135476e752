std = "max"
max_line_length = 120
-- Lua files only: the folders also hold JS fixtures, Python reference clients
-- and example data files.
include_files = { "lua/**/*.lua", "bin/ion-upload", "spec/**/*.lua", "examples/**/*.lua", "bench/**/*.lua" }
files["spec"] = { std = "+busted" }
exclude_files = { "sandbox/node_modules" }
