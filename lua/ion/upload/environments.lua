-- ION's environments (reference/ion-api-facts.md): the API host, where the
-- GraphQL endpoint lives, and the auth server of the OAuth2 token endpoint.
local environments = {
  production = { api = "https://api.buildwithion.com", auth = "https://auth.buildwithion.com" },
  staging = { api = "https://staging-api.buildwithion.com", auth = "https://staging-auth.buildwithion.com" },
  ["gov-production"] = { api = "https://api-production-gov.buildwithion.com",
    auth = "https://auth-production-gov.buildwithion.com" },
  ["gov-staging"] = { api = "https://api-staging-gov.buildwithion.com",
    auth = "https://auth-staging-gov.buildwithion.com" },
  ["aus-production"] = { api = "https://api-production-aus.buildwithion.com",
    auth = "https://auth-production-aus.buildwithion.com" },
  ["aus-staging"] = { api = "https://api-staging-aus.buildwithion.com",
    auth = "https://auth-staging-aus.buildwithion.com" },
}

-- The token endpoint's path has two published forms: ION's manual keeps
-- Keycloak's old /auth prefix, ION's examples dropped it in 2024. The newer
-- form is tried first; the client tries the other once on a 404.
local TOKEN_PATH = "/realms/api-keys/protocol/openid-connect/token"

local M = {}

-- Private, for specs only (not part of the contract): the table above, so a
-- spec can add an environment that points at a loopback sandbox.
M._table = environments

function M.names()
  local names = {}
  for name in pairs(environments) do names[#names + 1] = name end
  table.sort(names)
  return names
end

-- { api =, endpoint =, auth_url =, auth_url_other = } of a named environment, or nil.
function M.get(name)
  local env = environments[name]
  if not env then return nil end
  return {
    api = env.api,
    endpoint = env.api .. "/graphql",
    auth_url = env.auth .. TOKEN_PATH,
    auth_url_other = env.auth .. "/auth" .. TOKEN_PATH,
  }
end

return M
