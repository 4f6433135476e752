-- What createFileAttachment answers, read the same way for client:register
-- and for a job's registration documents: the attachment checked (its ids
-- are ids), the refusals given the code their message deserves, and an answer
-- without fileAttachment { id } in doubt (it may have registered).
local cjson = require("cjson.safe")
local errors = require("ion.upload.errors")
local messages = require("ion.upload.messages")
local targets = require("ion.upload.targets")
local untrusted = require("ion.upload.untrusted")

local registration = {}

local function str_or_nil(v)
  if v == nil or v == cjson.null then return nil end
  return tostring(v)
end

--- The attachment table of a FileAttachment answer | nil, why. Its id (and
-- entityId, when given) must be ids (untrusted.id: a whole number or a string
-- of digits, never NaN or 1e999, which the journal could not even write).
function registration.attachment_of(fa)
  local id = untrusted.id(fa.id)
  if id == nil then return nil, "fileAttachment.id that is no whole number or string of digits" end
  local entity_id = nil
  if fa.entityId ~= nil and fa.entityId ~= cjson.null then
    local e = untrusted.id(fa.entityId)
    if e == nil then return nil, "fileAttachment.entityId that is no whole number or string of digits" end
    entity_id = targets.entity_id_string(e)
  end
  return {
    id = id,
    filename = str_or_nil(fa.filename),
    downloadUrl = str_or_nil(fa.downloadUrl),
    entityId = entity_id,
    s3Key = str_or_nil(fa.s3Key),
    contentType = str_or_nil(fa.contentType),
  }
end

--- A registration refused by ION, with the code its message deserves (in place).
function registration.refusal(err, validate)
  if err.code == "graphql" then
    if messages.matches("entity_not_found", err.message) then
      err.code, err.hint = "not_found", errors.hints.not_found
    elseif validate and messages.matches("validate", err.message) then
      err.code, err.hint = "etag_mismatch", errors.hints.etag_mismatch
    elseif messages.matches("not_found", err.message) then
      err.code, err.hint = "not_found", errors.hints.not_found
    end
  end
  return err
end

--- The attachment of one createFileAttachment payload | nil, err in doubt
-- (the server answered, but not with an attachment we can trust: it may
-- have registered one).
function registration.answer(payload)
  local fa = type(payload) == "table" and payload.fileAttachment
  if type(fa) ~= "table" or fa.id == nil or fa.id == cjson.null then
    return nil, errors.in_doubt("protocol", "createFileAttachment answered without fileAttachment { id }")
  end
  local att, why = registration.attachment_of(fa)
  if not att then return nil, errors.in_doubt("protocol", "createFileAttachment answered a " .. why) end
  return att
end

--- The attachment a registration made, completed with what the client knows:
-- the PUT's etag, size and MD5, and the s3Key when the answer left it out.
function registration.complete(att, put)
  att.etag, att.size, att.md5 = put.etag, put.size, put.md5
  att.sha256 = put.sha256 -- only when asked for (sha256 = true)
  if att.s3Key == nil then att.s3Key = put.s3Key end
  return att
end

return registration
