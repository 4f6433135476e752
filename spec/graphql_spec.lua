-- unit spec: GraphQL answers mapped onto error codes (core stubbed)
local graphql = require("ion.upload.graphql.request")
local stub = require("support.stub_core")

local function res(status, body, headers)
  return { status = status, body = body, headers = headers or { ["content-type"] = "application/json" } }
end

local HTML502 = "<html>\r\n<head><title>502 Bad Gateway</title></head><body></body></html>"

describe("ion.upload.graphql.request", function()
  describe("map_response", function()
    local cases = {
      { "401", res(401, '{"errors":[{"message":"Unauthorized: token expired"}]}'), "auth", false },
      { "403", res(403, '{"errors":[{"message":"Forbidden"}]}'), "permission_denied", false },
      { "429", res(429, '{"errors":[{"message":"Too Many Requests"}]}', { ["retry-after"] = "3" }),
        "rate_limited", true },
      { "500", res(500, '{"errors":[{"message":"Internal Server Error"}]}'), "http", true },
      { "502 HTML", res(502, HTML502, { ["content-type"] = "text/html" }), "http", true },
      { "503", res(503, '{"errors":[{"message":"Service Unavailable"}]}'), "http", true },
      { "400 validation", res(400, '{"errors":[{"message":"Cannot query field \\"x\\""}]}'), "graphql", false },
      -- no GraphQL API at this URL: not ION, whatever the body says (a sandbox's 404 is JSON)
      { "404 page", res(404, "not here", { ["content-type"] = "text/plain" }), "protocol", false },
      { "404 JSON", res(404, '{"errors":[{"message":"Not found: /x"}]}'), "protocol", false },
      { "405", res(405, "", { ["content-type"] = "text/plain" }), "protocol", false },
      { "200 HTML", res(200, HTML502, { ["content-type"] = "text/html" }), "protocol", false },
      { "200 bad JSON", res(200, '{"data": {'), "protocol", false },
      { "200 no data", res(200, '{"foo": 1}'), "protocol", false },
      { "200 errors[]", res(200, '{"data":null,"errors":[{"message":"Something broke","path":["x"]}]}'),
        "graphql", false },
      { "200 permission", res(200, '{"data":null,"errors":[{"message":"Permission denied: token may not attach"}]}'),
        "permission_denied", false },
    }
    for _, c in ipairs(cases) do
      it(c[1] .. " -> " .. c[3], function()
        local data, err = graphql.map_response(c[2])
        assert.is_nil(data)
        assert.equal(c[3], err.code)
        assert.equal(c[4], err.retryable)
        assert.equal(c[2].status, err.status)
        assert.is_string(err.hint)
      end)
    end

    it("keeps Retry-After", function()
      local _, err = graphql.map_response(res(429, "{}", { ["retry-after"] = "3" }))
      assert.equal(3, err.retry_after)
    end)

    it("returns data", function()
      assert.same({ a = 1 }, graphql.map_response(res(200, '{"data":{"a":1}}')))
    end)
  end)

  it("tells a mutation from a query", function()
    assert.is_true(graphql.is_mutation("  mutation M { x }"))
    assert.is_true(graphql.is_mutation("# note\nmutation{ x }"))
    assert.is_false(graphql.is_mutation("query Q { mutationCount }"))
    assert.is_false(graphql.is_mutation("{ x }"))
  end)

  -- Only a document whose one operation provably is a query is idempotent.
  local provable_queries = {
    "query { a }",
    "\239\187\191query Q { a }",
    ",,, query Q { a }",
    "# mutation { a }\n{ a }",
    "fragment F on Mutation { a }\nquery Q { ...F }",
    "query Q($x: In = {a: \"mutation {\"}) @d(s: \"\"\"\n}\\\"\"\"mutation\"\"\") { a(s: \"}\") { b } }",
    "query Q { a } fragment F on T { mutation }",
    "{ mutation: a }",
  }
  for _, q in ipairs(provable_queries) do
    it("takes as a query: " .. q:gsub("\n", "\\n"), function()
      assert.is_false(graphql.is_mutation(q))
    end)
  end
  local not_provable = {
    "fragment F on T { a }\nmutation M { ...F }",
    "\239\187\191mutation M { a }",
    "# query\nmutation M { a }",
    ", mutation M { a }",
    ",mutation{a}",
    "\tmutation\n{ a }",
    "\"\"\"doc\"\"\" mutation M { a }", -- a description: not executable, not provable
    "subscription S { a }",
    "query A { a } query B { b }",         -- several operations, no operationName
    "query A { a } mutation B { b }",
    "query Q { a } { b }",
    "query Q { a",                          -- unbalanced
    "query Q { a(s: \"} ) { b }",           -- unterminated string
    "query Q { a(s: \"\"\"}) { b }",       -- unterminated block string
    "fragment F on T { a }",                -- no operation
    "",
    "   # only a comment",
    "type Query { a: Int }",
    "query Q { a } ?",
    "QUERY Q { a }",
  }
  for _, q in ipairs(not_provable) do
    it("treats as not idempotent: " .. q:gsub("\n", "\\n"), function()
      assert.is_true(graphql.is_mutation(q))
    end)
  end

  it("classifies a long document in linear time", function()
    local t0 = os.clock()
    local parts = {}
    for i = 1, 20000 do parts[i] = "fragment F" .. i .. " on T { a(s: \"x\\\"y\", b: \"\"\"z\"\"\") # c\n }" end
    parts[#parts + 1] = "mutation M { a }"
    assert.is_true(graphql.is_mutation(table.concat(parts, "\n")))
    assert.is_true(graphql.is_mutation(string.rep("{", 200000)))
    assert.is_true(graphql.is_mutation("query Q { a(s: \"" .. string.rep("\\\"", 200000)))
    assert.is_true(os.clock() - t0 < 5 * require("support.slowdown"), "a hang guard only")
  end)

  it("sends JSON with the bearer token, variables apart from the query, the timeout set", function()
    local client, core = stub.client(stub.router(stub.happy()), { timeout = 7 })
    assert(client:graphql("query Q($id: Int!) { runStep(id: $id) { id entity { id } } }", { id = 5 }))
    local req = core.calls[1].req
    assert.equal("https://ion.test/graphql", req.url)
    assert.equal("POST", req.method)
    assert.equal("Bearer tok_SECRET_123", req.headers.Authorization)
    assert.equal("application/json", req.headers["Content-Type"])
    assert.equal(7, req.timeout)
    local _, vars, body = stub.decode(req)
    assert.same({ id = 5 }, vars)
    assert.not_matches("5", body.query:match("%b()", 10) or "", 1, true)
  end)

  it("sends everything over the client's session, a mutation marked never to be resent", function()
    local client, core = stub.client(stub.router(stub.happy(), stub.put_ok))
    assert(client:entity_id("run", 1))
    assert(client:register({ filename = "a.jpg", s3Key = "k", s3Etag = "e", entityId = "1" }))
    assert(client:graphql("query Q($id: Int!) { run(id: $id) { id entity { id } } }", { id = 2 }))
    assert.same({ "session", "session", "session" }, { core.calls[1].via, core.calls[2].via, core.calls[3].via })
    assert.same({ false, true, false }, { core.calls[1].req.no_resend == true,
      core.calls[2].req.no_resend == true, core.calls[3].req.no_resend == true })
  end)

  it("never lets the token into an error", function()
    local client = stub.client(function()
      return res(401, '{"errors":[{"message":"bad token tok_SECRET_123"}]}')
    end)
    local _, err = client:graphql("{ x }")
    assert.equal("auth", err.code)
    assert.not_matches("tok_SECRET_123", tostring(err), 1, true)
  end)

  it("maps a core failure (no connection) to network, retried", function()
    local n = 0
    local client, core = stub.client(function()
      n = n + 1
      if n < 3 then return nil, { code = "network", message = "Couldn't connect to server", curl_code = 7 } end
      return res(200, '{"data":{"ok":true}}')
    end)
    assert.same({ ok = true }, client:graphql("{ ok }"))
    assert.equal(2, #core.sleeps)
  end)

  it("maps a GraphQL-call timeout to timeout", function()
    local client = stub.client(function()
      return nil, { code = "timeout", message = "Operation timed out after 30000 ms", curl_code = 28 }
    end, { retries = 0 })
    local _, err = client:graphql("{ ok }")
    assert.equal("timeout", err.code)
    assert.is_true(err.retryable)
  end)
end)
