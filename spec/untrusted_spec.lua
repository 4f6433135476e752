-- unit spec: every function that reads a server's text returns in time linear
-- in a bounded prefix, whatever the text. Each function gets adversarial
-- inputs of 1 MiB (the shapes that made patterns backtrack) in a child Lua
-- under `timeout`, so a hang fails the spec instead of hanging it; the
-- ceiling is only a hang guard. No network: responses are plain tables.
local interpreter = require("support.interpreter")
local files = require("support.files")

local MIB = 1024 * 1024

-- The adversarial inputs, as Lua source the child evaluates (1 MiB each).
local SHAPES = {
  spaces = 'string.rep(" ", MIB)',
  code_spaces = '"<Error><Code>" .. string.rep(" ", MIB)',
  message_spaces = '"<Error><Code>X</Code><Message>" .. string.rep(" ", MIB)',
  open_tags = 'rep("<Code>", MIB)',
  open_messages = 'rep("<Message><Code>", MIB)',
  bearer = 'rep("Bearer ", MIB)',
  bearer_spaces = '"Bearer" .. string.rep(" ", MIB)',
  bearer_token = 'rep("bearer token:", MIB)',
  bearer_token_marks = '"Bearer token" .. string.rep(".", MIB)',
  jwt = 'rep("eyJ", MIB)',
  jwt_dots = 'rep("eyJa.", MIB)',
  client_secret = 'rep("client_secret=", MIB)',
  secret_spaces = '"client_secret" .. string.rep(" ", MIB)',
  amz = 'rep("X-Amz-", MIB)',
  amz_encoded = 'rep("x%2Damz%2D", MIB)',
  scheme = 'rep("a://", MIB)',
  url_letters = '"http://" .. string.rep("a", MIB)',
  userinfo = 'rep("http://u@", MIB)',
  query = '"http://h/?" .. string.rep("?", MIB)',
  letters = 'string.rep("a", MIB)',
  digits_spaces = 'rep("1", MIB / 2) .. rep(" ", MIB / 2) .. "x"',
  digits = 'string.rep("1", MIB) .. "x"',
  digits_dots = 'rep("1.", MIB)',
  escapes = 'rep("\\27[2J\\r\\n", MIB)',
  percent = 'string.rep("%", MIB)',
}

-- Runs `call` (Lua source of a function(s) that uses the modules) on every
-- shape in a child Lua; returns the seconds per shape, or fails.
local function each_shape(prelude, call, ceiling)
  local dir = files.tmpdir()
  local lines = {
    'package.path = "lua/?.lua;" .. package.path',
    "local MIB = " .. MIB,
    "local function rep(unit, bytes) return string.rep(unit, math.floor(bytes / #unit)) end",
    prelude,
    "local call = " .. call,
  }
  for name, src in pairs(SHAPES) do
    lines[#lines + 1] = string.format("do local s = %s; local t = os.clock(); call(s); "
      .. "io.write(%q, ' ', os.clock() - t, '\\n'); io.flush() end", src, name)
  end
  local script = files.write(dir, "child.lua", table.concat(lines, "\n"))
  local out = dir .. "/out"
  local count = 0
  for _ in pairs(SHAPES) do count = count + 1 end
  -- the guard covers every shape: a loaded machine or a sanitizer's allocator
  -- slows each linear call, a backtracking one would take hours on 1 MiB
  local p = io.popen(string.format("timeout %d %s %s >%s 2>&1; echo $?", ceiling * count, interpreter,
    files.quote(script), files.quote(out)))
  local code = tonumber(p:read("*l"))
  p:close()
  local text = files.read(out) or ""
  files.rmdir(dir)
  assert.equal(0, code, "the child did not finish (124: hung); it wrote:\n" .. text:sub(1, 2000))
  local seconds, n = {}, 0
  for name, s in text:gmatch("(%S+) (%S+)\n") do
    seconds[name] = tonumber(s)
    n = n + 1
    assert.is_true(seconds[name] < ceiling, name .. " took " .. s .. " s")
  end
  local want = 0
  for _ in pairs(SHAPES) do want = want + 1 end
  assert.equal(want, n, text:sub(1, 2000))
  return seconds
