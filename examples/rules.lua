-- The rules of a test station's hot folder (ion-upload watch DIR --rules
-- examples/rules.lua): paths relative to the folder, "/" separators, Lua
-- patterns; the first rule that matches wins, a file no rule matches is
-- reported once and left alone. The file runs without io, os or require:
-- it only maps names to targets. SIGHUP reloads it.
return {
  -- The test stand writes RS<run step id>_<anything>.csv when a step ends.
  { match = "^station7/RS(%d+)_.*%.csv$", target = { run_step = "%1" } },

  -- The inspection camera drops photos into photos/<part id>/; each is
  -- renamed so that the part's attachments say what they are.
  {
    match = "^photos/(%d+)/",
    target = function(cap) return { part = tonumber(cap[1]) } end,
    filename = function(_, path) return "inspection-" .. path:match("[^/]+$") end,
  },

  -- CMM reports: cmm/run-<run id>/<report>.pdf, kept under their own name.
  { match = "^cmm/run%-(%d+)/[^/]+%.pdf$", target = { run = "%1" } },
}
