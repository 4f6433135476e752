-- luacheck: globals vim (Neovim's API, the host of this file)
-- Runs inside `nvim --headless` for spec/integration/nvim_spec.lua: loads the
-- plugin (examples/nvim), runs the :IonUpload commands the spec asks for one
-- after another while a Neovim timer (timer_start: it runs on the editor's
-- main loop, as any user's timer would) fires every 10 ms, records its
-- lateness and asks the editor for an eval each time. Writes what it saw as
-- JSON to $ION_NVIM_OUT, then quits.
local root = os.getenv("ION_NVIM_ROOT")
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. root .. "/spec/?.lua;" .. package.path
package.cpath = os.getenv("ION_NVIM_CPATH") .. ";" .. package.cpath
vim.opt.runtimepath:append(root .. "/examples/nvim")
vim.cmd("runtime plugin/ion_upload.lua")

local lateness = require("support.lateness")
local uv = vim.uv or vim.loop

local out = { notes = {}, statuses = {}, evals = 0, outcomes = {} }
local real_notify = vim.notify
vim.notify = function(msg, level)
  out.notes[#out.notes + 1] = { msg = msg, level = level }
  return real_notify(msg, level)
end

local rec = lateness.new(10, function() return uv.hrtime() / 1e6 end)
local seen = {}
local timer = vim.fn.timer_start(10, function()
  rec.fire()
  if vim.api.nvim_eval("1 + 1") == 2 then out.evals = out.evals + 1 end
  local s = vim.g.ion_upload_status
  if s and s ~= "" and not seen[s] then
    seen[s] = true
    out.statuses[#out.statuses + 1] = s
  end
end, { ["repeat"] = -1 })

local commands = vim.fn.json_decode(os.getenv("ION_NVIM_COMMANDS"))

local function finish()
  vim.fn.timer_stop(timer)
  out.max_late, out.max_own, out.fired = rec.max, rec.max_own, rec.fired
  local f = assert(io.open(os.getenv("ION_NVIM_OUT"), "w"))
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd("qall!")
end

-- Each command, then wait (on the main loop, not blocking it) until it has
-- its outcome in g:ion_upload_last.
local function run(i)
  if i > #commands then return finish() end
  vim.g.ion_upload_last = nil
  local notes_before = #out.notes
  vim.cmd(commands[i])
  local poll = uv.new_timer()
  poll:start(20, 20, vim.schedule_wrap(function()
    local last = vim.g.ion_upload_last
    if last == nil and #out.notes == notes_before then return end
    if poll:is_closing() then return end
    poll:stop()
    poll:close()
    out.outcomes[i] = last or vim.NIL
    run(i + 1)
  end))
end
vim.schedule(function() run(1) end)