end

describe("server text is read in bounded, linear time", function()
  local CEILING = 10 -- seconds per call: a hang guard, not a benchmark (linear calls take < 1 s)

  it("storage.s3_error and storage.map_status (body and Retry-After)", function()
    each_shape('local storage = require("ion.upload.storage")', [[function(s)
      storage.s3_error(s)
      for _, status in ipairs({ 403, 500, 503 }) do
        local e = storage.map_status({ status = status, body = s, headers = { ["retry-after"] = s } })
        assert(#e.message < 1100 and #(e.s3_code or "") <= 64)
      end
      storage.map_status({ status = 503, body = "<Error><Code>SlowDown</Code></Error>",
        headers = { ["retry-after"] = s } })
    end]], CEILING)
  end)

  it("retry.parse_retry_after", function()
    each_shape('local retry = require("ion.upload.retry")', [[function(s)
      assert(retry.parse_retry_after(s) == nil)
      retry.parse_retry_after("1" .. s)
      retry.parse_retry_after(s .. "1")
    end]], CEILING)
  end)

  it("errors.scrub, errors.new and errors.scrubbed (secrets given, deep errors/data)", function()
    each_shape('local errors = require("ion.upload.errors")', [[function(s)
      errors.scrub(s, { "secret-value", "a://a", "    ", "Bearer " })
      local e = errors.new("graphql", s, { errors = { { message = s, path = { s } } }, data = { f1 = { x = s } } })
      assert(#e.message < 1100)
      errors.scrubbed(e, { "secret-value", "eyJeyJ" })
    end]], CEILING)
  end)

  it("graphql.map_response (HTML check, messages, classify) and messages.matches", function()
    each_shape([[local graphql = require("ion.upload.graphql.request")
      local messages = require("ion.upload.messages")
      local cjson = require("cjson")]], [[function(s)
      for _, status in ipairs({ 200, 400, 401, 429, 500 }) do
        graphql.map_response({ status = status, body = s, headers = { ["content-type"] = s, ["retry-after"] = s } })
        local body = cjson.encode({ errors = { { message = s }, { message = s } }, data = cjson.null })
        local _, e = graphql.map_response({ status = status, body = body, headers = {} })
        assert(#e.message < 1100)
      end
      messages.matches("not_found", s)
      graphql.classify(s)
    end]], CEILING)
  end)

  it("the CLI's lines: escapes and errors", function()
    each_shape([[local output = require("ion.upload.cli.output")
      local errors = require("ion.upload.errors")]], [[function(s)
      local line = output.plain_line(s, { ok = true, attachment = { id = s, entityId = s, size = 1 } })
      assert(not line:find("\27", 1, true))
      output.plain_line(s, { ok = false, err = errors.new("http", s) })
      output.printable(s)
    end]], CEILING)
  end)
end)

describe("ion.upload.untrusted", function()
  local untrusted = require("ion.upload.untrusted")

  it("takes an id only as a whole number or a string of digits", function()
    assert.equal(4242, untrusted.id(4242))
    assert.equal(4242, untrusted.id(4242.0))
    assert.equal("0042", untrusted.id("0042"))
    for _, bad in ipairs({ 0 / 0, math.huge, -math.huge, 1.5, -1, 2 ^ 53, "", "12a", "1e3", " 1", "7\27[2J",
      string.rep("1", 33), true, {} }) do
      assert.is_nil(untrusted.id(bad), tostring(bad))
    end
  end)

  it("trims and reads elements without patterns that backtrack", function()
    assert.equal("a b", untrusted.trim(" \t a b \n"))
    assert.equal("", untrusted.trim("   "))
    assert.equal("v", untrusted.element("<a><N>v</N></a>", "N"))
    assert.is_nil(untrusted.element("<N>v", "N"))
  end)
end)
