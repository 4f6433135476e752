-- The rules of `watch` live in ion.upload.watch.rules. This name stays for
-- scripts that load a rules set with require("ion.upload.watch_rules").load,
-- as docs/api.md showed before the modules found their folders.
return require("ion.upload.watch.rules")
