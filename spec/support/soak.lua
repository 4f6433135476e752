-- The fault soak (spec/integration/soak_spec.lua, `make soak`): many files to
-- many targets of mixed kinds through upload_many, with every sandbox fault on
-- at once under a fixed seed, then a second run with the journal and the
-- faults off. check() compares the sandbox's attachment list with the files
-- and returns the figures README.md's Reliability section quotes.
local sandbox = require("support.sandbox")
local files = require("support.files")

local soak = {}

-- 30 targets of every kind (released parts 41..45 left out: they refuse).
soak.targets = {
  { run_step = 1 }, { run_step = 12 }, { run_step = 33 }, { run_step = 57 }, { run_step = 90 },
  { run_step = 120 }, { run_step = 150 }, { run_step = 199 },
  { run = 2 }, { run = 7 }, { run = 19 }, { run = 33 }, { run = 50 },
  { procedure = 1 }, { procedure = 9 }, { procedure = 20 },
  { step = 3 }, { step = 42 }, { step = 64 }, { step = 77 }, { step = 100 },
  { part = 1 }, { part = 10 }, { part = 30 }, { part = 50 },
  { run_step_field = 5 }, { run_step_field = 55 }, { run_step_field = 100 },
  { entity_id = false }, { entity_id = false }, -- filled from the data set
}

-- The issue's mix: storage 503 10 %, dropped mid-body 10 %, forced expiry
-- 10 %, stripped ETag 2 %, GraphQL 5xx 5 %, GraphQL 429 5 %, latency.
function soak.faults(seed, partial_data)
  return {
    seed = seed, storage_503_rate = 0.1, storage_drop_rate = 0.1, storage_expire_rate = 0.1,
    strip_etag_rate = 0.02, graphql_5xx_rate = 0.05, graphql_429_rate = 0.05, retry_after_s = 0.05,
    graphql_latency_ms = 3, storage_latency_ms = 2, partial_data = partial_data ~= false,
  }
end

local EXT = { "jpg", "csv", "pdf", "txt", "bin" }

-- Sizes from 0 B up: big = false keeps them small for `make test` (a few of
-- 1 MiB), big = true adds 8 MiB ones for `make soak`.
function soak.size(i, big)
  if i % 23 == 0 then return 0 end
  if big and i % 25 == 0 then return 8 * 1024 * 1024 end
  if i % 50 == 0 or (big and i % 10 == 0) then return 1024 * 1024 + i end
  return (i * 7919) % (big and 262144 or 40000)
end

