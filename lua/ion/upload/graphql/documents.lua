-- Aliased GraphQL documents of the engine: many root fields in one request,
-- built from the per-field text of queries.fields (and targets.list), and
-- the answer split back into one outcome per alias.
--
-- Aliases are f1, f2, ... and variables $v1, $v2, ...: generated names only,
-- so every value travels as a variable and nothing is spliced into the text,
-- except a lookup's filter: `args`, written by ion.upload.graphql.literal
-- (keys checked as GraphQL names, strings escaped).
local cjson = require("cjson.safe")
local errors = require("ion.upload.errors")
local graphql = require("ion.upload.graphql.request")

local documents = {}

--- Builds one document. `operation` is "query" or "mutation"; `name` the
-- operation name; `entries` a list of { field = queries.fields.x, value = v }
-- or { field = { root =, selection = }, args = "filters: {…}, first: 2" }.
-- Returns { query =, variables =, aliases = { "f1", ... }, mutation = bool }.
function documents.build(operation, name, entries)
  if operation ~= "query" and operation ~= "mutation" then
    error("operation must be query or mutation", 2)
  end
  if #entries == 0 then error("a document needs at least one field", 2) end
  local header, body, variables, aliases = {}, {}, {}, {}
  for i, entry in ipairs(entries) do
    local f = entry.field
    local alias, var = "f" .. i, "v" .. i
    if entry.args then
      body[#body + 1] = string.format("  %s: %s(%s) %s", alias, f.root, entry.args, f.selection)
    elseif f.arg then
      header[#header + 1] = "$" .. var .. ": " .. f.type
      body[#body + 1] = string.format("  %s: %s(%s: $%s) %s", alias, f.root, f.arg, var, f.selection)
      variables[var] = entry.value
    else
      body[#body + 1] = string.format("  %s: %s %s", alias, f.root, f.selection)
    end
    aliases[i] = alias
  end
  local params = #header > 0 and "(" .. table.concat(header, ", ") .. ")" or ""
  return {
    query = string.format("%s %s%s {\n%s\n}", operation, name, params, table.concat(body, "\n")),
    variables = variables,
    aliases = aliases,
    mutation = operation == "mutation",
  }
end

--- From the answer to queries.fields.mutation_fields: true when
-- createFileAttachment is nullable (aliases fail alone), false when it is
-- NON_NULL (a failure nulls the whole answer), nil when the answer says neither.
function documents.independent_aliases(value)
  local mt = type(value) == "table" and value.mutationType
  local fields = type(mt) == "table" and mt.fields
  if type(fields) ~= "table" then return nil end
  for _, f in ipairs(fields) do
    if type(f) == "table" and f.name == "createFileAttachment" and type(f.type) == "table" then
      return f.type.kind ~= "NON_NULL"
    end
  end
  return nil
end

local function is_null(v)
  return v == nil or v == cjson.null
end

-- The error of one field, from its entry in errors[].
local function field_error(e)
  local message = type(e) == "table" and tostring(e.message) or tostring(e)
  return errors.new(graphql.classify(message), message, { errors = { e } })
end

local copy_error = errors.copy
local in_doubt = errors.in_doubt

--- Splits an answer into one outcome per alias, in alias order:
--   { value = v }      the field answered (v may be cjson.null for a nullable field)
--   { err = err }      the field failed; it did not take effect
--   { resend = true }  the field was not executed: send it again in a new document
--   { doubt = err }    a mutation field may have taken effect but its answer is lost
-- `data, err` is what graphql.map_response (or the transport) gave. Two shapes
-- of failure are handled: partial data (a nullable root: the failed alias is
-- null and has its own error) and `data: null` (a non-null root: one error
-- nulls everything; a mutation's fields run in order, so fields before the
-- failure ran, and fields after it may or may not have: all are in doubt).
function documents.outcomes(doc, data, err)
  local out = {}
  local n = #doc.aliases
  if data then
    for i, alias in ipairs(doc.aliases) do
      local v = data[alias]
      if v == nil and doc.mutation then
        out[i] = { doubt = in_doubt("protocol", "the answer has no field " .. alias) }
      elseif v == nil then
        out[i] = { resend = true }
      else
        out[i] = { value = v }
      end
    end
    return out
  end
  -- GraphQL-level errors come with HTTP 200; anything else failed as a whole.
  local list = err.status == 200 and type(err.errors) == "table" and err.errors or nil
  if not list then
    for i = 1, n do
      if err.in_doubt then
        out[i] = { doubt = copy_error(err) }
      else
        out[i] = { err = copy_error(err) }
      end
    end
    return out
  end
  local index = {}
  for i, alias in ipairs(doc.aliases) do index[alias] = i end
  local own, first, last = {}, nil, nil
  for _, e in ipairs(list) do
    local alias = type(e) == "table" and type(e.path) == "table" and e.path[1]
    local i = alias and index[alias]
    if i and not own[i] then
      own[i] = e
      first = math.min(first or i, i)
      last = math.max(last or i, i)
    end
  end
  local partial = type(err.data) == "table" and err.data or nil
  if partial then
    for i, alias in ipairs(doc.aliases) do
      local v = partial[alias]
      if not is_null(v) then
        out[i] = { value = v }
      elseif own[i] then
        out[i] = { err = field_error(own[i]) }
      elseif doc.mutation then
        out[i] = { doubt = in_doubt("protocol", "field " .. alias .. " answered null without an error") }
      elseif v ~= nil then
        out[i] = { value = v } -- a nullable query field that is null: "no such object"
      else
        out[i] = { resend = true }
      end
    end
    return out
  end
  if not first then
    -- errors[] without a field path and no data: the document did not run
    -- (validation, authentication): every field fails with that error.
    for i = 1, n do out[i] = { err = copy_error(err) } end
    return out
  end
  for i = 1, n do
    if own[i] then
      out[i] = { err = field_error(own[i]) }
    elseif doc.mutation then
      -- Fields before the failure ran; those after it MAY have been cancelled
      -- (GraphQL spec), so a server may have run them too: never resent.
      out[i] = { doubt = in_doubt("graphql", "registered in a document whose field " .. doc.aliases[last]
        .. " failed: the answer was lost with it (" .. tostring(own[last].message) .. ")") }
    else
      out[i] = { resend = true }
    end
  end
  return out
end

return documents
