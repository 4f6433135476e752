-- ion.upload.graphql.literal: a where filter as a GraphQL input literal.
-- Pure unit spec (nothing sent); the round trip is checked by graphql-js's
-- own parser (the sandbox's node_modules), so "no injection" is judged by a
-- real GraphQL parser, not by our reading of the text.
local cjson = require("cjson")
local literal = require("ion.upload.graphql.literal")

-- graphql-js's reading of each literal, as plain values (enums as
-- { enum = NAME }), or the parser's error: one JSON line per literal.
local function parsed_by_graphql_js(texts)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  local input = dir .. "/in.json"
  local f = assert(io.open(input, "wb"))
  f:write(cjson.encode(texts))
  f:close()
  local script = [[
    const { parseValue, Kind } = require(process.argv[2]);
    const plain = (n) => n.kind === Kind.OBJECT
      ? Object.fromEntries(n.fields.map((f) => [f.name.value, plain(f.value)]))
      : n.kind === Kind.LIST ? n.values.map(plain)
      : n.kind === Kind.ENUM ? { enum: n.value }
      : n.kind === Kind.INT || n.kind === Kind.FLOAT ? Number(n.value)
      : n.kind === Kind.NULL ? null : n.value;
    for (const t of JSON.parse(require('fs').readFileSync(process.argv[3], 'utf8'))) {
      try { console.log(JSON.stringify({ ok: plain(parseValue(t)) })); }
      catch (e) { console.log(JSON.stringify({ error: String(e.message) })); }
    }]]
  local js = dir .. "/parse.js"
  f = assert(io.open(js, "wb"))
  f:write(script)
  f:close()
  local graphql = assert(io.popen("pwd")):read("*l") .. "/sandbox/node_modules/graphql"
  local p = assert(io.popen("node '" .. js .. "' '" .. graphql .. "' '" .. input .. "'"))
  local out = {}
  for line in p:lines() do out[#out + 1] = cjson.decode(line) end
  p:close()
  os.execute("rm -rf '" .. dir .. "'")
  return out
end

describe("graphql.literal", function()
  it("writes a filter with sorted keys, so that equal filters give equal text", function()
    local a = assert(literal.where({ revision = { eq = "B" }, partNumber = { eq = "PN-77" } }))
    local b = assert(literal.where({ partNumber = { eq = "PN-77" }, revision = { eq = "B" } }))
    assert.equal('{partNumber: {eq: "PN-77"}, revision: {eq: "B"}}', a)
    assert.equal(a, b)
  end)

  it("writes numbers, booleans, lists and enums", function()
    assert.equal('{id: {in: [1, 2, 3]}, status: {neq: IN_PROGRESS}, x: {eq: true}, y: {eq: 1.5}}',
      assert(literal.where({ id = { ["in"] = { 1, 2, 3 } }, status = { neq = literal.enum("IN_PROGRESS") },
        x = { eq = true }, y = { eq = 1.5 } })))
  end)

  it("keeps hostile titles as exactly one string value (checked by graphql-js's parser)", function()
    local titles = {
      'SN1" } }) { x: createFileAttachment(input: {}) { fileAttachment { id } } } #',
      "back\\slash \\\" and \\u0041",
      "new\nline\r\tand # not a comment",
      "\0nul and \127 del and \27[31m escape",
      "unicode: é 漢字 🚀",
      '"""block"""',
    }
    local texts = {}
    for i, t in ipairs(titles) do texts[i] = assert(literal.where({ title = { eq = t } })) end
    local got = parsed_by_graphql_js(texts)
    assert.equal(#titles, #got)
    for i, t in ipairs(titles) do
      assert.is_nil(got[i].error, texts[i])
      assert.same({ title = { eq = t } }, got[i].ok)
    end
  end)

  it("refuses keys that are not GraphQL names, before any traffic", function()
    for _, key in ipairs({ "title)", "a b", "1x", "", "é", "x\n", "eq: 1}, y" }) do
      local text, err = literal.where({ [key] = { eq = "x" } })
      assert.is_nil(text, key)
      assert.equal("bad_input", err.code)
      assert.matches("not a GraphQL name", err.message)
    end
    local _, err = literal.where({ title = { [1.5] = "x" } })
    assert.equal("bad_input", err.code)
  end)

  it("refuses functions, userdata, NaN and infinities as values", function()
    for _, v in ipairs({ print, io.stdout, 0 / 0, math.huge, -math.huge, coroutine.create(function() end) }) do
      local text, err = literal.where({ title = { eq = v } })
      assert.is_nil(text)
      assert.equal("bad_input", err.code)
      assert.matches("where%.title%.eq", err.message)
    end
  end)

  it("refuses an empty filter, which would match everything", function()
    for _, w in ipairs({ {}, { title = {} } }) do
      local _, err = literal.where(w)
      assert.equal("bad_input", err.code)
      assert.matches("empty", err.message)
    end
  end)

  it("refuses strings over 1,000 bytes and text that is not UTF-8", function()
    local _, err = literal.where({ title = { eq = string.rep("x", 10000) } })
    assert.equal("bad_input", err.code)
    assert.matches("10000 bytes", err.message)
    assert.truthy(literal.where({ title = { eq = string.rep("x", 1000) } }))
    for _, s in ipairs({ "\255", "\192\128", "\237\160\128", "ok\226\130" }) do
      local _, uerr = literal.where({ title = { eq = s } })
      assert.equal("bad_input", uerr.code)
      assert.matches("UTF%-8", uerr.message)
    end
  end)

  it("bounds depth and size, and refuses what is not a table", function()
    local deep = { eq = "x" }
    for _ = 1, 10 do deep = { a = deep } end
    local _, err = literal.where(deep)
    assert.matches("deeper", err.message)
    local wide = {}
    for i = 1, 200 do wide["f" .. i] = { eq = i } end
    _, err = literal.where(wide)
    assert.matches("more than", err.message)
    for _, w in ipairs({ "title=x", 3, { 1, 2 }, literal.enum("X") }) do
      local text, werr = literal.where(w)
      assert.is_nil(text)
      assert.equal("bad_input", werr.code)
    end
  end)

  it("upload.enum raises on a name that is not one (a misuse)", function()
    for _, n in ipairs({ "in progress", "1X", "true", "", 3 }) do
      assert.has_error(function() literal.enum(n) end)
    end
    assert.equal("IN_PROGRESS", tostring(literal.enum("IN_PROGRESS")))
  end)
end)
