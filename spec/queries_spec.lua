-- unit spec: the query table (no network)
local queries = require("ion.upload.graphql.queries")

local function documents()
  local out = {}
  for name, q in pairs(queries) do
    if type(q) == "string" then out[name] = q end
  end
  for kind, q in pairs(queries.entity) do out["entity." .. kind] = q end
  return out
end

-- The schema subset the sandbox serves: root fields and their argument types.
local roots = {
  requestFileUploadUrl = "filename: String!", fileAttachment = "id: Int!", runStep = "id: Int!",
  run = "id: Int!", procedure = "id: Int!", step = "id: Int!", part = "id: Int!",
  runStepField = "id: Int!", createFileAttachment = "input: CreateFileAttachmentInput!",
}

describe("ion.upload.graphql.queries", function()
  it("holds every document in one table", function()
    local n = 0
    for _ in pairs(documents()) do n = n + 1 end
    assert.equal(9, n)
  end)

  for name, q in pairs(documents()) do
    describe(name, function()
      it("is a named operation with balanced braces", function()
        assert.matches("^%s*(%a+)%s+%u%w*%(", q)
        local open, close = select(2, q:gsub("{", "")), select(2, q:gsub("}", ""))
        assert.equal(open, close)
      end)

      it("carries values only as variables: no literal strings or numbers", function()
        assert.not_matches('"', q, 1, true)
        for args in q:gmatch("[%w_]+%s*(%b())") do
          local inner = args:sub(2, -2)
          for value in inner:gmatch(":%s*([^,%s)]+)") do
            -- in the operation's header a value is a type; in a field, a $variable
            assert.truthy(value:match("^%$") or value:match("^%u[%w_]*!?$"), name .. ": " .. value)
          end
        end
      end)

      it("declares each variable it uses and uses each it declares, with the schema's types", function()
        local header = q:match("^%s*%a+%s+[%w_]+(%b())")
        local declared = {}
        for var, ty in header:gmatch("%$([%w_]+)%s*:%s*([%w_!%[%]]+)") do declared[var] = ty end
        local body = q:sub((q:find("{", 1, true)))
        local used = {}
        for var in body:gmatch("%$([%w_]+)") do used[var] = true end
        for var in pairs(declared) do assert.truthy(used[var], "unused $" .. var) end
        for var in pairs(used) do assert.truthy(declared[var], "undeclared $" .. var) end
        local root, arg, var = body:match("{%s*([%w_]+)%s*%(%s*([%w_]+)%s*:%s*%$([%w_]+)")
        assert.truthy(roots[root], "root field " .. tostring(root))
        assert.equal(roots[root], arg .. ": " .. declared[var])
      end)
    end)
  end

  it("asks each entity lookup for entity { id } of the field named in entity_field", function()
    for kind, q in pairs(queries.entity) do
      local field = queries.entity_field[kind]
      assert.matches("{%s*" .. field .. "%(", q)
      assert.matches("entity%s*{%s*id%s*}", q)
    end
  end)

  it("reads back everything the attachment needs", function()
    for _, q in ipairs({ queries.create_file_attachment, queries.file_attachment }) do
      for _, f in ipairs({ "id", "filename", "downloadUrl", "entityId", "s3Key" }) do
        assert.matches("%f[%w]" .. f .. "%f[^%w]", q)
      end
    end
  end)

  it("matches the schema the sandbox serves", function()
    local f = assert(io.open("sandbox/schema.graphql"))
    local schema = f:read("*a")
    f:close()
    for root, arg in pairs(roots) do
      assert.matches(root .. "(" .. arg, schema, 1, true)
    end
  end)
end)
