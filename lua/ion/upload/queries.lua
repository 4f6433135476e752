-- Every GraphQL document the client sends. Values always travel as variables;
-- nothing is ever spliced into these strings.
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

  -- entity { id } of each attachment target, by target key of the Lua API.
  entity = {
    run_step = [[
query RunStepEntity($id: Int!) { runStep(id: $id) { id entity { id } } }]],
    run = [[
query RunEntity($id: Int!) { run(id: $id) { id entity { id } } }]],
    procedure = [[
query ProcedureEntity($id: Int!) { procedure(id: $id) { id entity { id } } }]],
    step = [[
query StepEntity($id: Int!) { step(id: $id) { id entity { id } } }]],
    part = [[
query PartEntity($id: Int!) { part(id: $id) { id entity { id } } }]],
    run_step_field = [[
query RunStepFieldEntity($id: Int!) { runStepField(id: $id) { id entity { id } } }]],
  },

  -- The field of the answer's data that each entity query fills.
  entity_field = {
    run_step = "runStep", run = "run", procedure = "procedure",
    step = "step", part = "part", run_step_field = "runStepField",
  },

  -- One root field each, for the batch's aliased documents (batch_documents.lua
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
    entity = {
      run_step = { root = "runStep", arg = "id", type = "Int!", selection = "{ id entity { id } }" },
      run = { root = "run", arg = "id", type = "Int!", selection = "{ id entity { id } }" },
      procedure = { root = "procedure", arg = "id", type = "Int!", selection = "{ id entity { id } }" },
      step = { root = "step", arg = "id", type = "Int!", selection = "{ id entity { id } }" },
      part = { root = "part", arg = "id", type = "Int!", selection = "{ id entity { id } }" },
      run_step_field = { root = "runStepField", arg = "id", type = "Int!", selection = "{ id entity { id } }" },
    },
  },
}

return queries
