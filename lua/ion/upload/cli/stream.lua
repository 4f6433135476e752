-- ion-upload's upload run, streamed: entries come from cli/inputs.lua as the
-- job has room for them, go to an open client:start_many job that keeps no
-- results (keep_results = false), and each result is printed as it is
-- final: plain lines in completion order, --json lines in input order
-- through cli/reorder.lua. What the run holds is bounded by the window and
-- the concurrency, not by the number of files: the progress tally, the
-- paths and the items of the files in flight only.
local output = require("ion.upload.cli.output")
local progress = require("ion.upload.cli.progress_bars")
local log_progress = require("ion.upload.cli.progress_log")
local summary_out = require("ion.upload.cli.summary")
local reorder = require("ion.upload.cli.reorder")
local errors = require("ion.upload.errors")
local upload = require("ion.upload")
local hints = require("ion.upload.cli.hints")

local stream = {}

local FAILED, OK, USAGE_ERROR, INTERRUPTED = 1, 0, 2, 130

-- How many files may be between read and printed: see reorder.lua.
function stream.limit(window, concurrency)
  return 2 * (window + concurrency)
end

-- The result of an entry the job never took (the run stopped first).
local function stopped()
  return errors.new("aborted", "interrupted",
    { hint = "Run the same command again (with the same journal) to finish the rest" })
end

