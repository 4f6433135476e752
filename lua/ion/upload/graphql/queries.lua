-- Every GraphQL document the client sends. Values always travel as variables;
-- nothing is ever spliced into these strings.
local targets = require("ion.upload.targets")

local queries = {
  request_upload_url = [[
query RequestUpload($filename: String!) {
  requestFileUploadUrl(filename: $filename) { uploadUrl s3Key contentType }
}]],

  create_file_attachment = [[
mutation RegisterUpload($input: CreateFileAttachmentInput!) {
  createFileAttachment(input: $input) {
    fileAttachment { id filename downloadUrl entityId s3Key contentType }
  }
}]],

  file_attachment = [[
query VerifyUpload($id: Int!) {
  fileAttachment(id: $id) { id filename downloadUrl entityId s3Key contentType }
}]],

  -- One root field each, for the engine's aliased documents (documents.lua
  -- builds "f1: root(arg: $v1) selection ..." from these): the same selections
  -- as the single documents above.
  fields = {
    request_upload_url = { root = "requestFileUploadUrl", arg = "filename", type = "String!",
      selection = "{ uploadUrl s3Key contentType }" },
    create_file_attachment = { root = "createFileAttachment", arg = "input", type = "CreateFileAttachmentInput!",
      selection = "{ fileAttachment { id filename downloadUrl entityId s3Key contentType } }" },
    -- Whether createFileAttachment is NON_NULL: if so, one failing alias nulls
    -- the whole answer (GraphQL's null propagation); if not, aliases fail alone.
    mutation_fields = { root = "__schema", selection = "{ mutationType { fields { name type { kind } } } }" },
  },
}

-- One lookup of entity { id } per target kind with a root field (from
-- ion.upload.targets): the document and the field of the answer's data.
queries.entity, queries.entity_field, queries.fields.entity = {}, {}, {}
for _, t in ipairs(targets.list) do
  if t.root then
    queries.entity[t.key] = string.format("query %sEntity($id: Int!) { %s(id: $id) %s }",
      (t.root:gsub("^%l", string.upper)), t.root, t.field.selection)
    queries.entity_field[t.key] = t.root
    queries.fields.entity[t.key] = t.field
  end
end

return queries