-- Writes n files into dir: a distinct header then a repeated block, fast to
-- make at any size and distinct by MD5.
function soak.make_files(dir, n, big)
  local block = {}
  local seed = 12345
  for k = 1, 4096 do
    seed = (seed * 1103515245 + 12345) % 2147483648
    block[k] = string.char(seed % 256)
  end
  block = table.concat(block)
  local list = {}
  for i = 1, n do
    local size = soak.size(i, big)
    local head = string.format("soak file %d of %d\n", i, n)
    local body = head .. string.rep(block, math.ceil(size / #block))
    local path = files.write(dir, string.format("soak-%04d.%s", i, EXT[i % #EXT + 1]), body:sub(1, size))
    list[i] = { path = path, name = path:match("[^/]+$"), size = size }
  end
  return list
end

-- The items of one run: file i goes to target i mod 30.
function soak.items(list, dataset)
  local items = {}
  for i, f in ipairs(list) do
    local t = soak.targets[(i - 1) % #soak.targets + 1]
    if t.entity_id == false then t = { entity_id = dataset.run[tostring(10 + (i % 3))] } end
    items[i] = { path = f.path, target = t }
  end
  return items
end

-- The entity id each item must end on.
local function want_entity(item, dataset)
  local kind, id = next(item.target)
  if kind == "entity_id" then return id end
  local key = ({ run_step = "runStep", run_step_field = "runStepField" })[kind] or kind
  return dataset[key][tostring(id)]
end

-- Checks the sandbox's attachment list against the files. allow_dup[name]:
-- that file may be attached twice (its registration's answer was lost).
-- Returns by_name (name -> list of attachments) and the duplicate count.
function soak.check_attachments(list, items, dataset, allow_dup, must_all)
  local by_name, dups = {}, 0
  for _, a in ipairs(sandbox.attachments()) do
    by_name[a.filename] = by_name[a.filename] or {}
    table.insert(by_name[a.filename], a)
  end
  for i, f in ipairs(list) do
    local got = by_name[f.name] or {}
    if must_all then assert(#got >= 1, f.name .. " not attached") end
    assert(#got <= (allow_dup[f.name] and 2 or 1), f.name .. " attached " .. #got .. " times")
    if #got == 2 then dups = dups + 1 end
    for _, a in ipairs(got) do
      assert(a.entityId == want_entity(items[i], dataset), f.name .. " attached to the wrong entity")
      assert(a.md5 == files.md5(f.path), f.name .. ": stored object's MD5 differs from the file's")
      assert(a.size == f.size, f.name .. ": stored size " .. tostring(a.size) .. " ~= " .. f.size)
    end
  end
  return by_name, dups
end

-- One whole soak: run 1 under faults, run 2 with the journal and no faults.
-- Returns the figures.
function soak.run(opts)
  local dataset = sandbox.dataset()
  local dir = files.tmpdir()
  local list = soak.make_files(dir, opts.files, opts.big)
  local items = soak.items(list, dataset)
  local journal = dir .. "/soak.journal"
  sandbox.reset()
  sandbox.faults(soak.faults(opts.seed, opts.partial_data))
  local client = sandbox.client({ retries = 8, concurrency = 4, stall_timeout = 10, timeout = 10 })
  local results, summary = client:upload_many(items, { journal = journal, window = opts.window })
  assert(results, tostring(summary))
  local fig = { seed = opts.seed, window = opts.window, files = #list, failed1 = {}, in_doubt = 0, codes = {} }
  local allow_dup = {}
  for i, r in ipairs(results) do
    if not r.ok then
      local code = r.err.code
      fig.codes[code] = (fig.codes[code] or 0) + 1
      fig.failed1[#fig.failed1 + 1] = i
      if r.err.in_doubt then
        allow_dup[list[i].name] = true
        fig.in_doubt = fig.in_doubt + 1
        assert(r.err.retryable == false, tostring(r.err))
      else
        -- A failure that is not in doubt never reached ION: the file is not attached.
        assert(code == "missing_etag", "unexpected failure " .. list[i].name .. ": " .. tostring(r.err))
      end
    end
  end
  local c = sandbox.counters()
  fig.faults = {
    storage_503 = c.storage.faults["503"], storage_drop = c.storage.faults.drop,
    storage_expire = c.storage.faults.expire, strip_etag = c.storage.faults.strip_etag,
    graphql_5xx = c.graphql.faults["5xx"], graphql_429 = c.graphql.faults["429"],
  }
  fig.puts1, fig.graphql1 = c.storage.puts, c.graphql.requests
  assert(c.storage.authorization_headers == 0, "an Authorization header reached storage")
  assert(c.storage.chunked_puts == 0, "a chunked PUT reached storage")
  local by_name = soak.check_attachments(list, items, dataset, {}, false)
  for i, r in ipairs(results) do
    local name = list[i].name
    if r.ok then
      assert(#(by_name[name] or {}) == 1, name)
      assert(r.attachment.id == by_name[name][1].id, name .. ": result and sandbox disagree on the id")
    elseif not r.err.in_doubt then
      assert(by_name[name] == nil, name .. " failed (" .. r.err.code .. ") but is attached")
    end
  end
  fig.ok1 = summary.ok

  -- Run 2: the network got better; the journal finishes the rest.
  sandbox.faults({ seed = opts.seed, storage_503_rate = 0, storage_drop_rate = 0, storage_expire_rate = 0,
    strip_etag_rate = 0, graphql_5xx_rate = 0, graphql_429_rate = 0 })
  local results2, summary2 = client:upload_many(items, { journal = journal, window = opts.window })
  for i, r in ipairs(results2) do assert(r.ok, list[i].name .. ": " .. tostring(r.err)) end
  assert(summary2.skipped == summary.ok, "run 2 skipped " .. summary2.skipped .. ", run 1 attached " .. summary.ok)
  assert(summary2.ok == #fig.failed1)
  assert(summary2.in_doubt == fig.in_doubt)
  local _, dups = soak.check_attachments(list, items, dataset, allow_dup, true)
  fig.duplicates = dups
  c = sandbox.counters()
  assert(c.storage.authorization_headers == 0 and c.storage.chunked_puts == 0)
  client:close()
  files.rmdir(dir)
  return fig
end

-- One line of figures for the log (docs/reliability.md quotes them).
function soak.describe(fig, label)
  local codes = {}
  for k, v in pairs(fig.codes) do codes[#codes + 1] = k .. "=" .. v end
  table.sort(codes)
  local f = fig.faults
  return string.format("soak %s seed %d window %s: %d files, %d PUTs, %d GraphQL requests; "
    .. "faults survived: storage 503 %d, drop %d, expiry %d, stripped ETag %d, GraphQL 5xx %d, 429 %d; "
    .. "run 1: %d attached, %d failed (%s), %d in doubt; "
    .. "run 2: all attached, %d duplicates", label, fig.seed, tostring(fig.window or 50), fig.files, fig.puts1,
    fig.graphql1, f.storage_503, f.storage_drop,
    f.storage_expire, f.strip_etag, f.graphql_5xx, f.graphql_429, fig.ok1, #fig.failed1,
    table.concat(codes, " "), fig.in_doubt, fig.duplicates)
end

return soak