--- Runs the upload: the exit status. env: { stdout, stderr, core, now,
-- usage_error, receipts (cli/receipts.lua writer or nil), say (the printer of
-- notes and -v lines: { line = function(text) }, pointed above the bars here) }.
function stream.run(client, source, args, env)
  local core, stdout, stderr, receipts = env.core, env.stdout, env.stderr, env.receipts
  local tty = not args.quiet and core.isatty(2)
  local shows -- the terminal's bars or the log's progress lines
  if not args.quiet then
    local opts = { out = stderr, now = env.now or core.now, files = 0, bytes = 0, interval = args.progress_interval }
    if tty then
      opts.width = core.terminal_width()
      shows = progress.new(opts)
      if env.say then env.say.line = function(line) shows:message(line) end end
    else
      shows = log_progress.new(opts)
    end
  end

  local paths = {}          -- the CLI's index -> path, until its line is out
  local where, items = {}, {} -- the job's index -> the CLI's index, and its item, until its result
  local tally = { files = 0, failed_here = 0, doubtful = 0 }

  local buffer = reorder.new(stream.limit(args.window or upload.DEFAULT_WINDOW,
    args.concurrency or upload.DEFAULT_CONCURRENCY), args.json, function(i, r)
    if args.json then
      stdout:write(output.json_line(paths[i], r), "\n")
      stdout:flush()
    end
    paths[i] = nil
  end)

  local job, reason -- reason: why the run stopped (job:stopping(), or Ctrl-C), once known
  local function stop()
    reason = reason or job:stopping() or (core.interrupted() and stopped()) or nil
    return reason
  end

  local function finished(i, r)
    if not r.ok and type(r.err) == "table" and r.err.in_doubt then tally.doubtful = tally.doubtful + 1 end
    -- a failure that is the run's reason to stop is said once, after the run
    local own = r.ok or not output.same_failure(r.err, stop())
    if own and shows and shows.message then -- above the bars: the attachment ids, as a log shows them
      shows:message(output.plain_line(paths[i], r))
    elseif own and (not args.quiet or (not r.ok and not args.json)) then
      stderr:write(output.plain_line(paths[i], r), "\n")
    end
    buffer:done(i, r)
  end

  local jerr
  job, jerr = client:start_many({}, {
    open = true, keep_results = false,
    concurrency = args.concurrency, window = args.window, journal = args.journal, validate = args.validate,
    shard = args.shard,
    sha256 = receipts and true or nil,
    on_event = shows and function(ev) shows:event(ev, where[ev.index]) end,
    on_result = function(k, r)
      local i = where[k]
      if receipts and r.ok then receipts:done(items[k], r.attachment, r.skipped) end
      where[k], items[k] = nil, nil
      finished(i, r)
    end,
  })
  if not job then
    source:close()
    client:close()
    return env.usage_error(output.printable(hints.text(jerr)))
  end

  -- An entry in: the job takes its item, or its error is its result now.
  local added = 0
  local function take(e)
    local i = buffer:admit()
    paths[i] = e.path
    tally.files = tally.files + 1
    if e.err then
      tally.failed_here = tally.failed_here + 1
      if shows then
        shows:add_file(i, 0)
        shows:event({ type = "error", index = i, path = e.path }, i)
      end
      finished(i, { ok = false, err = e.err })
      return
    end
    if shows then
      local size = e.size
      if not size then -- a manifest row's (a walk's file and an argument come with theirs)
        local st = core.stat(e.item.path)
        size = st and st.type == "file" and st.size or 0
      end
      shows:add_file(i, size)
    end
    added = added + 1
    where[added], items[added] = i, e.item
    local k = job:add(e.item) -- its result may come at once (a bad item): where[] is set first
    assert(k == added, "the job's indexes follow the items added")
  end

  core.catch_interrupt()
  local input_open, read_err = true, nil
  -- Takes entries while there is room: true when a pipe has none yet (the
  -- loop then sleeps on it too). Never waits for a pipe: a Ctrl-C must stop
  -- the run even when its writer has gone quiet.
  local function fill()
    while input_open and buffer:room() and not stop() do
      local e, err = source:next(false)
      if e == false then return true end
      if not e then
        input_open, read_err = false, err
        job:finish_input()
        return false
      end
      take(e)
    end
    if input_open and stop() then
      input_open = false -- the rest is reported after the job (stopped())
      job:finish_input()
    end
    return false
  end

  local ok, perr = pcall(function()
    while true do
      local waiting = fill()
      if job:step(waiting and 0 or math.huge) then break end
      if waiting and buffer:room() then
        -- sleep until the pipe or the network has something, whichever first
        local readable, writable = job:fds()
        local fds = { source:fd() }
        for _, fd in ipairs(readable) do fds[#fds + 1] = fd end
        core.poll(fds, writable, job:timeout())
      end
    end
  end)
  if not ok then
    job:close()
    source:close()
    client:close()
    error(perr, 0)
  end
  local _, summary = job:results()
  client:close()

  -- Entries not taken (the run stopped first) still get their line, with
  -- the job's reason; a pipe's rows not yet written are not waited for.
  if read_err then stderr:write("ion-upload: ", output.printable(tostring(read_err)), "\n") end
  local why = stop()
  while why and not read_err do
    local e = source:next(false)
    if not e then break end
    local i = buffer:admit()
    paths[i], tally.files = e.path, tally.files + 1
    tally.failed_here = tally.failed_here + 1
    finished(i, { ok = false, err = e.err or errors.copy(why) })
  end
  source:close()
  if shows and shows.finish then shows:finish() end
  if tally.files == 0 and not args.quiet then stderr:write(output.nothing_selected, "\n") end

  local failed = summary.failed + tally.failed_here
  local total = { ok = summary.ok, skipped = summary.skipped, failed = failed, in_doubt = summary.in_doubt,
    bytes = summary.bytes, seconds = summary.seconds, files = tally.files, doubtful = tally.doubtful }
  local interrupted = core.interrupted()
  local receipts_ok, receipts_err = true, nil
  if receipts then receipts_ok, receipts_err = receipts:close() end
  if not receipts_ok then stderr:write("ion-upload: ", output.printable(receipts_err), "\n") end
  -- the failure every file met, said once (an interrupt: the summary says it)
  if why and not interrupted then stderr:write(output.stopped_line(why), "\n") end
  summary_out.print(total, interrupted, { stdout = stdout, stderr = stderr, tty = tty, quiet = args.quiet,
    json = args.json })
  if interrupted then return INTERRUPTED end
  if why and output.configuration[why.code] then return USAGE_ERROR end
  if failed > 0 or not receipts_ok or read_err then return FAILED end
  return OK
end

return stream
