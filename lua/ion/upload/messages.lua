-- ION documents no error codes: GraphQL errors are told apart by their message.
-- Every pattern lives here (lower case, matched as plain substrings of the
-- lower-cased message) so that a change in ION's wording is a one-line fix.
local untrusted = require("ion.upload.untrusted")

local messages = {
  -- validateUpload refused the registration: the stored object does not match
  -- the s3Etag, or is not there at all.
  validate = { "etag mismatch", "not found" },
  -- createFileAttachment / an entity lookup named something that does not exist.
  entity_not_found = { "entity not found" },
  not_found = { "not found", "does not exist" },
  permission = { "permission", "not authorized", "forbidden", "access denied" },
  auth = { "unauthenticated", "not authenticated", "invalid token", "token expired",
    "token has expired" },
}

-- True when message contains one of the patterns of the named list (in its
-- first few KiB: a server's message is read no further).
function messages.matches(list_name, message)
  local list = messages[list_name]
  if type(message) ~= "string" or not list then return false end
  local m = untrusted.prefix(message, untrusted.max_text):lower()
  for _, p in ipairs(list) do
    if m:find(p, 1, true) then return true end
  end
  return false
end

return messages
