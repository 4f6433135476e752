-- luacheck: globals vim (Neovim's API, the host of this file)
-- :IonUpload {file} {target} {id} — uploads a file to ION as an attachment
-- in the background, from inside Neovim (examples/nvim/README.md).
--
--   :IonUpload report.pdf run_step 42
--   :IonUploadCancel                      stops every upload under way
--
-- The upload is an ion.upload job driven by ion.upload.luv on Neovim's own
-- loop (vim.uv, or vim.loop before 0.10): the editor never waits for it.
-- Progress goes to g:ion_upload_status (put %{get(g:,'ion_upload_status','')}
-- in 'statusline'), the outcome to vim.notify: the attachment's id, or the
-- error with its hint. g:ion_upload_last holds the last outcome ({ id = } or
-- { code =, message =, hint = }).
--
-- Connection: g:ion_upload (a table: endpoint or environment, token, or
-- client_id + client_secret (+ auth_url)), else the CLI's environment
-- variables ION_API_URL, ION_TOKEN, ION_CLIENT_ID, ION_CLIENT_SECRET,
-- ION_AUTH_URL. ion.upload must be on package.path/cpath built for LuaJIT
-- (luarocks --lua-version 5.1 install ion-upload).
if vim.g.loaded_ion_upload then return end
vim.g.loaded_ion_upload = true

local uv = vim.uv or vim.loop

-- The CLI's target names (run_step or run-step) -> the library's key.
local kinds = {
  run_step = true, run = true, procedure = true, step = true, part = true,
  run_step_field = true, entity_id = true,
}

local running = {} -- handle -> true, for :IonUploadCancel

local function notify(msg, level)
  vim.schedule(function() vim.notify(msg, level) end)
end

-- Status line text; redrawn from the main loop (API calls are not allowed
-- inside a luv callback, where the job's callbacks run).
local function set_status(text)
  vim.schedule(function()
    vim.g.ion_upload_status = text
    vim.cmd("redrawstatus")
  end)
end

local function config()
  local g = vim.g.ion_upload
  if type(g) == "table" then return vim.deepcopy(g) end
  local env = function(name)
    local v = os.getenv(name)
    if v ~= nil and v ~= "" then return v end
  end
  return {
    endpoint = env("ION_API_URL"), token = env("ION_TOKEN"),
    client_id = env("ION_CLIENT_ID"), client_secret = env("ION_CLIENT_SECRET"), auth_url = env("ION_AUTH_URL"),
  }
end

local function failed(err)
  vim.g.ion_upload_last = { code = err.code, message = err.message, hint = err.hint }
  notify("IonUpload: " .. tostring(err), vim.log.levels.ERROR)
end

local function start(path, kind, id)
  local ok, upload = pcall(require, "ion.upload")
  if not ok then
    return notify("IonUpload: ion.upload is not on package.path/cpath (" .. tostring(upload):match("^[^\n]*")
      .. "); install it for LuaJIT: luarocks --lua-version 5.1 install ion-upload", vim.log.levels.ERROR)
  end
  local client, cerr = upload.new(config())
  if not client then return failed(cerr) end
  local name = vim.fn.fnamemodify(path, ":t")
  local shown = -1
  local job, jerr = client:start(vim.fn.expand(path), { [kind] = id }, {
    on_progress = function(sent, total)
      if not total or total == 0 then return end
      local pct = math.floor(sent * 100 / total)
      if pct ~= shown then -- one redraw per percent, not per chunk
        shown = pct
        set_status(("ion: %s %d%%"):format(name, pct))
      end
    end,
  })
  if not job then return failed(jerr) end
  set_status(("ion: %s 0%%"):format(name))
  local handle
  handle = require("ion.upload.luv").drive(job, {
    loop = uv,
    on_done = function()
      running[handle] = nil
      local att, err = job:result()
      client:close()
      set_status("")
      if att then
        vim.schedule(function() vim.g.ion_upload_last = { id = tostring(att.id) } end)
        notify(("IonUpload: %s attached as #%s"):format(name, tostring(att.id)), vim.log.levels.INFO)
      else
        vim.schedule(function() failed(err) end)
      end
    end,
  })
  running[handle] = true
end

vim.api.nvim_create_user_command("IonUpload", function(opts)
  local path, kind, id = opts.fargs[1], opts.fargs[2], opts.fargs[3]
  kind = kind and kind:gsub("-", "_")
  if #opts.fargs ~= 3 or not kinds[kind] then
    return notify("usage: :IonUpload {file} {run_step|run|procedure|step|part|run_step_field|entity_id} {id}",
      vim.log.levels.ERROR)
  end
  start(path, kind, kind == "entity_id" and id or tonumber(id) or id)
end, { nargs = "*", complete = "file", desc = "Upload a file to ION as an attachment, in the background" })

vim.api.nvim_create_user_command("IonUploadCancel", function()
  for h in pairs(running) do h:cancel("cancelled from Neovim") end
end, { desc = "Cancel the uploads under way" })
