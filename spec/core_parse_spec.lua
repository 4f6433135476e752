-- unit: the core's parsers of untrusted text (csrc/parse.c, fuzzed by
-- fuzz/*.c) as seen from Lua: messages never carry a URL's query or
-- userinfo, whatever the URL looks like. (No network: refused URLs, and a
-- port nothing listens on.)
local core = require("ion.upload.core")

describe("core parsers", function()
  it("a '://' after the query is no scheme: the query is still cut", function()
    local res, err = core.request({ url = "x?X-Amz-Signature=s3cr3tsig://h/p", timeout = 1 })
    assert.is_nil(res)
    assert.equal("bad_input", err.code)
    assert.is_nil(err.message:find("s3cr3tsig", 1, true), err.message)
    assert.truthy(err.message:find("?…", 1, true))
  end)

  it("userinfo holding an '@' is dropped up to the authority's last '@'", function()
    local res, err = core.request({ url = "http://us@er:pa55@word@127.0.0.1:9/graphql?X-Amz-Signature=q",
      timeout = 2, connect_timeout = 1 })
    assert.is_nil(res)
    assert.is_nil(err.message:find("pa55", 1, true), err.message)
    assert.is_nil(err.message:find("X-Amz", 1, true), err.message)
    assert.truthy(err.message:find("http://127.0.0.1:9/graphql?…", 1, true), err.message)
  end)
end)
