-- The glob matcher lives in ion.upload.glob (the library's, shared by -r and
-- watch). This name stays for scripts that required it as docs/api.md
-- once named it.
return require("ion.upload.glob")
