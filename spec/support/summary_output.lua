-- busted output handler: the usual plain terminal output, then one closing
-- line "busted: N passed, N failed, N skipped" that CI reads. Errors (a spec
-- file that fails to load, a raise outside an assertion) count as failed.
return function(options)
  local busted = require("busted")
  local handler = require("busted.outputHandlers.plainTerminal")(options)

  busted.subscribe({ "suite", "end" }, function()
    local failed = handler.failuresCount + handler.errorsCount
    io.write(string.format("busted: %d passed, %d failed, %d skipped\n",
      handler.successesCount, failed, handler.pendingsCount))
    io.flush()
    return nil, true
  end)

  return handler
end
