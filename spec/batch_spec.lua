-- Unit spec: client:upload_many and its aliased documents, core stubbed
-- (spec/support/batch_stub.lua: a session whose transfers a small GraphQL
-- server and a storage stand-in answer). No network.
local cjson = require("cjson")
local stub = require("support.batch_stub")
local documents = require("ion.upload.graphql.documents")
local queries = require("ion.upload.graphql.queries")

local function read_lines(path)
  local out = {}
  local f = io.open(path, "rb")
  if not f then return out end
  for line in f:lines() do out[#out + 1] = line end
  f:close()
  return out
end

local function journal_events(path)
  local counts = {}
  for _, line in ipairs(read_lines(path)) do
    local rec = cjson.decode(line)
    counts[rec.e] = (counts[rec.e] or 0) + 1
  end
  return counts
end

describe("ion.upload.batch_documents", function()
  it("builds one aliased document with generated aliases and every value a variable", function()
    local doc = documents.build("mutation", "RegisterUploads", {
      { field = queries.fields.create_file_attachment, value = { filename = 'a"b.jpg' } },
      { field = queries.fields.create_file_attachment, value = { filename = "c.jpg" } },
    })
    assert.same({ "f1", "f2" }, doc.aliases)
    assert.matches("^mutation RegisterUploads%(%$v1: CreateFileAttachmentInput!, %$v2: CreateFileAttachmentInput!%)",
      doc.query)
    assert.matches("f1: createFileAttachment%(input: %$v1%) { fileAttachment {", doc.query)
    assert.matches("f2: createFileAttachment%(input: %$v2%)", doc.query)
    assert.not_matches('"', doc.query, 1, true)
    assert.not_matches("c.jpg", doc.query, 1, true)
    assert.equal("c.jpg", doc.variables.v2.filename)
    assert.is_true(doc.mutation)
  end)

  it("builds entity lookups of several kinds in one query", function()
    local doc = documents.build("query", "ResolveTargets", {
      { field = queries.fields.entity.run_step, value = 1 },
      { field = queries.fields.entity.part, value = 2 },
    })
    assert.matches("f1: runStep%(id: %$v1%) { id entity { id } }", doc.query)
    assert.matches("f2: part%(id: %$v2%)", doc.query)
    assert.same({ v1 = 1, v2 = 2 }, doc.variables)
  end)

  local function doc_of(op, n)
    local entries = {}
    for i = 1, n do entries[i] = { field = queries.fields.request_upload_url, value = "f" .. i } end
    local d = documents.build(op, "X", entries)
    return d
  end

  local function graphql_err(data, errs)
    return { status = 200, code = "graphql", message = "x", errors = errs, data = data }
  end

  it("maps partial data alias by alias", function()
    local out = documents.outcomes(doc_of("mutation", 3), nil, graphql_err(
      { f1 = { ok = 1 }, f2 = cjson.null, f3 = { ok = 3 } },
      { { message = "Entity not found: 9", path = { "f2" } } }))
    assert.same({ ok = 1 }, out[1].value)
    assert.equal("Entity not found: 9", out[2].err.message)
    assert.same({ ok = 3 }, out[3].value)
  end)

  -- (A stubbed answer.) The GraphQL spec only says the fields after a failed
  -- one MAY be cancelled: another server may have run them.
  it("data null in a mutation: every field but the failing one is in doubt", function()
    local out = documents.outcomes(doc_of("mutation", 4), nil, graphql_err(nil,
      { { message = "Permission denied", path = { "f2" } } }))
    for _, i in ipairs({ 1, 3, 4 }) do
      assert.is_true(out[i].doubt.in_doubt)
      assert.is_false(out[i].doubt.retryable)
      assert.matches("may have been recorded", out[i].doubt.hint)
    end
    assert.equal("permission_denied", out[2].err.code)
  end)

  it("data null in a query: the failing alias fails, every other one is sent again", function()
    local out = documents.outcomes(doc_of("query", 3), nil, graphql_err(nil,
      { { message = "boom", path = { "f3" } } }))
    assert.is_true(out[1].resend)
    assert.is_true(out[2].resend)
    assert.equal("boom", out[3].err.message)
  end)

  it("a lost answer leaves every field of a mutation in doubt, and fails every field of a query", function()
    local lost = require("ion.upload.errors").new("http", "HTTP 502", { status = 502, in_doubt = true })
    local out = documents.outcomes(doc_of("mutation", 2), nil, lost)
    assert.is_true(out[1].doubt.in_doubt and out[2].doubt.in_doubt)
    local q = documents.outcomes(doc_of("query", 2), nil,
      require("ion.upload.errors").new("rate_limited", "429", { status = 429 }))
    assert.equal("rate_limited", q[1].err.code)
    assert.equal("rate_limited", q[2].err.code)
  end)
end)

describe("client:upload_many (core stubbed)", function()
  local dir, paths
  before_each(function() dir, paths = stub.files(7) end)
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  it("uploads a batch in few aliased documents, results in input order", function()
    local srv = stub.server()
    local client, core = stub.client(srv)
    local items = {}
    for i, p in ipairs(paths) do
      items[i] = { path = p, target = (i % 2 == 0) and { run = 5 } or { run_step = i } }
    end
    items[3].filename = "renamed.txt"
    local results, summary = client:upload_many(items, { window = 3, concurrency = 2 })
    assert.equal(7, #results)
    for i, r in ipairs(results) do
      assert.is_true(r.ok, tostring(r.err))
      assert.equal(i == 3 and "renamed.txt" or paths[i]:match("[^/]+$"), r.attachment.filename)
      assert.equal((i % 2 == 0) and "1005" or tostring(1000 + i), r.attachment.entityId)
      assert.equal(10 + i, r.attachment.size)
    end
    assert.same({ ok = 7, failed = 0, skipped = 0, in_doubt = 0 },
      { ok = summary.ok, failed = summary.failed, skipped = summary.skipped, in_doubt = summary.in_doubt })
    -- 5 distinct targets in 2 documents (window 3), 7 URLs in 3, 7 registrations in 3 or so.
    local entity_docs = select(1, srv.count("runStep"))
    assert.is_true(entity_docs <= 2)
    local url_docs, url_fields = srv.count("requestFileUploadUrl")
    assert.equal(3, url_docs)
    assert.equal(7, url_fields)
    local _, reg_fields = srv.count("createFileAttachment")
    assert.equal(7, reg_fields)
    assert.is_true(core.max_puts <= 2)
    -- the client's one session has no limits of its own: the job caps its transfers
    assert.is_true(core.max_requests <= 2)
  end)

  it("registers a window in one mutation document", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local items = {}
    for i, p in ipairs(paths) do items[i] = { path = p, target = { part = 3 } } end
    local results = client:upload_many(items, { window = 4, concurrency = 4 })
    for _, r in ipairs(results) do assert.is_true(r.ok) end
    local reg_docs, reg_fields = srv.count("createFileAttachment")
    -- (this stub does not say createFileAttachment is nullable: the target's
    -- first file goes alone, as a probe, then the rest a window at a time)
    assert.same({ 3, 7 }, { reg_docs, reg_fields })
    assert.equal(1, (srv.count("part")))
    assert.equal(2, (srv.count("requestFileUploadUrl")))
  end)

  it("strict schema: a refusing target among good ones puts nothing in doubt", function()
    local srv = stub.server({ mode = "strict" })
    local client = stub.client(srv)
    local targets = { { run_step = 1 }, { run = 666 }, { run_step = 2 }, { run = 666 },
      { run = 4 }, { run_step = 1 }, { part = 5 } }
    local items = {}
    for i, p in ipairs(paths) do items[i] = { path = p, target = targets[i] } end
    local results, summary = client:upload_many(items, { window = 7 })
    for i, r in ipairs(results) do
      if targets[i].run == 666 then
        assert.equal("permission_denied", r.err.code)
        assert.is_falsy(r.err.in_doubt)
      else
        assert.is_true(r.ok, tostring(r.err))
      end
    end
    assert.equal(5, #srv.registered) -- each good file once
    assert.same({ 5, 2, 0 }, { summary.ok, summary.failed, summary.in_doubt })
  end)

  it("requests the next window's URLs while this window's PUTs move", function()
    local srv = stub.server()
    local client, core = stub.client(srv, nil, { per_step = 1 })
    local items = {}
    for i, p in ipairs(paths) do items[i] = { path = p, target = { run_step = 1 } } end
    local results = client:upload_many(items, { window = 3, concurrency = 2 })
    for _, r in ipairs(results) do assert.is_true(r.ok, tostring(r.err)) end
    -- Find the second URL document and the last PUT of the first window.
    local url_docs, second_url_add, put_ids = 0, nil, {}
    for _, c in ipairs(core.calls) do
      if c.kind == "request" and c.req.body:find("requestFileUploadUrl", 1, true) then
        url_docs = url_docs + 1
        if url_docs == 2 then second_url_add = c.id end
      elseif c.kind == "put" and #put_ids < 3 then
        put_ids[#put_ids + 1] = c.id
      end
    end
    local pos = {}
    for i, line in ipairs(core.log) do pos[line] = i end
    assert.truthy(second_url_add)
    assert.is_true(pos["add " .. second_url_add] < pos["done " .. put_ids[3]],
      "second URL document must go out before the first window's PUTs are done")
  end)

  it("window 1 turns aliasing off, and keeps registrations in flight under the concurrency", function()
    local srv = stub.server()
    local client, core = stub.client(srv)
    local items = {}
    for i, p in ipairs(paths) do items[i] = { path = p, target = { run_step = i } } end
    local results = client:upload_many(items, { window = 1, concurrency = 3 })
    for _, r in ipairs(results) do assert.is_true(r.ok) end
    for _, b in ipairs(srv.docs) do
      local _, fields = stub.parse(b.query)
      assert.equal(1, #fields)
    end
    assert.is_true(core.max_requests <= 3)
  end)

  it("fails bad items alone, before any traffic for them", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local events = {}
    local results, summary = client:upload_many({
      { path = paths[1], target = { run_step = 1 } },
      { path = dir .. "/missing.txt", target = { run_step = 1 } },
      { path = paths[2], target = { nope = 1 } },
      { path = paths[3], target = { run_step = 1, run = 2 } },
      { path = dir, target = { run_step = 1 } },
      { path = paths[4], target = { run_step = 950 } }, -- unknown to the server
      { path = paths[5], target = { run_step = 2 } },
    }, { on_event = function(ev) events[#events + 1] = ev end })
    assert.is_true(results[1].ok)
    for i = 2, 5 do
      assert.is_false(results[i].ok)
      assert.equal("bad_input", results[i].err.code)
    end
    assert.matches("missing.txt", results[2].err.message)
    assert.matches("unknown kind nope", results[3].err.message)
    assert.matches("directory", results[5].err.message)
    assert.equal("not_found", results[6].err.code)
    assert.is_true(results[7].ok)
    assert.same({ 2, 5 }, { summary.ok, summary.failed })
    local _, url_fields = srv.count("requestFileUploadUrl")
    assert.equal(2, url_fields)
    local errs = 0
    for _, ev in ipairs(events) do if ev.type == "error" then errs = errs + 1 end end
    assert.equal(5, errs)
  end)

  it("partial data: a registration refused by the server fails alone", function()
    local srv = stub.server({ mode = "partial" })
    local client = stub.client(srv)
    local results = client:upload_many({
      { path = paths[1], target = { run_step = 1 } },
      { path = paths[2], target = { entity_id = "99999" } },
      { path = paths[3], target = { run_step = 3 } },
    })
    assert.is_true(results[1].ok)
    assert.equal("not_found", results[2].err.code)
    assert.is_true(results[3].ok)
    assert.equal(2, #srv.registered)
  end)

  -- The target's first file goes alone (a probe: nullability unknown), then
  -- f2-f4 in one document in which f2 fails and nulls the answer.
  it("data null from a server that runs on after a failed field: nothing registered twice", function()
    local srv = stub.server({ mode = "strict_runs_on" })
    srv.bad_etag = { [paths[2]:match("[^/]+$")] = true }
    local client = stub.client(srv)
    local jpath = dir .. "/journal"
    local items = {}
    for i = 1, 4 do items[i] = { path = paths[i], target = { run_step = 1 } } end
    local results = client:upload_many(items, { journal = jpath, window = 4 })
    assert.is_true(results[1].ok, tostring(results[1].err))
    assert.equal("etag_mismatch", results[2].err.code)
    for _, i in ipairs({ 3, 4 }) do
      assert.is_false(results[i].ok)
      assert.is_true(results[i].err.in_doubt)
    end
    assert.equal(3, #srv.registered) -- f1, f3 and f4 ran once each; none was sent again
    assert.equal(2, journal_events(jpath).in_doubt)
  end)

  it("data null (strict schema): every field but the failed one in doubt; the next run registers them", function()
    local srv = stub.server({ mode = "strict" })
    srv.bad_etag = { [paths[2]:match("[^/]+$")] = true }
    local client = stub.client(srv)
    local jpath = dir .. "/journal"
    local items = {}
    for i = 1, 4 do items[i] = { path = paths[i], target = { run_step = 1 } } end
    local results, summary = client:upload_many(items, { journal = jpath, window = 4 })
    assert.is_true(results[1].ok, tostring(results[1].err))
    assert.equal("etag_mismatch", results[2].err.code)
    -- f3 and f4 did not run on this server, but another may have run them.
    for _, i in ipairs({ 3, 4 }) do
      assert.is_true(results[i].err.in_doubt)
      assert.is_false(results[i].err.retryable)
    end
    assert.equal(3, summary.failed)
    assert.equal(1, #srv.registered)
    assert.equal(2, journal_events(jpath).in_doubt)

    -- The next run registers the doubtful files again (no new PUT) and says so.
    srv.bad_etag = nil
    local puts_before = #srv.puts
    local again, s2 = client:upload_many(items, { journal = jpath, window = 4 })
    for _, r in ipairs(again) do assert.is_true(r.ok, tostring(r.err)) end
    assert.is_true(again[1].skipped)
    assert.equal(2, s2.in_doubt)
    assert.equal(0, #srv.puts - puts_before) -- all were PUT already: registered from the journal
    assert.same({ 3, 1, 0 }, { s2.ok, s2.skipped, s2.failed })
  end)

  it("never sends a registration document again after its answer was lost", function()
    local srv = stub.server()
    srv.fault = function(body)
      if body.query:find("^mutation") then
        return { run_then = true, res = stub.json(502, { errors = { { message = "Bad Gateway" } } }) }
      end
    end
    local client = stub.client(srv)
    local jpath = dir .. "/journal"
    local items = {}
    for i = 1, 3 do items[i] = { path = paths[i], target = { run_step = 1 } } end
    local results = client:upload_many(items, { journal = jpath })
    for _, r in ipairs(results) do
      assert.is_false(r.ok)
      assert.is_true(r.err.in_doubt)
      assert.is_false(r.err.retryable)
    end
    -- (each file a probe of its own: the target never accepted one)
    local docs, fields = srv.count("createFileAttachment")
    assert.same({ 3, 3 }, { docs, fields })
    assert.equal(3, journal_events(jpath).in_doubt)
  end)

  it("journals each registration before its document is sent", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local jpath = dir .. "/journal"
    local seen = {}
    srv.fault = function(body)
      if body.query:find("^mutation") then
        local n = 0
        for _, line in ipairs(read_lines(jpath)) do
          if cjson.decode(line).e == "registering" then n = n + 1 end
        end
        seen[#seen + 1] = n
      end
    end
    local items = {}
    for i = 1, 4 do items[i] = { path = paths[i], target = { run_step = 1 } } end
    local results = client:upload_many(items, { journal = jpath, window = 4 })
    for _, r in ipairs(results) do assert.is_true(r.ok, tostring(r.err)) end
    assert.same({ 1, 4 }, seen) -- the probe alone, then the other three: all on disk before each document
    assert.equal(4, journal_events(jpath).registering)
  end)

  it("after a crash during registration: counts and reports each such file, registers it again", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local jpath = dir .. "/journal"
    local items = {}
    for i = 1, 3 do items[i] = { path = paths[i], target = { run_step = 1 } } end
    -- A first run that crashed with file 2's registration in flight: its
    -- journal holds put records and a "registering" one, nothing after it.
    local first = client:upload_many(items, { journal = jpath })
    for _, r in ipairs(first) do assert.is_true(r.ok) end
    local kept = {}
    for _, line in ipairs(read_lines(jpath)) do
      local rec = cjson.decode(line)
      if rec.e == "put" or (rec.e == "registering" and rec.k:find(paths[2], 1, true)) then kept[#kept + 1] = line end
    end
    local f = assert(io.open(jpath, "wb"))
    f:write(table.concat(kept, "\n"), "\n")
    f:close()
    local registered_before = #srv.registered
    local events = {}
    local results, summary = client:upload_many(items, { journal = jpath, on_event = function(ev)
      if ev.type == "done" then events[ev.index] = ev end
    end })
    for _, r in ipairs(results) do assert.is_true(r.ok, tostring(r.err)) end
    assert.equal(3, #srv.registered - registered_before)
    assert.equal(1, summary.in_doubt)
    assert.is_true(results[2].was_in_doubt)
    assert.is_true(events[2].was_in_doubt)
    assert.is_nil(results[1].was_in_doubt)
    assert.is_nil(events[3].was_in_doubt)
  end)

  it("a registration refused outright is not counted in doubt by the next run", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local jpath = dir .. "/journal"
    local items = { { path = paths[1], target = { run_step = 666 } } }
    local first = client:upload_many(items, { journal = jpath })
    assert.equal("permission_denied", first[1].err.code)
    local _, summary = client:upload_many(items, { journal = jpath })
    assert.equal(0, summary.in_doubt)
  end)

  -- (core stubbed: its step raises, as a bug in a transfer's handling would.)
  it("a raise inside the loop ends the batch without raising: registrations in flight in doubt", function()
    local srv = stub.server()
    local client, core = stub.client(srv, nil, { per_step = 1 })
    local raised = false
    srv.fault = function(body)
      if raised or not body.query:find("^query") then return nil end
      for _, c in ipairs(core.calls) do
        local b = c.req.body and cjson.decode(c.req.body)
        local answered = false
        for _, line in ipairs(core.log) do if line == "done " .. c.id then answered = true end end
        if b and b.query:find("^mutation") and not answered then
          raised = true
          error("boom")
        end
      end
    end
    local jpath = dir .. "/journal"
    local items = {}
    for i = 1, 6 do items[i] = { path = paths[i], target = { run_step = 1 } } end
    local ok, results, summary = pcall(client.upload_many, client, items,
      { journal = jpath, window = 1, concurrency = 2 })
    assert.is_true(raised, "the stub raised while a registration was in flight")
    assert.is_true(ok, tostring(results))
    local doubt = 0
    for _, r in ipairs(results) do
      if not r.ok then
        assert.equal("aborted", r.err.code)
        if r.err.in_doubt then doubt = doubt + 1 end
      end
    end
    assert.is_true(doubt >= 1)
    assert.equal(doubt, journal_events(jpath).in_doubt)
    assert.equal(6, summary.ok + summary.failed)
  end)

  it("sends a registration document again after 429 (not processed)", function()
    local srv = stub.server()
    local n = 0
    srv.fault = function(body)
      if body.query:find("^mutation") then
        n = n + 1
        if n <= 2 then
          return { res = stub.json(429, { errors = { { message = "Too Many" } } }, { ["retry-after"] = "1" }) }
        end
      end
    end
    local client = stub.client(srv)
    local results = client:upload_many({ { path = paths[1], target = { run_step = 1 } } })
    assert.is_true(results[1].ok, tostring(results[1].err))
    assert.equal(3, (srv.count("createFileAttachment")))
    assert.equal(1, #srv.registered)
  end)

  it("never sends a registration document again after 503 (a proxy may answer it after the work)", function()
    local srv = stub.server()
    srv.fault = function(body)
      if body.query:find("^mutation") then
        return { res = stub.json(503, { errors = { { message = "Service Unavailable" } } }) }
      end
    end
    local client = stub.client(srv)
    local results, summary = client:upload_many({ { path = paths[1], target = { run_step = 1 } } })
    assert.is_false(results[1].ok)
    assert.is_true(results[1].err.in_doubt)
    assert.equal(1, (srv.count("createFileAttachment")))
    assert.equal(1, summary.failed)
  end)

  it("resumes from the journal: skips attached, registers PUT-only, re-uploads what storage lost", function()
    local srv = stub.server()
    srv.stored = {}
    local client = stub.client(srv)
    local jpath = dir .. "/journal"
    local items = {}
    for i = 1, 4 do items[i] = { path = paths[i], target = { run_step = 1 } } end
    -- A run that PUT everything but registered nothing (its registrations were refused as not processed).
    srv.fault = function(body)
      if body.query:find("^mutation") then return { res = stub.json(401, { errors = { { message = "expired" } } }) } end
    end
    local first = client:upload_many(items, { journal = jpath })
    for _, r in ipairs(first) do assert.equal("auth", r.err.code) end
    assert.equal(4, journal_events(jpath).put)
    srv.fault = nil
    -- Storage lost file 2's object.
    for k in pairs(srv.stored) do if k:find(paths[2]:match("[^/]+$"), 1, true) then srv.stored[k] = nil end end
    local puts_before = #srv.puts
    local results, summary = client:upload_many(items, { journal = jpath })
    for _, r in ipairs(results) do assert.is_true(r.ok, tostring(r.err)) end
    assert.equal(1, #srv.puts - puts_before) -- only file 2, again
    assert.equal(4, #srv.registered)
    assert.equal(1, journal_events(jpath).stale)
    assert.equal(4, summary.ok)
    local third, s3 = client:upload_many(items, { journal = jpath })
    for i, r in ipairs(third) do
      assert.is_true(r.skipped)
      assert.equal(results[i].attachment.id, r.attachment.id)
      assert.is_nil(r.attachment.downloadUrl)
    end
    assert.same({ 0, 4, 0 }, { s3.ok, s3.skipped, s3.failed })
  end)

  it("retries a PUT with a fresh URL after 403 expired and 503 SlowDown", function()
    local srv = stub.server()
    srv.put_fault = function(_, n)
      if n == 1 then
        return { status = 403, headers = {},
          body = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>" }
      end
      if n == 2 then
        return { status = 503, headers = {}, body = "<Error><Code>SlowDown</Code><Message>slow</Message></Error>" }
      end
    end
    local client = stub.client(srv)
    local results = client:upload_many({ { path = paths[1], target = { run_step = 1 } } })
    assert.is_true(results[1].ok, tostring(results[1].err))
    assert.equal(3, #srv.puts)
    local _, url_fields = srv.count("requestFileUploadUrl")
    assert.equal(3, url_fields)
  end)

  it("reports start, progress, done and error events", function()
    local srv = stub.server()
    local client = stub.client(srv)
    local seen = {}
    client:upload_many({
      { path = paths[1], target = { run_step = 1 } },
      { path = dir .. "/nope", target = { run_step = 1 } },
    }, { on_event = function(ev) seen[#seen + 1] = ev.type .. ":" .. ev.index end })
    assert.same({ "error:2", "start:1", "progress:1", "progress:1", "progress:1", "done:1" }, seen)
  end)

  it("an on_event that raises aborts the batch cleanly: the rest fail aborted, the journal holds", function()
    local srv = stub.server()
    local client = stub.client(srv, nil, { per_step = 1 })
    local jpath = dir .. "/journal"
    local items = {}
    for i, p in ipairs(paths) do items[i] = { path = p, target = { run_step = 1 } } end
    local done = 0
    local results, summary = client:upload_many(items, { journal = jpath, window = 2, concurrency = 2,
      on_event = function(ev)
        if ev.type == "done" then
          done = done + 1
          if done == 2 then error("display broke") end
        end
      end })
    assert.equal(7, #results)
    assert.equal(7, summary.ok + summary.failed + summary.skipped)
    local aborted = 0
    for _, r in ipairs(results) do
      if not r.ok then
        assert.equal("aborted", r.err.code)
        aborted = aborted + 1
      end
    end
    assert.is_true(aborted > 0)
    -- The journal reflects exactly what happened: a rerun finishes without duplicates.
    local again = client:upload_many(items, { journal = jpath })
    for _, r in ipairs(again) do assert.is_true(r.ok, tostring(r.err)) end
    assert.equal(7, #srv.registered)
  end)

  it("stops on an interrupt: the rest fail aborted", function()
    local srv = stub.server()
    local client, core = stub.client(srv, nil, { per_step = 1 })
    local items = {}
    for i, p in ipairs(paths) do items[i] = { path = p, target = { run_step = 1 } } end
    local results, summary = client:upload_many(items, { window = 2, concurrency = 1, on_event = function(ev)
      if ev.type == "done" then core.interrupt = true end
    end })
    assert.is_true(results[1].ok)
    assert.equal("aborted", results[7].err.code)
    assert.matches("interrupted", results[7].err.message)
    assert.is_true(summary.failed > 0)
  end)

  it("refuses bad options and an unknown option with bad_input", function()
    local client = stub.client(stub.server())
    for _, opts in ipairs({ { window = 0 }, { concurrency = 1.5 }, { journal = "" }, { colour = true },
      { on_event = 1 } }) do
      local r, err = client:upload_many({}, opts)
      assert.is_nil(r)
      assert.equal("bad_input", err.code)
    end
    assert.has_error(function() client:upload_many("a.txt") end)
  end)

  it("keeps presigned URLs and the token out of errors", function()
    local srv = stub.server()
    srv.put_fault = function()
      return { status = 400, headers = {}, body = "bad https://s3.test/b/k1?X-Amz-Signature=SIG1" }
    end
    local client = stub.client(srv)
    local results = client:upload_many({ { path = paths[1], target = { run_step = 1 } } })
    local text = tostring(results[1].err)
    assert.not_matches("SIG1", text, 1, true)
    assert.not_matches("tok_SECRET", text, 1, true)
  end)
end)
