std = "max"
max_line_length = 120
include_files = { "lua", "bin/ion-upload", "spec", "examples", "bench" }
files["spec"] = { std = "+busted" }
exclude_files = { "sandbox/node_modules", "examples/files" }
