-- ion.upload: put files into ION as attachments (docs/api.md, "ion.upload").
-- Every method returns its result or nil, err; only a misuse (a wrong argument
-- type) raises.
--
-- Uploads are jobs of the one engine (ion.upload.job): client:upload is a job
-- of one file, waited on; upload_many a job over a list; start and
-- start_many give the jobs to the host's loop. The three steps and the other
-- single calls (ion.upload.steps) go through the same session, GraphQL rules
-- and checks.
local config = require("ion.upload.config")
local context = require("ion.upload.context")
local errors = require("ion.upload.errors")
local items_mod = require("ion.upload.engine.items")
local job = require("ion.upload.job")
local literal = require("ion.upload.graphql.literal")
local steps = require("ion.upload.calls")

local upload = { VERSION = "0.1.0", errors = errors }

-- The files per aliased document when `window` is not given, and the check
-- of a `window` (v | nil, why): the CLI's --window reads both.
upload.DEFAULT_WINDOW = items_mod.default_window
-- The parallel PUTs of a client when upload.new is given no `concurrency`.
upload.DEFAULT_CONCURRENCY = config.defaults.concurrency
upload.check_window = items_mod.check_window
-- upload.enum("IN_PROGRESS"): an enum value in a target's where filter.
upload.enum = literal.enum

local Client = { __name = "ion.upload.client" }
Client.__index = Client

-- client | nil, err (bad_input naming the field).
function upload.new(cfg)
  local c, err = config.check(cfg)
  if not c then return nil, err end
  local client = setmetatable({ cfg = c, user_agent = "ion-upload/" .. upload.VERSION }, Client)
  -- The narrow context every helper gets instead of the client. The core is
  -- loaded on first use (unit specs put a stub in _core, a PRNG in _random).
  client._ctx = context.new(c, client.user_agent, function() return client:_core_module() end,
    function() return client._random() end)
  client._auth = client._ctx.auth
  client._random = client._ctx.default_random
  return client
end

function Client:_core_module()
  if not self._core then self._core = require("ion.upload.core") end
  return self._core
end

-- Closes the client's connections (also done when the client is collected).
function Client:close()
  self._ctx.transport:close()
end

function Client:_fail(err)
  return nil, errors.scrubbed(err, self._ctx.auth:secrets())
end

---------------------------------------------------------------------------
-- Uploads: jobs of the engine. (Not tail calls: a misuse is blamed on the
-- caller the same way on every Lua version.)

-- att = { id, filename, downloadUrl, entityId, s3Key, etag, size, md5 } | nil, err
function Client:upload(path, target, opts)
  local j, err = job.start(self._ctx, path, target, opts, "upload", 3)
  if not j then return self:_fail(err) end
  local att, aerr = j:wait()
  return att, aerr
end

-- Many files at once (docs/api.md, "client:upload_many"): results, summary | nil, err.
function Client:upload_many(items, opts)
  local results, summary = job.upload_many(self._ctx, items, opts, 3)
  return results, summary
end

-- The same, driven a step at a time by the caller's loop (docs/api.md,
-- "Non-blocking use"): job | nil, err.
function Client:start_many(items, opts)
  local j, err = job.start_many(self._ctx, items, opts, "start_many", 3)
  return j, err
end

-- A hot folder (ion.upload.watch, docs/api.md "client:watch"): job | nil, err.
-- The watch gets the narrow context, and its one open engine job through a
-- function: it never holds the client.
function Client:watch(dir, opts)
  local ctx = self._ctx
  local function start_many(engine_opts) return job.start_many(ctx, {}, engine_opts, "start_many", 4) end
  local j, err = require("ion.upload.watch.watcher").start(ctx, start_many, dir, opts, 3)
  if j and opts and opts.status ~= nil then -- the status server (ion.upload.status): off by default
    j, err = require("ion.upload.status").attach(j, opts, upload.VERSION)
  end
  return j, err
end

-- What upload_many would do with these items, with nothing sent but the
-- target lookups (ion.upload.plan, docs/api.md "client:plan"): plan | nil, err.
function Client:plan(items, opts)
  local p, err = require("ion.upload.plan").make(self._ctx, items, opts, 3)
  return p, err
end

function Client:start(path, target, opts)
  local j, err = job.start(self._ctx, path, target, opts, "start", 3)
  if not j then return self:_fail(err) end
  return j
end

-- Reads an attachment back and compares it with the record of its upload
-- (ion.upload.verify, docs/api.md "client:verify"): result | nil, err.
function Client:verify(id, expect, opts)
  local r, err = require("ion.upload.verify").run(self._ctx, id, expect, opts)
  if not r then return self:_fail(err) end
  return r
end

---------------------------------------------------------------------------
-- Single calls (ion.upload.steps): each returns its result | nil, err.

local function single(name)
  local fn = steps[name]
  Client[name] = function(self, ...)
    local out, err = fn(self._ctx, ...)
    if out == nil then return self:_fail(err) end
    return out
  end
end
for _, name in ipairs({ "entity_id", "attachment", "download", "request_upload_url", "put", "register",
  "graphql" }) do
  single(name)
end

return upload
