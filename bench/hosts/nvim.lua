-- luacheck: globals vim (Neovim's API, the host of this file)
-- bench/hosts.sh, Neovim: the job driven by ion.upload.luv on Neovim's loop
-- (as examples/nvim's :IonUpload does) beside a 10 ms Neovim timer
-- (timer_start, on the editor's main loop). Run with :luafile; the
-- arguments come in BENCH_MODE and BENCH_FILE; writes its line to stdout.
local uv = vim.uv or vim.loop
local common = require("hosts.common")
local now = function() return uv.hrtime() / 1e9 end
local late = common.lateness(10, now)
local timer = vim.fn.timer_start(10, function() late.fire() end, { ["repeat"] = -1 })
local t = common.start(os.getenv("BENCH_MODE"), os.getenv("BENCH_FILE"), now)
require("ion.upload.luv").drive(t.job, { loop = uv, on_done = function()
  common.stop(t)
  vim.schedule(function()
    vim.fn.timer_stop(timer)
    io.stdout:write(("hosts: host=nvim mode=%s wall=%.3f cpu=%.3f late_ms=%.1f outcome=%s\n"):format(
      t.mode, t.wall, t.cpu, late.max, t.outcome))
    io.stdout:flush()
    vim.cmd("qall!")
  end)
end })
